"""Reading the three tools' values: numbers in MediaInfo's strings, ExifTool tags by name in any group, dates
with or without a zone, ratios; and what a pixel format, a level or MediaInfo's HDR fields mean.

Small pure functions, shared by the reconcile step (media/reconcile.py) and MediaInfo's view of files ffmpeg
cannot open (media/mediainfo.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from catalog_resources.models.technical import MasteringDisplay

MI_PRIMARIES = {"BT.709": "bt709", "BT.2020": "bt2020", "BT.601 NTSC": "smpte170m", "BT.601 PAL": "bt470bg",
                "Display P3": "smpte432", "DCI P3": "smpte431"}
MI_TRANSFER = {"BT.709": "bt709", "PQ": "smpte2084", "HLG": "arib-std-b67", "BT.601": "smpte170m",
               "sRGB/sYCC": "iec61966-2-1", "BT.2020 (10-bit)": "bt2020-10", "Linear": "linear"}
MI_MATRIX = {"BT.709": "bt709", "BT.2020 non-constant": "bt2020nc", "BT.2020 constant": "bt2020c",
             "BT.601": "smpte170m", "BT.470 System B/G": "bt470bg", "ICtCp": "ictcp"}
EIGHT_BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray",
             "yuyv422", "uyvy422", "rgb24", "bgr24", "gbrp", "yuv411p", "yuv410p", "yuv440p", "yuva420p"}
NO_DATE = "0000:00:00 00:00:00"




def number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = re.search(r"-?\d+(?:\.\d+)?", str(value))
    return float(match.group()) if match else None


def integer(value: Any) -> int | None:
    found = number(value)
    return int(round(found)) if found is not None else None


def exif_tag(tags: dict[str, Any], *names: str) -> Any:
    """First present ExifTool tag among names; a bare name matches it in any group ("Make" ~ "Keys:Make")."""
    for name in names:
        if ":" in name:
            value = tags.get(name)
            if value not in (None, "", NO_DATE):
                return value
            continue
        for key, value in tags.items():
            if key.rsplit(":", 1)[-1] == name and value not in (None, "", NO_DATE):
                return value
    return None


def parse_date(value: Any, assume_utc: bool = True) -> datetime | None:
    if value in (None, "", NO_DATE):
        return None
    text = str(value).strip()
    for pattern in (r"^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?",):
        match = re.match(pattern, text)
        if not match:
            continue
        year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
        if year == 0:
            return None
        zone = match.group(8)
        if zone in (None, ""):
            tz = timezone.utc if assume_utc else None
        elif zone == "Z":
            tz = timezone.utc
        else:
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            from datetime import timedelta

            tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))
        micro = int(float(match.group(7)) * 1_000_000) if match.group(7) else 0
        try:
            return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        except ValueError:
            return None
    return None


def hms_seconds(value: Any) -> float | None:
    """'00:00:01.000000000' (Matroska's per-track DURATION tag) -> 1.0."""
    match = re.match(r"^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$", str(value or ""))
    if not match:
        return None
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))


def iso6709(value: Any) -> tuple[float | None, float | None, float | None]:
    """'+48.8584+002.2945+035.000/' -> (48.8584, 2.2945, 35.0)."""
    if not value:
        return None, None, None
    parts = re.findall(r"[+-]\d+(?:\.\d+)?", str(value))
    numbers = [float(p) for p in parts]
    return (numbers + [None, None, None])[:3]  # type: ignore[return-value]


def ratio(text: str | None) -> tuple[int, int] | None:
    if not text or ":" not in text:
        return None
    a, b = text.split(":", 1)
    try:
        num, den = int(a), int(b)
    except ValueError:
        return None
    return (num, den) if num > 0 and den > 0 else None


def reduced_ratio(width: int, height: int) -> str:
    from math import gcd

    g = gcd(width, height) or 1
    return f"{width // g}:{height // g}"



def bit_depth(pix_fmt: str | None) -> int | None:
    if not pix_fmt:
        return None
    match = re.search(r"p(\d{2})(le|be)?$", pix_fmt) or re.search(r"(\d{2})(le|be)$", pix_fmt)
    if match:
        return int(match.group(1))
    if pix_fmt in EIGHT_BIT:
        return 8
    if pix_fmt.startswith(("p010", "x2rgb10")):
        return 10
    return None


def chroma_subsampling(pix_fmt: str | None) -> str | None:
    if not pix_fmt:
        return None
    if pix_fmt.startswith(("yuv420", "yuvj420", "nv12", "nv21", "p010", "p016", "yuva420")):
        return "4:2:0"
    if pix_fmt.startswith(("yuv422", "yuvj422", "uyvy422", "yuyv422", "v210", "nv16", "y210")):
        return "4:2:2"
    if pix_fmt.startswith(("yuv444", "yuvj444", "gbr", "rgb", "bgr", "nv24")):
        return "4:4:4"
    if pix_fmt.startswith("yuv411"):
        return "4:1:1"
    if pix_fmt.startswith("gray"):
        return "4:0:0"
    return None


def level_name(codec: str | None, level: int | None) -> str | None:
    if level is None:
        return None
    if codec == "h264":
        return f"{level / 10:g}"
    if codec == "hevc":
        return f"{level / 30:g}"
    return str(level)


def hdr_format(video_mi: dict[str, Any], transfer: str | None) -> tuple[str | None, str | None]:
    fmt = str(video_mi.get("hdr_format") or "")
    compat = str(video_mi.get("hdr_format_compatibility") or "")
    if "Dolby Vision" in fmt:
        profile = video_mi.get("hdr_format_profile")
        return "Dolby Vision", str(profile) if profile else None
    if "2094" in fmt or "HDR10+" in compat:
        return "HDR10+", None
    if transfer == "smpte2084" or "HDR10" in compat:
        return "HDR10", None
    if transfer == "arib-std-b67" or "HLG" in compat:
        return "HLG", None
    return None, None


def mastering_display(video_mi: dict[str, Any]) -> MasteringDisplay | None:
    primaries = video_mi.get("mastering_display_color_primaries") or video_mi.get("masteringdisplay_colorprimaries")
    luminance = str(video_mi.get("mastering_display_luminance") or video_mi.get("masteringdisplay_luminance") or "")
    if not primaries and not luminance:
        return None
    low = re.search(r"min:\s*([\d.]+)", luminance)
    high = re.search(r"max:\s*([\d.]+)", luminance)
    return MasteringDisplay(
        primaries=str(primaries) if primaries else None,
        min_luminance=float(low.group(1)) if low else None,
        max_luminance=float(high.group(1)) if high else None,
    )
