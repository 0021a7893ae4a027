"""clip_source: confirm the original is a video (decodable, or metadata-only with the reason), checksum it,
record every path it was seen at."""

import os
import time
from datetime import datetime, timezone
from pathlib import Path

from dagster import AssetExecutionContext, Failure, MetadataValue, Output

from catalog_assets.metadata import clip_output
from catalog_assets.partitions import clip_asset, clip_ids
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.media.fingerprint import full_hashes, sampled_fingerprint
from catalog_resources.models.clips import ClipSource, FingerprintCollision, SourcePath
from catalog_resources.media.container import probe_container
from catalog_resources.media.decode_check import first_decodable_frame
from catalog_resources.media.extent import plausible_claim
from catalog_resources.media.pyav import measured_duration
from catalog_resources.work.cpu import StepClock


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=timezone.utc)


def _unchanged(source: SourcePath | None, st: os.stat_result) -> bool:
    return source is not None and source.md5 is not None and source.size_bytes == st.st_size and source.mtime == _mtime(st)


def _same_content(path: str, st: os.stat_result, clip_id: str, key: bytes) -> bool:
    """Does the file at `path` still hold the content `clip_id` names (its sampled fingerprint, keyed as the
    user's own ids are: store/owners.py)?"""
    try:
        return sampled_fingerprint(Path(path), st.st_size, key) == clip_id
    except OSError:
        return False


