"""The texts a clip is embedded as: one for the whole clip, one per segment that has words.

The full-clip text leads with what describes the clip best (summary, keywords, entities, scene labels,
on-screen text, what the scenes show, its framing) and ends with the transcript, so truncation to the model's
token limit cuts speech from the end, not the description. It says only what the clip holds: no file name, no
codec or resolution, no "no people" (measured by bench/relevance.py, e5, on both relevance sets: that text made
every thin clip, a silent shot described by a few labels, about as near to any short query as to its own
subject, so "crowd at night" matched 9 of 12 silent photographs at 0.82-0.83; without it no absent-subject
visual query gets a hit). Names and technical facts are found by full-text search and the filters instead. Segments carry their own words so a
search can answer with a time range; a scene's visual description ("tabby, cat, animal; daylight, warm; pan
right", frame_analysis) is a segment of its own, so silent footage is found by what it shows.
"""

from __future__ import annotations

from typing import Any

from catalog_resources.search.evidence import without_absences


def full_clip_text(row: dict[str, Any]) -> str:
    analysis = row.get("analysis") or {}
    entities = analysis.get("entities") or {}
    parts = [
        without_absences(analysis.get("summary")),
        _join("Keywords", analysis.get("keywords")),
        _join("People", entities.get("people")),
        _join("Organisations", entities.get("organizations")),
        _join("Places", entities.get("locations")),
        _join("Scene", [label for label in analysis.get("scene_classification") or [] if without_absences(label)]),
        _join("On screen", analysis.get("on_screen_text")),
        _seen(row.get("segments") or []),
        _framing(row.get("shot_type")),
        f"Transcript: {row['transcript']}" if row.get("transcript") else None,
    ]
    return "\n".join(p for p in parts if p)


def segment_texts(row: dict[str, Any]) -> list[tuple[int, str]]:
    """(segment id, text) for transcript segments, for scenes the words spoken or shown during them, for each
    scene's visual description and for each manual segment's label and note."""
    segments = row.get("segments") or []
    worded = [s for s in segments if s["segment_type"] not in ("visual", "manual")]
    spoken = [s for s in segments if s["segment_type"] == "transcript" and (s.get("text") or "").strip()]
    screen = row.get("screen_items") or []
    found: list[tuple[int, str]] = [(s["segment_id"], s["text"].strip()) for s in spoken]
    for scene in (s for s in segments if s["segment_type"] == "scene_change"):
        start, end = scene["start_seconds"], scene["end_seconds"]
        words = [s["text"].strip() for s in spoken if s["start_seconds"] < end and s["end_seconds"] > start]
        shown = [i["text"] for i in screen if i["start_seconds"] <= end and i["end_seconds"] >= start]
        text = " ".join([*words, *(f"On screen: {t}" for t in shown)]).strip()
        if text and len(worded) > 1:  # a clip with one scene: the full-clip text already says it
            found.append((scene["segment_id"], text))
    # every scene's description, even a clip's only one (which the "Seen" line also says): a query about what
    # is shown is nearer to it than to the whole clip's text, and then answers with the scene's time range
    found += [(s["segment_id"], s["text"].strip()) for s in _visual(segments)]
    # a person's own label for a range (`segments add`), with its note: embedded as they wrote it. `segments add`
    # embeds it at once with the same words (manual_text), this when the step runs again. A clip without one is
    # embedded as before, so TEXT_RECIPE_VERSION stays
    found += [(s["segment_id"], manual_text(s["text"], s.get("description")))
              for s in segments if s["segment_type"] == "manual" and (s.get("text") or "").strip()]
    return found


def manual_text(label: str, note: str | None) -> str:
    """The words a manual segment is embedded as: its label, then its note."""
    return f"{label.strip()}. {note.strip()}" if note and note.strip() else label.strip()


def _visual(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in segments if s["segment_type"] == "visual" and (s.get("text") or "").strip()]


def _seen(segments: list[dict[str, Any]]) -> str | None:
    texts = [s["text"].strip() for s in _visual(segments)]
    return f"Seen: {' / '.join(dict.fromkeys(texts))}" if texts else None


def _join(label: str, values: list[str] | None) -> str | None:
    return f"{label}: {', '.join(values)}" if values else None


def _framing(shot_type: str | None) -> str | None:
    return f"Framing: {shot_type} shot" if shot_type and without_absences(shot_type) else None
