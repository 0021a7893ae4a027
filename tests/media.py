"""Media fixtures with known properties, made by ffmpeg at test time."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from catalog_resources.media.samples import ClipSpec, make_clip

# name -> spec; the tests assert these properties back from the catalog.
CLIPS: dict[str, ClipSpec] = {
    "h264_720p.mp4": ClipSpec(name="h264_720p.mp4", width=1280, height=720, fps=25, seconds=2),
    "prores_mov.mov": ClipSpec(
        name="prores_mov.mov", width=640, height=360, fps=24, seconds=1.5, video_codec="prores_ks",
        extra=["-profile:v", "0", "-pix_fmt", "yuv422p10le"],
    ),
    "vp9_noaudio.mkv": ClipSpec(
        name="vp9_noaudio.mkv", width=320, height=240, fps=30, seconds=1.5, video_codec="libvpx-vp9", audio=False,
        extra=["-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
    ),
    "mpeg2.MTS": ClipSpec(name="mpeg2.MTS", width=720, height=576, fps=25, seconds=1.5, video_codec="mpeg2video"),
    "short.mp4": ClipSpec(name="short.mp4", width=320, height=180, fps=30, seconds=0.4, pattern="smptebars"),
}


def make_library(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, spec in CLIPS.items():
        made[name] = make_clip(folder / name, spec)
    return made


def copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return dst


def top_level_boxes(path: Path) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of an MP4's top-level boxes."""
    boxes = []
    data = path.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        if size == 0:
            size = len(data) - offset
        boxes.append((kind, offset, size))
        offset += size
    return boxes


def truncated_after_header(src: Path, dst: Path) -> Path:
    """A faststart MP4 cut just after its moov box: the container opens, no frame decodes."""
    boxes = {kind: (offset, size) for kind, offset, size in top_level_boxes(src)}
    moov_offset, moov_size = boxes[b"moov"]
    mdat_offset, _ = boxes[b"mdat"]
    assert moov_offset < mdat_offset, "needs a faststart file (moov before mdat)"
    dst.write_bytes(src.read_bytes()[: mdat_offset + 16])
    return dst


REGISTER_ONLY = ("technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "ai_analysis", "embeddings", "catalog_record")


def register_clip(media_library: dict[str, Path], tmp_path: Path) -> str:
    """One clip cataloged by the CLI with clip_source only (a partition for Dagster to launch); its partition key,
    `short.mp4-<clip id>`."""
    folder = tmp_path / "footage"
    folder.mkdir()
    (folder / "short.mp4").write_bytes(media_library["short.mp4"].read_bytes())
    config = tmp_path / "register-only.json"
    config.write_text(json.dumps({"steps": {name: False for name in REGISTER_ONLY}}))
    result = subprocess.run([sys.executable, "-m", "catalog_cli.main", "ingest", "--json", "--config", str(config),
                             str(folder)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (clip_id,) = [item["clip_id"] for item in json.loads(result.stdout)["new"]]
    return f"short.mp4-{clip_id}"
