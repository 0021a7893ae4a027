"""`video-catalog people`: the people the faces and speakers steps found across the catalog (a face, a voice or
both); name, merge, split, forget.

Read commands (list, show) take --json. None of these commands imports Dagster or dlib.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from catalog_cli.common import catalog_db, cli_settings, fail, handles_errors
from catalog_cli.render import err, out
from catalog_cli.render.tables import duration_text
from catalog_cli.render.text import LiteralTable, count, literal

people_app = typer.Typer(
    help="People across footage: faces (the faces step) and voices (the speakers step), one person each "
         "(personal data; VIDEO_CATALOG_FACES=0 / VIDEO_CATALOG_SPEAKERS=0 turn them off).",
    no_args_is_help=True,
)


def _label(person) -> str:
    return f"{person.person_id} ({person.name})" if person.name else str(person.person_id)


def _ranges(ranges) -> str:
    return ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in ranges)


@people_app.command("list")
@handles_errors
def list_people(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array with stable keys.")] = False,
) -> None:
    """Everyone found in the catalog: clips, face tracks, total screen time, voices and speaking time, and a face
    thumbnail each.

    Examples:
      video-catalog people list
      video-catalog people list --json | jq '.[] | select(.name == null)'
    """
    people = catalog_db()[1].people_summaries()
    if as_json:
        print(json.dumps([p.model_dump() for p in people], indent=2, default=str))
        return
    if not people:
        settings = cli_settings()
        off = [f"the {step} step is off (VIDEO_CATALOG_{step.upper()}=0)" for step, on in
               (("faces", settings.faces), ("speakers", settings.speakers)) if not on]
        err.print("No people found yet." + (f" {'; '.join(off).capitalize()}." if off else ""), highlight=False)
        return
    table = LiteralTable(title=count(len(people), "person"), header_style="bold")
    numbers = ("clips", "tracks", "on screen", "voices", "speaking")
    for column in ("person", "name", *numbers, "face"):
        table.add_column(column, overflow="fold", justify="right" if column in numbers else "left")
    for p in people:
        table.add_row(str(p.person_id), p.name or "-", str(p.clips), str(p.tracks), duration_text(p.screen_seconds),
                      str(p.voice_tracks), duration_text(p.speech_seconds), p.crop_path or "-")
    out.print(table)


@people_app.command("show")
@handles_errors
def show_person(
    person: Annotated[str, typer.Argument(help="A person's number (3 or P3) or name (a unique part will do).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON with stable keys.")] = False,
) -> None:
    """One person: every clip and track they are in, with the times they are on screen and the turns they speak
    (and, for a voice, the face seen while it spoke: in how many of its turns).

    Examples:
      video-catalog people show 3
      video-catalog people show anna --json
    """
    db = catalog_db()[1]
    found = db.find_person(person)
    tracks = db.person_appearances(found.person_id)
    voices = db.person_voices(found.person_id)
    if as_json:
        print(json.dumps({**found.model_dump(), "appearances": [t.model_dump() for t in tracks], "voices": voices},
                         indent=2, default=str))
        return
    out.print(literal(f"Person {_label(found)}: {count(found.clips, 'clip')}, {count(found.tracks, 'face track')}, "
                      f"{duration_text(found.screen_seconds)} on screen, {count(found.voice_tracks, 'voice')}, "
                      f"{duration_text(found.speech_seconds)} speaking"), highlight=False)
    if tracks:
        table = LiteralTable(header_style="bold", title="Face")
        for column in ("track", "clip", "file", "on screen", "distance", "face"):
            table.add_column(column, overflow="fold")
        for t in tracks:
            table.add_row(str(t.track_id), t.clip_id, t.file_name or "-", _ranges(t.ranges),
                          f"{t.distance:.2f}" if t.distance is not None else "-", t.crop_path or "-")
        out.print(table)
    if voices:
        table = LiteralTable(header_style="bold", title="Voice")
        for column in ("clip", "file", "speaker", "speaking", "distance", "seen with"):
            table.add_column(column, overflow="fold")
        for v in voices:
            seen = (f"person {v['face_person_id']} in {v['face_turns']} of {len(v['turns'])} turns"
                    if v["face_person_id"] else "-")
            table.add_row(v["clip_id"], v["file_name"] or "-", v["label"], _ranges(v["turns"]),
                          f"{v['distance']:.2f}" if v["distance"] is not None else "-", seen)
        out.print(table)


@people_app.command("name")
@handles_errors
def name_person(
    person: Annotated[str, typer.Argument(help="A person's number or current name.")],
    name: Annotated[str, typer.Argument(help='The name to give, e.g. "Anna Weber"; "" removes it.')],
) -> None:
    """Name a person. The name stays with the face: a clip analysed again finds the same person and name.

    Example:
      video-catalog people name 3 "Anna Weber"
    """
    db = catalog_db()[1]
    found = db.find_person(person)
    db.name_person(found.person_id, name.strip() or None)
    err.print(literal(f"Person {found.person_id} is now {name.strip()!r}." if name.strip()
                      else f"Person {found.person_id} has no name now."), highlight=False)


@people_app.command("merge")
@handles_errors
def merge_people(
    person: Annotated[str, typer.Argument(help="The person to keep.")],
    other: Annotated[str, typer.Argument(help="The person who is the same one; their tracks join the first.")],
) -> None:
    """Two people who are one: OTHER's tracks join PERSON (whose name is kept, else OTHER's).

    Example:
      video-catalog people merge 3 7
    """
    db = catalog_db()[1]
    keep, gone = db.find_person(person), db.find_person(other)
    if keep.person_id == gone.person_id:
        fail(f"{person!r} and {other!r} are the same person ({keep.person_id})")
    db.merge_people(keep.person_id, gone.person_id)
    err.print(literal(f"Merged person {_label(gone)} into {_label(keep)}."), highlight=False)


@people_app.command("split")
@handles_errors
def split_person(
    person: Annotated[str, typer.Argument(help="The person some tracks wrongly joined.")],
    tracks: Annotated[list[int], typer.Argument(help="Track numbers (from `people show`) that are someone else.")],
) -> None:
    """These tracks are someone else: they become a new person, and faces like them never join PERSON again
    (the rejection is kept when clips are analysed again).

    Example:
      video-catalog people split 3 41 42
    """
    db = catalog_db()[1]
    found = db.find_person(person)
    new = db.split_person(found.person_id, tracks)
    err.print(literal(f"{count(len(tracks), 'track')} of person {_label(found)} are now person {new}."), highlight=False)


@people_app.command("forget")
@handles_errors
def forget_person(
    person: Annotated[str, typer.Argument(help="The person whose face data to remove.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Remove a person's face data: their tracks, face vectors, face crops and name. Clips stay cataloged.

    A later re-analysis of those clips (`refresh`) would find the face again; turn the faces step off
    (VIDEO_CATALOG_FACES=0) to store no face data at all.

    Example:
      video-catalog people forget 3 --yes
    """
    from catalog_resources.people.forget import scrub

    db = catalog_db()[1]
    found = db.find_person(person)
    if not yes and not typer.confirm(f"Remove all face data of person {_label(found)} ({count(found.tracks, 'track')})?"):
        raise typer.Exit(1)
    removed = db.forget_person(found.person_id)
    scrub(cli_settings().media_dir, removed)
    err.print(literal(f"Removed person {_label(found)}: {count(len(removed), 'track')} and their face crops."),
              highlight=False)
