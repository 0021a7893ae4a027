"""The technical filter options, shared by `list` and `search` so a flag means the same in both, and their
checking into one ClipFilter."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

import typer

from catalog_cli.common import fail

CodecOpt = Annotated[str | None, typer.Option("--codec", help="Video codec, e.g. h264, hevc, prores.")]
ResolutionOpt = Annotated[str | None, typer.Option("--resolution", help="sd, 720p, 1080p, 1440p, 4k, 8k (by the picture's short side).")]
MinHeightOpt = Annotated[int | None, typer.Option("--min-height", help="At least this many pixels high.")]
FpsOpt = Annotated[float | None, typer.Option("--fps", help="Frame rate (30 also matches 29.97).")]
CameraOpt = Annotated[str | None, typer.Option("--camera", help="Camera make or model contains this text.")]
HdrOpt = Annotated[bool | None, typer.Option("--hdr/--sdr", help="Only HDR (HDR10, HLG, Dolby Vision) or only SDR clips.")]
MinDurationOpt = Annotated[float | None, typer.Option("--min-duration", help="Seconds.")]
MaxDurationOpt = Annotated[float | None, typer.Option("--max-duration", help="Seconds.")]
AfterOpt = Annotated[str | None, typer.Option("--after", help="Recorded on or after this date (2024-05-17).")]
BeforeOpt = Annotated[str | None, typer.Option("--before", help="Recorded before this date.")]
MinQualityOpt = Annotated[float | None, typer.Option("--min-quality", help="Technical quality score at least this (0-100).")]
ExposureOpt = Annotated[bool | None, typer.Option("--exposure-warning/--exposure-ok", help="Only clips whose exposure is (or is not) flagged.")]
ShotTypeOpt = Annotated[str | None, typer.Option("--shot-type", help="Framing from face size: extreme-close-up, close-up, medium, wide, no-people.")]
TagOpt = Annotated[str | None, typer.Option("--tag", help="Has this tag (e.g. an AI keyword).")]
CollectionOpt = Annotated[str | None, typer.Option("--collection", help="In this collection.")]


def clip_filter(*, resolution: str | None = None, shot_type: str | None = None, after: str | None = None,
                before: str | None = None, **values: Any):
    """The technical filters of `list` and `search`, checked and normalised into one ClipFilter."""
    from catalog_resources.models.clips import RESOLUTIONS, SHOT_TYPES, ClipFilter

    if resolution is not None and resolution.lower() not in RESOLUTIONS:
        fail(f"--resolution {resolution!r}: choose one of {', '.join(RESOLUTIONS)}")
    shot_choices = {s.replace(" ", "-"): s for s in SHOT_TYPES}  # "close-up" or "close up" on the command line
    shot = shot_choices.get(shot_type.lower().replace(" ", "-").replace("_", "-")) if shot_type else None
    if shot_type and shot is None:
        fail(f"--shot-type {shot_type!r}: choose one of {', '.join(shot_choices)}")
    return ClipFilter(resolution=resolution.lower() if resolution else None, shot_type=shot,
                      after=_date(after, "--after"), before=_date(before, "--before"), **values)


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: expected a date like 2024-05-17 or 2024-05-17T10:30")
        raise
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