def _still(path: str, before: os.stat_result, clip_id: str, key: bytes) -> bool:
    """Unchanged while it was hashed: same size and mtime, and still the content the id names."""
    try:
        after = os.stat(path)
    except OSError:
        return False
    same_stat = (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    return same_stat and _same_content(path, after, clip_id, key)


def _changed_message(path: str, clip_id: str) -> str:
    return (f"{path}: the file changed while being cataloged (it no longer holds the content of clip {clip_id}); "
            "the next ingest catalogs its new content under its own id")


def verify_clip(clip_id: str, catalog: CatalogResource) -> ClipSource:
    """Build the clip's source model; reuses checksums of paths whose size and mtime did not change."""
    now = datetime.now(timezone.utc)
    previous = {s.path: s for s in catalog.known_clips([clip_id]).get(clip_id, [])}
    known = catalog.clip_row(clip_id)
    key = catalog.fingerprint_key()
    candidates = [f.path for f in catalog.paths_for_fingerprint(clip_id)]
    candidates += [p for p in previous if p not in candidates]
    online: list[tuple[str, os.stat_result]] = []
    changed: list[str] = []
    for path in candidates:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not _unchanged(previous.get(path), st) and not _same_content(path, st, clip_id, key):
            changed.append(path)  # replaced since the scan: its new content is another clip
            continue
        online.append((path, st))
    if not online and changed:
        raise Failure(description=_changed_message(changed[0], clip_id))
    if not online:
        where = ", ".join(candidates) or "nowhere"
        raise Failure(description=f"clip {clip_id}: no copy is online (last seen at {where})")

    started = time.monotonic()
    primary_path, primary_stat = online[0]
    if known is not None and _unchanged(previous.get(primary_path), primary_stat):
        md5, fast = known["md5"], known["fast_hash"]
    else:
        try:
            md5, fast = full_hashes(Path(primary_path))
        except OSError as exc:
            raise Failure(description=f"{primary_path}: cannot read ({exc.strerror or exc})") from exc
        if not _still(primary_path, primary_stat, clip_id, key):  # the MD5 must be of the content the id stands for
            raise Failure(description=_changed_message(primary_path, clip_id))
    try:
        # no frame decoding here (RED, BRAW, a fragment) is no failure: the clip is cataloged by its metadata
        pts, metadata_only = first_decodable_frame(Path(primary_path))
    except ValueError as exc:
        raise Failure(description=str(exc), metadata={"path": primary_path}) from exc
    probe = probe_container(Path(primary_path))  # MediaInfo's facts when ffmpeg cannot open the file
    duration, disagreement = measured_duration(Path(primary_path))  # a header's claim is not believed blindly
    if duration is None and disagreement is None:  # nothing PyAV can read: the only figure is the header's
        duration, disagreement = plausible_claim(probe.duration_seconds, primary_stat.st_size)

    sources: list[SourcePath] = []
    collisions: list[FingerprintCollision] = []
    for path, st in online:
        old = previous.get(path)
        if path == primary_path:
            path_md5 = md5
        elif _unchanged(old, st):
            path_md5 = old.md5
        else:
            path_md5, _ = full_hashes(Path(path))
        if path_md5 != md5:
            collisions.append(
                FingerprintCollision(
                    path=path,
                    md5=path_md5,
                    reason=f"same sampled fingerprint as {primary_path} but different MD5; kept apart, not merged",
                )
            )
            continue
        sources.append(
            SourcePath(
                path=path, size_bytes=st.st_size, mtime=_mtime(st), md5=md5,
                first_seen=old.first_seen if old else now, last_seen=now, online=True,
            )
        )
    listed = {s.path for s in sources} | {c.path for c in collisions}
    for path, old in previous.items():
        if path not in listed:
            sources.append(old.model_copy(update={"online": False}))

    return ClipSource(
        clip_id=clip_id,
        file_name=Path(primary_path).name,
        path=primary_path,
        size_bytes=primary_stat.st_size,
        md5=md5,
        fast_hash=fast,
        fingerprint=clip_id,
        container=probe.container,
        duration_seconds=duration,
        video_codec=probe.video_codec,
        width=probe.width,
        height=probe.height,
        frame_rate=probe.frame_rate,
        has_audio=probe.has_audio,
        first_frame_pts=pts,
        metadata_only=metadata_only,
        duration_note=disagreement,
        sources=sources,
        collisions=collisions,
        hash_seconds=time.monotonic() - started,
    )


def _clip_metadata(clip: ClipSource) -> dict[str, object]:
    """What the UI shows on this clip's clip_source materialization."""
    return {
        "file_name": clip.file_name,
        "path": MetadataValue.path(clip.path),
        "md5": clip.md5,
        "size_bytes": clip.size_bytes,
        "duration_seconds": round(clip.duration_seconds or 0.0, 3),
        "codec": clip.video_codec or "",
        "resolution": f"{clip.width}x{clip.height}" if clip.width else "",
        "hash_seconds": round(clip.hash_seconds, 3),
        "copies": len([s for s in clip.sources if s.online]),
        "collisions": len(clip.collisions),
        "metadata_only": clip.metadata_only or "",
    }


@clip_asset(
    code_version="1",
    group_name="ingest",
    kinds={"python", "postgres"},
    required=True,
)
def clip_source(context: AssetExecutionContext, catalog: CatalogResource) -> Output[dict[str, ClipSource]]:
    """Confirms each original is a decodable video (PyAV decodes its first frame; when none decodes here the
    clip is cataloged metadata-only, with the reason), measures its duration from packets rather than trusting
    the header, computes the full MD5 (dedup key) and xxh3-128, and records every path the clip was seen at.
    Never writes to the original."""
    started = StepClock.start()
    results: dict[str, ClipSource] = {}
    for clip_id in clip_ids(context.partition_keys):
        clip = verify_clip(clip_id, catalog)
        for collision in clip.collisions:
            context.log.warning(f"fingerprint collision: {collision.path}: {collision.reason}")
        if clip.duration_note:
            context.log.warning(f"{clip.path}: {clip.duration_note}")
        if clip.metadata_only:
            context.log.warning(f"{clip.path}: {clip.metadata_only}")
        results[clip_id] = clip
    return clip_output(
        context, results, _clip_metadata, started=started, content=lambda c: f"md5:{c.md5}",
        totals={
            "bytes_hashed": sum(c.size_bytes for c in results.values()),
            "footage_seconds": round(sum(c.duration_seconds or 0 for c in results.values()), 3),
            "hash_seconds": round(sum(c.hash_seconds for c in results.values()), 3),
            "collisions": sum(len(c.collisions) for c in results.values()),
        },
    )
