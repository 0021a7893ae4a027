"""Real footage from other projects' test suites (tests/fixtures/real, see SOURCES.md there), ingested
through the real CLI with the full default pipeline.

Synthetic ffmpeg clips never carry what cameras write (recording dates, GoPro telemetry tracks, timecode,
rotation, 1-frame DV, RED and fragments of camera files no decoder here opens), so these files are the
check that real footage catalogs: every file ends complete, metadata-only with its reason, or named as
not video; none fails. The expected outcome of each file is written below, decided by what the file is
(ffprobe / mediainfo / exiftool on the file, noted next to each entry), not by what the code does today.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from catalog_assets.steps import select_steps

pytestmark = pytest.mark.slow

REAL = Path(__file__).parent / "fixtures" / "real"
CLI = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "video-catalog"
COMPLETE, METADATA_ONLY, NOT_VIDEO = "complete", "metadata-only", "not video"
# A clip no frame of which decodes still gets its facts and a searchable record; nothing built from pixels.
METADATA_ONLY_STEPS = {"clip_source", "technical_metadata", "catalog_record"}
PIXEL_STEPS = {"proxy", "thumbnails", "frame_analysis"}

EXPECTED: dict[str, str] = {
    # ExifTool's t/images: headers of camera files cut to a few KB.
    "exiftool/DV.dv": COMPLETE,  # DV 720x576, one whole frame decodes, dated 2010-02-16
    "exiftool/Flash.flv": COMPLETE,  # VP6 192x154 + MP3 + text track, one frame decodes
    "exiftool/M2TS.mts": METADATA_ONLY,  # Canon AVCHD H.264 1080p, dated 2008-12-31: no frame decodes
    "exiftool/QuickTime.mov": METADATA_ONLY,  # Pentax MJPEG 320x240, dated 2005-08-11: sample tables broken, no frame
    "exiftool/Pentax.avi": METADATA_ONLY,  # Pentax K-x MJPEG 1280x720, dated 2009-10-27: headers only, no frame
    "exiftool/RIFF.avi": METADATA_ONLY,  # Canon MVI MJPEG 320x240, dated 2003-03-10: headers only, no frame
    "exiftool/Red.r3d": METADATA_ONLY,  # RED (S-WEAPON) 5120x2560 R3D, dated 2016-01-18: no decoder
    "exiftool/ASF.wmv": METADATA_ONLY,  # WMV (WVP2 160x120) header read by mediainfo/exiftool; libav cannot open it
    "exiftool/Matroska.mkv": METADATA_ONLY,  # Matroska AVC 704x576 header (507 bytes), dated 2010-02-03: no frame
    "exiftool/MXF.mxf": NOT_VIDEO,  # MXF with a timecode track and one PCM audio track: no picture essence
    # moviepy's media/ (MIT).
    "moviepy/test_video.mp4": COMPLETE,  # H.264 1x1, 5 frames at 1 fps
    "moviepy/chaplin.mp4": COMPLETE,  # H.264 640x360 + MP3, 9.6 s
    "moviepy/fire2.mp4": COMPLETE,  # phone clip: H.264 1280x720 rotated 180, AAC, dated 2017-01-05, 25 frames
    "moviepy/smpte-2997.mp4": COMPLETE,  # H.264 1080p + AAC, 10 s
    "moviepy/video_with_failing_audio.mp4": COMPLETE,  # H.264 640x360 + MP3 whose tail fails to decode
    "moviepy/big_buck_bunny_432_433.webm": COMPLETE,  # VP8 720p + Vorbis, 1 s (24 frames)
    "moviepy/no_duration.webm": COMPLETE,  # VP9 720p + Opus, no duration in the header (74 frames)
    "moviepy/transparent.webm": COMPLETE,  # VP9 with alpha 200x200 + Vorbis, 5 s
    "moviepy/example_mask.mp4": COMPLETE,  # H.264 200x200, 10 s, no audio
    # PySceneDetect's resources branch (its resources licence, copied alongside).
    "pyscenedetect/counter.mp4": COMPLETE,  # H.264 1080p, 30 numbered frames at 10 fps
    "pyscenedetect/delayed_start.mp4": COMPLETE,  # MPEG-4 Part 2, video starts at 1.075 s
    "pyscenedetect/fades.mp4": COMPLETE,  # MPEG-4 Part 2 480x320, fades to and from black
    "pyscenedetect/testvideo.mp4": COMPLETE,  # H.264 720p 29.97 fps, 24 s, dated 2013-10-20
    "pyscenedetect/LICENSE-resources.txt": NOT_VIDEO,  # a text file next to footage
    # GoPro's gpmf-parser samples (Apache-2.0 or MIT).
    "gopro/max-heromode.mp4": COMPLETE,  # GoPro Max: H.264 + AAC + timecode + GPMF telemetry, dated 2019-11-18
    "SOURCES.md": NOT_VIDEO,
}


def _rows(sql: str, *params) -> list[tuple]:
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        return conn.execute(sql, params).fetchall()


def _copy_corpus(dest: Path) -> Path:
    """A private copy, so the catalog's paths are the test's own and the fixtures stay untouched."""
    for name in EXPECTED:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REAL / name).read_bytes())
    return dest


def _outcome(clip_id: str, default_steps: list[str]) -> str:
    """complete / metadata-only / what is missing, read back from clips and asset_versions."""
    status = _rows("SELECT status FROM clips WHERE clip_id = %s", clip_id)
    if not status:
        return "no clips row"
    done = {r[0] for r in _rows("SELECT asset FROM asset_versions WHERE clip_id = %s", clip_id)}
    if status[0][0].startswith(METADATA_ONLY):
        reason = status[0][0][len(METADATA_ONLY):].lstrip(": ")
        if not reason:
            return "metadata-only without a reason"
        if missing := METADATA_ONLY_STEPS - done:
            return f"metadata-only missing {sorted(missing)}"
        if built := PIXEL_STEPS & done:
            return f"metadata-only with pixel steps {sorted(built)}"
        return METADATA_ONLY
    missing = [s for s in default_steps if s not in done]
    return COMPLETE if not missing else f"incomplete, missing {missing} (status {status[0][0]!r})"


def test_real_footage_catalogs_with_no_failure(catalog_env, tmp_path):
    folder = _copy_corpus(tmp_path / "real")
    assert sorted(str(p.relative_to(REAL)) for p in REAL.rglob("*") if p.is_file()) == sorted(EXPECTED), (
        "every fixture file needs its expected outcome here"
    )
    result = subprocess.run([str(CLI), "ingest", str(folder), "--json"], capture_output=True, text=True, timeout=1800)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-4000:]
    summary = json.loads(result.stdout)
    found = _outcomes(summary, folder)
    wrong = [f"{name}: expected {EXPECTED.get(name)!r}, got {found.get(name, 'not in the summary')!r}"
             for name in sorted(set(EXPECTED) | set(found)) if found.get(name) != EXPECTED.get(name)]
    assert not wrong, "\n".join(wrong)
    assert summary["failed"] == []
    assert result.returncode == 0, result.stderr[-4000:]

    # header fragments of a few KB claiming 94 s and 149 s: no duration is better than a believed lie
    durations = dict(_rows("SELECT c.file_name, coalesce(t.duration_seconds, c.duration_seconds)"
                           " FROM clips c LEFT JOIN technical_metadata t USING (clip_id)"))
    assert durations["ASF.wmv"] is None and durations["Matroska.mkv"] is None, durations
    long = subprocess.run([str(CLI), "list", "--min-duration", "60", "--json"], capture_output=True, text=True)
    assert [c["file_name"] for c in json.loads(long.stdout)] == [], long.stdout


def _outcomes(summary: dict, folder: Path) -> dict[str, str]:
    """Each file's outcome: named as not video (with a reason), failed (with its reason), or what the
    catalog holds for its clip."""
    default_steps = select_steps()
    found: dict[str, str] = {}
    buckets = [key for key, value in summary.items() if isinstance(value, list)]  # new, not_video, failed, ...
    for bucket in buckets:
        for item in summary[bucket]:
            name = str(Path(item["path"]).relative_to(folder))
            assert name not in found, f"{name} listed twice: {found[name]} and {bucket}"
            if bucket == "not_video":
                assert item["reason"], item
                found[name] = NOT_VIDEO
            elif bucket == "failed":
                found[name] = f"failed: {item['reason']}"
            elif bucket == "new":
                found[name] = _outcome(item["clip_id"], default_steps)
            else:  # in a fresh catalog nothing is existing, resumed, in progress, moved or a duplicate
                found[name] = bucket
    return found
