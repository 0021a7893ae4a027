"""Keeping the catalog true to the disk: `verify` (re-hash the originals), `relink` (a drive mounted elsewhere)
and `forget` (remove clips from the catalog, never their originals). Only `forget` imports Dagster."""

from __future__ import annotations

import json
import shutil
import sys
from typing import Annotated

import typer

from catalog_cli.common import catalog_app, catalog_db, cli_settings, fail, handles_errors, one_clip
from catalog_cli.errors import EXIT_FAILED, EXIT_OK
from catalog_cli.render import err, out
from catalog_cli.render.text import count, literal, visible


def _verify_targets(store, path: str | None, everything: bool) -> list[dict]:
    from catalog_resources.maintenance.relink import normalize_prefix
    from catalog_resources.store.files_check import recorded_sources

    if everything == (path is not None):
        fail("give a PATH (a file or folder) or --all")
    if everything:
        return recorded_sources(store)
    rows = recorded_sources(store, normalize_prefix(path))
    if rows:
        return rows
    matches = store.resolve_clip(path)  # a clip id, prefix or partition key works too
    if len(matches) == 1:
        return recorded_sources(store, clip_ids=matches)
    if len(matches) > 1:
        fail(f"{path}: ambiguous, matches {', '.join(matches)}; give the path or more of the id")
    fail(f"{path}: no cataloged clip was recorded at or under this path (see `video-catalog list`)")
    return []


