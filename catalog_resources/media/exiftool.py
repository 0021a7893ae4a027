"""ExifTool (pyexiftool): camera, lens, exposure, GPS, maker notes, QuickTime/XMP dates.

One `-stay_open` exiftool process serves a whole run (the resource closes it at teardown), not one per
file: starting Perl and ExifTool costs ~150 ms, a warm query a few ms. The extended scan (`-ee`,
timed metadata inside the movie data: GoPro GPMF, DJI, camm GPS tracks) runs only when ExifTool
itself says it may find more there, and only for files within a byte budget.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from catalog_resources.errors import SetupError

EXTENDED_HINT = "ExtractEmbedded option may find more tags"


class ExifToolMissing(SetupError, RuntimeError):
    """The exiftool binary is not installed; the message says how to install it."""


class ExifToolReader(BaseModel):
    """One exiftool process for every file read through this object, started on the first file; `close` ends it."""

    executable: str = Field(default="exiftool", description="exiftool binary (Debian: libimage-exiftool-perl).")
    extended_scan_max_bytes: int = Field(default=512 * 1024 * 1024, description="Budget for -ee scans.")
    _helper: Any = PrivateAttr(default=None)

    def close(self) -> None:
        if self._helper is not None:
            try:
                self._helper.terminate()
            finally:
                self._helper = None

    def _running(self):
        if self._helper is None:
            if shutil.which(self.executable) is None:
                raise ExifToolMissing(
                    f"{self.executable} not found; install it (Debian: apt-get install libimage-exiftool-perl)"
                )
            import exiftool

            helper = exiftool.ExifToolHelper(executable=self.executable, common_args=["-G1", "-n", "-api", "largefilesupport=1"])
            helper.run()
            self._helper = helper
        return self._helper

    def probe(self, path: Path) -> dict[str, Any]:
        started = time.perf_counter()
        helper = self._running()
        try:
            tags = helper.get_metadata([str(path)])[0]
        except Exception as exc:  # pyexiftool raises its own error types for ExifTool failures
            return {"tool": "exiftool", "error": str(exc), "seconds": time.perf_counter() - started}
        extended = False
        warning = str(tags.get("ExifTool:Warning", ""))
        if EXTENDED_HINT in warning and path.stat().st_size <= self.extended_scan_max_bytes:
            try:
                tags = helper.get_metadata([str(path)], params=["-ee"])[0]
                extended = True
            except Exception:  # keep the fast answer
                pass
        return {"tool": "exiftool", "tags": tags, "extended": extended, "seconds": time.perf_counter() - started}
