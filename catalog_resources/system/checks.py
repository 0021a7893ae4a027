"""One check of the machine, its verdict and the fix; the tools (ffmpeg, ExifTool, MediaInfo, PyAV) and the disk.

A check never raises: whatever goes wrong becomes its `detail` and `fix`, so `system healthchecks` can list every
problem at once instead of stopping at the first.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

Level = Literal["ok", "warning", "problem"]
TOOL_TIMEOUT = 15.0  # seconds for `ffmpeg -version` and friends; a hung binary is a problem, not a hang
DISK_PROBLEM_BYTES = 1 << 30  # under 1 GiB free in the home: proxies and thumbnails of the next clips will not fit
DISK_WARNING_BYTES = 5 << 30


class Check(BaseModel):
    """One line of `system healthchecks`: what was checked, whether it is fine, and if not, what to do."""

    name: str
    level: Level = "ok"
    detail: str = ""
    fix: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.level == "ok"

    def line(self) -> str:
        return f"{self.level}: {self.name}: {self.detail}" + (f"; {self.fix}" if self.fix else "")


def guarded(name: str, fn: Callable[[], Check]) -> Check:
    """Run a check; an exception is a problem of that check (its first line), never the end of the report."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - a check reports whatever stopped it
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Check(name=name, level="problem", detail=text)


def _first_line(args: list[str]) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    text = (result.stdout or result.stderr).strip()
    if result.returncode != 0 and not text:
        raise RuntimeError(f"{args[0]} exited with {result.returncode}")
    return text.splitlines()[0].strip() if text else ""


def ffmpeg_check() -> Check:
    """The ffmpeg binary on PATH (proxy, audio and analysis frames) and its version line."""
    path = shutil.which("ffmpeg")
    if path is None:
        return Check(name="ffmpeg", level="problem", detail="not found on PATH",
                     fix="install it (Debian: apt-get install ffmpeg)")
    line = _first_line([path, "-version"])  # "ffmpeg version 5.1.9-0+deb12u1 Copyright ..."
    words = line.split()
    version = words[2] if len(words) > 2 and words[1] == "version" else line
    return Check(name="ffmpeg", detail=f"{version} ({path})", data={"path": path, "version": version, "line": line})


def exiftool_check() -> Check:
    path = shutil.which("exiftool")
    if path is None:
        return Check(name="exiftool", level="problem", detail="not found on PATH",
                     fix="install it (Debian: apt-get install libimage-exiftool-perl)")
    version = _first_line([path, "-ver"])
    return Check(name="exiftool", detail=f"{version} ({path})", data={"path": path, "version": version})


def mediainfo_check() -> Check:
    """libmediainfo as pymediainfo loads it (the wheel bundles one; else the system's)."""
    try:
        from pymediainfo import MediaInfo
    except ImportError:
        return Check(name="mediainfo", level="problem", detail="pymediainfo is not installed", fix="pip install pymediainfo")
    if not MediaInfo.can_parse():
        return Check(name="mediainfo", level="problem", detail="libmediainfo cannot be loaded",
                     fix="install it (Debian: apt-get install libmediainfo0v5) or reinstall pymediainfo")
    try:
        # No public accessor for the library version in pymediainfo 7: _get_library returns (lib, handle,
        # version string, version tuple); only read here, for the report.
        version = str(MediaInfo._get_library()[2])
    except Exception:  # noqa: BLE001 - the version is a nicety; parsing works
        version = "?"
    wrapper = importlib.metadata.version("pymediainfo")
    return Check(name="mediainfo", detail=f"libmediainfo {version} (pymediainfo {wrapper})",
                 data={"version": version, "pymediainfo": wrapper})


def pyav_check() -> Check:
    try:
        import av
    except ImportError:
        return Check(name="pyav", level="problem", detail="PyAV is not installed", fix="pip install av")
    libav = av.library_versions.get("libavcodec") if hasattr(av, "library_versions") else None
    detail = f"{av.__version__}" + (f" (libavcodec {'.'.join(map(str, libav))})" if libav else "")
    return Check(name="pyav", detail=detail, data={"version": av.__version__})


def tool_checks() -> list[Check]:
    return [guarded(name, fn) for name, fn in (("ffmpeg", ffmpeg_check), ("exiftool", exiftool_check),
                                               ("mediainfo", mediainfo_check), ("pyav", pyav_check))]


def _existing(path: Path) -> Path:
    """The path, or its nearest existing parent (a home not made yet lives on its parent's disk)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def disk_check(home: Path) -> Check:
    usage = shutil.disk_usage(_existing(home))
    free_gib = usage.free / (1 << 30)
    data = {"path": str(home), "free_bytes": usage.free, "total_bytes": usage.total, "used_bytes": usage.used}
    detail = f"{free_gib:.1f} GiB free of {usage.total / (1 << 30):.1f} GiB at {home}"
    if usage.free < DISK_PROBLEM_BYTES:
        return Check(name="disk", level="problem", detail=detail, data=data,
                     fix="free space there or move the home (VIDEO_CATALOG_HOME) to a larger disk")
    if usage.free < DISK_WARNING_BYTES:
        return Check(name="disk", level="warning", detail=detail, data=data, fix="proxies and thumbnails need space")
    return Check(name="disk", detail=detail, data=data)