@handles_errors
def verify(
    path: Annotated[str | None, typer.Argument(help="A file or folder whose cataloged clips to check (or a clip id).")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Check every recorded path of every clip.")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="Compare the sampled fingerprint (192 KiB a file) instead of re-reading every byte.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one object per path: clip_id, path, state, reason.")] = False,
) -> None:
    """Re-hash cataloged originals and report the ones that changed, vanished or rotted.

    States: ok, changed (other content, size or time moved), rotted (other content, same size and time),
    missing (file gone, folder there), offline (folder gone: a drive not mounted; not a failure), unreadable.

    Examples:
      video-catalog verify ~/Footage/2024
      video-catalog verify --all --json
      video-catalog verify --all --quick

    Exit codes: 0 everything checked is ok (or offline), 1 something changed, vanished, rotted or is unreadable,
    2 usage or environment error.
    """
    from catalog_resources.maintenance.verify import PROBLEMS, check_source

    store = catalog_db()[1]
    key = store.fingerprint_key()
    checks = [check_source(row, quick, key) for row in _verify_targets(store, path, everything)]
    wrong = [c for c in checks if c.state in PROBLEMS]
    if as_json:
        print(json.dumps([c.model_dump() for c in checks], indent=2))
    else:
        for c in checks:
            if c.state != "ok":
                out.print(f"{c.state:<10} {visible(c.path)} (clip {c.clip_id}): {visible(c.reason)}", markup=False,
                          highlight=False)
        tally = {s: sum(c.state == s for c in checks) for s in ("ok", "changed", "rotted", "missing", "offline", "unreadable")}
        out.print(f"{count(len(checks), 'path')} checked: " + ", ".join(f"{n} {s}" for s, n in tally.items() if n),
                  markup=False, highlight=False)
    raise typer.Exit(EXIT_FAILED if wrong else EXIT_OK)


@handles_errors
def relink(
    old_prefix: Annotated[str, typer.Argument(help="The folder the clips were cataloged under, e.g. /Volumes/Shoot.")],
    new_prefix: Annotated[str, typer.Argument(help="Where the same files are now, e.g. /mnt/shoot.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would be relinked.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one object per path: clip_id, old, new, state, reason.")] = False,
) -> None:
    """Point clips at their files' new place, e.g. a drive mounted elsewhere; nothing is re-processed.

    Each new path must hold the same content (its fingerprint is checked); only the paths change, in the
    catalog's rows and its sidecars.

    Examples:
      video-catalog relink /Volumes/Shoot /mnt/shoot --dry-run
      video-catalog relink /media/old-disk/footage /media/new-disk/footage

    Exit codes: 0 every path relinked, 1 some new paths are missing or hold other content (the rest relinked),
    2 usage error (nothing cataloged under OLD_PREFIX).
    """
    from catalog_resources.maintenance.relink import check_move, normalize_prefix, rewrite_sidecars
    from catalog_resources.store.files_check import recorded_sources
    from catalog_resources.store.relink import relink_paths

    old, new = normalize_prefix(old_prefix), normalize_prefix(new_prefix)
    if old == new:
        fail("OLD_PREFIX and NEW_PREFIX are the same folder")
    store = catalog_db()[1]
    rows = recorded_sources(store, old)
    if not rows:
        fail(f"no cataloged path is at or under {old}")
    key = store.fingerprint_key()
    moves = [check_move(row, old, new, key) for row in rows]
    good = [m for m in moves if m.state == "would relink"]
    if not dry_run and good:
        relink_paths(store, [(m.clip_id, m.old, m.new) for m in good])
        media_dir = cli_settings().media_dir
        for clip_id in sorted({m.clip_id for m in good}):
            rewrite_sidecars(media_dir, clip_id, {m.old: m.new for m in good if m.clip_id == clip_id})
        moves = [m.model_copy(update={"state": "relinked"}) if m.state == "would relink" else m for m in moves]
    if as_json:
        print(json.dumps({"dry_run": dry_run, "paths": [m.model_dump() for m in moves]}, indent=2))
    else:
        for m in moves:
            detail = f": {m.reason}" if m.reason else ""
            out.print(f"{m.state:<17} {visible(m.old)} -> {visible(m.new)}{visible(detail)}", markup=False, highlight=False)
        verb = "would relink" if dry_run else "relinked"
        out.print(f"{verb} {len(good)} of {count(len(moves), 'path')}", markup=False, highlight=False)
    raise typer.Exit(EXIT_OK if len(good) == len(moves) else EXIT_FAILED)


@handles_errors
def forget(
    clips: Annotated[list[str], typer.Argument(help="Clip ids, id prefixes, paths, file names or partition keys.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was removed as JSON.")] = False,
) -> None:
    """Remove clips from the catalog; the original files are never touched.

    Removes their rows, their media store folder (proxy, thumbnails, sidecars) and their Dagster partitions;
    `ingest` catalogs the files again. Asks for confirmation unless --yes.

    Examples:
      video-catalog forget 3f9a2c1d
      video-catalog forget ~/Footage/test1.mov ~/Footage/test2.mov --yes
    """
    from catalog_resources.store.files_check import delete_clips

    store = catalog_db()[1]
    clip_ids = list(dict.fromkeys(one_clip(store, ref) for ref in clips))
    names = {cid: (store.clip_row(cid) or {}).get("path", "") for cid in clip_ids}
    if not yes:
        if not sys.stdin.isatty():
            fail(f"forget {count(len(clip_ids), 'clip')}: confirm with --yes (no terminal to ask on)")
        for cid in clip_ids:
            err.print(f"  {cid}  {literal(names[cid])}", highlight=False)
        if not typer.confirm(f"Forget {count(len(clip_ids), 'clip')} (the originals stay)?", err=True):
            fail("nothing forgotten", EXIT_FAILED)
    media_dir = cli_settings().media_dir.resolve()
    # partitions first: if Dagster's storage fails, the rows are still there and the same command finishes later
    partitions = _forget_partitions(clip_ids)
    removed_rows = delete_clips(store, clip_ids)
    folders = []
    for cid in clip_ids:
        folder = (media_dir / cid).resolve()
        if folder.parent == media_dir and folder.is_dir():  # only the store's own folder, never an original
            shutil.rmtree(folder)
            folders.append(str(folder))
    if as_json:
        print(json.dumps({"clips": clip_ids, "paths": names, "media_folders": folders, "partitions": partitions}, indent=2))
        return
    out.print(f"forgot {count(removed_rows, 'clip')} ({count(len(folders), 'media folder')}, "
              f"{count(len(partitions), 'partition')} removed; originals untouched)", markup=False, highlight=False)


def _forget_partitions(clip_ids: list[str]) -> list[str]:
    from catalog_assets.partitions import forget_partitions

    return forget_partitions(catalog_app().instance, clip_ids)
