"""Video fixtures with KNOWN technical properties, each paired with the values a technical-metadata extractor
must read back from it.

    python -m tests.tech_media DIR      # makes the set in DIR (files already there are kept) and prints it

Every expected value below was checked against ffprobe 5.1 (-show_streams -show_format [-show_frames]),
mediainfo 23.04 (--Output=JSON) and exiftool 12.57 (-j -G -n) on files made by this module with Debian 12's
ffmpeg 5.1 (libx264, libx265, prores_ks, dnxhd, mpeg2video, aac, ac3). Only the keys a fixture's dicts hold are
asserted; a key that is absent means "not pinned down", a key mapped to None means "must be None".

Conventions (and where each tricky value lives):
- rotation: clockwise degrees as the QuickTime track matrix means them (exiftool Composite:Rotation, mediainfo
  Video "Rotation"). ffprobe 5.1 reports the *counter-clockwise* angle: stream side_data "Display Matrix"
  "rotation" is -90 for rotated.mp4, so rotation = -ffprobe_rotation % 360. rotated.mp4's matrix is written by
  exiftool (-Rotation=90, like an iPhone portrait clip), because ffmpeg 5.1 has no -display_rotation, ignores
  `-metadata:s:v rotate=90` when encoding, and on stream copy writes the opposite matrix (ffprobe +90,
  exiftool/mediainfo 270).
- duration_seconds / frame_count / start_time_seconds are the VIDEO stream's: late_start.mp4 has a 1 s video
  stream starting at 1.5 s, so duration_seconds is 1.0 although the container (ffprobe format.duration, mediainfo
  Duration) says 2.5 and mediainfo's video FrameCount says 63 (it counts the empty edit); ffprobe stream
  nb_frames is 25.
- frame_rate for the VFR clip is the average (ffprobe avg_frame_rate 27/1, mediainfo FrameRate 27.000);
  ffprobe's r_frame_rate there is the 120/1 time base, not a frame rate.
- display_width/height apply SAR then rotation; display_aspect_ratio is ffprobe's (pre-rotation) and is
  therefore not given for rotated.mp4.
- HDR10 metadata is in the HEVC SEI only (ffmpeg 5.1's mp4 muxer writes no mdcv/clli boxes): ffprobe shows it
  in the first frame's side_data_list (-show_frames), not in the stream's side_data_list.
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from catalog_resources.media.samples import require_ffmpeg


class TechFixture(BaseModel):
    name: str
    path: Path
    expected: dict[str, Any]
    expected_audio: list[dict[str, Any]] = []
    expected_subtitles: list[dict[str, Any]] = []
    expected_issue_codes: list[str] = []


# Tolerances the comparing test should use for float fields (everything else is exact).
TOLERANCES: dict[str, float] = {
    "duration_seconds": 0.05,
    "start_time_seconds": 0.02,
    "frame_rate": 0.01,
    "gps_latitude": 1e-4,
    "gps_longitude": 1e-4,
    "gps_altitude": 0.5,
    "mastering_max_luminance": 0.5,
    "mastering_min_luminance": 1e-5,
}

RECORDED_AT = "2024-05-17T10:30:00+00:00"

_SRT = """1
00:00:00,000 --> 00:00:00,500
Hallo Welt

2
00:00:00,500 --> 00:00:01,000
Zweiter Untertitel

"""

# x265 HDR10 signalling: Display-P3 primaries, 1000 / 0.0001 cd/m2 mastering display, MaxCLL 1000, MaxFALL 400.
_MASTER_DISPLAY = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"


# ---------------------------------------------------------------------------------------------------- ffmpeg bits


def _ff() -> list[str]:
    return [require_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


def _video_in(size: str, rate: float | str, seconds: float | None = None, pattern: str = "testsrc2") -> list[str]:
    src = f"{pattern}=size={size}:rate={rate}" + (f":duration={seconds}" if seconds is not None else "")
    return ["-f", "lavfi", "-i", src]


def _sine_in(seconds: float, sample_rate: int = 48000, frequency: int = 440) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate={sample_rate}:duration={seconds}"]


# libx264 "veryfast" uses 8x8 transforms, so the SPS says High profile.
_H264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)


def _exiftool(path: Path, *assignments: str) -> None:
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        raise RuntimeError("exiftool not found on PATH (Debian: apt-get install libimage-exiftool-perl)")
    _run([exiftool, "-q", "-overwrite_original", *assignments, "--", str(path)])


# ---------------------------------------------------------------------------------------------------- recipes


@dataclass
class _Recipe:
    name: str
    build: Callable[[Path, Path], None]  # (temporary output path with the right extension, scratch dir)
    expected: dict[str, Any]
    audio: list[dict[str, Any]] = field(default_factory=list)
    subtitles: list[dict[str, Any]] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)


def _build_hdr10(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 25, 1),
          "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
          "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", "-color_range", "tv",
          "-x265-params", f"log-level=error:hdr10=1:repeat-headers=1:colorprim=bt2020:transfer=smpte2084:"
                          f"colormatrix=bt2020nc:range=limited:master-display={_MASTER_DISPLAY}:max-cll=1000,400",
          "-tag:v", "hvc1", "-f", "mp4", str(out)])


def _build_hlg(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 25, 1),
          "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
          "-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc", "-color_range", "tv",
          "-x265-params", "log-level=error", "-tag:v", "hvc1", "-f", "mp4", str(out)])


def _build_interlaced(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("720x576", 25, 1), *_sine_in(1),
          "-vf", "setfield=tff", "-c:v", "mpeg2video", "-pix_fmt", "yuv420p", "-b:v", "2M",
          "-flags", "+ilme+ildct", "-top", "1", "-aspect", "16:9",
          "-c:a", "ac3", "-ac", "2", "-b:a", "192k", "-f", "mpegts", str(out)])


def _build_vfr(out: Path, _: Path) -> None:
    # 24 frames at 1/24 s then 30 frames at 1/30 s, in a 1/120 time base: exact 2.0 s, 54 frames.
    _run([*_ff(), *_video_in("320x240", 30),
          "-vf", "trim=end_frame=54,settb=1/120,setpts='if(lt(N,24),N*5,120+(N-24)*4)'",
          "-fps_mode", "passthrough", "-enc_time_base", "1/120", *_H264, "-bf", "0",  # B-frames garble the durations
          "-video_track_timescale", "120", "-f", "mp4", str(out)])


def _build_late_start(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 25, 1), *_H264, "-output_ts_offset", "1.5", "-f", "mp4", str(out)])


def _build_short(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 25, 0.4, pattern="smptebars"), *_H264, "-f", "mp4", str(out)])


def _build_rotated(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("640x360", 25, 1), *_H264, "-f", "mp4", str(out)])
    _exiftool(out, "-Rotation=90")  # tkhd matrix 0 1 0 / -1 0 0 / 360 0 1 (clockwise 90, like iPhone portrait)


def _build_anamorphic(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("720x576", 25, 1), "-vf", "setsar=64/45", *_H264, "-f", "mov", str(out)])


def _build_two_audio(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 25, 1), *_sine_in(1, 48000, 440), *_sine_in(1, 44100, 660),
          "-map", "0:v", "-map", "1:a", "-map", "2:a", *_H264,
          "-c:a", "aac", "-b:a", "96k", "-ac:a:0", "2", "-ac:a:1", "1",
          "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=English",
          "-metadata:s:a:1", "language=fra", "-metadata:s:a:1", "title=Français",
          "-disposition:v:0", "default", "-disposition:a:0", "default", "-disposition:a:1", "0",
          "-f", "matroska", str(out)])


def _build_subs_mp4(out: Path, scratch: Path) -> None:
    srt = scratch / "subs.srt"
    srt.write_text(_SRT, encoding="utf-8")
    _run([*_ff(), *_video_in("320x240", 25, 1), "-i", str(srt), "-map", "0:v", "-map", "1:s", *_H264,
          "-c:s", "mov_text", "-metadata:s:s:0", "language=eng", "-f", "mp4", str(out)])


def _build_subs_mkv(out: Path, scratch: Path) -> None:
    srt = scratch / "subs.srt"
    srt.write_text(_SRT, encoding="utf-8")
    _run([*_ff(), *_video_in("320x240", 25, 1), "-i", str(srt), "-map", "0:v", "-map", "1:s", *_H264,
          "-c:s", "srt", "-metadata:s:s:0", "language=deu", "-metadata:s:s:0", "title=Deutsch",
          "-disposition:v:0", "default", "-disposition:s:0", "default+forced", "-f", "matroska", str(out)])


def _build_camera_tags(out: Path, _: Path) -> None:
    # +bitexact: no "Lavf..." encoder/©swr tag, so Keys:Software is the only software value in the file.
    _run([*_ff(), *_video_in("320x240", 25, 1), *_H264, "-fflags", "+bitexact",
          "-metadata", "creation_time=2024-05-17T10:30:00Z", "-f", "mov", str(out)])
    # Where each value ends up (exiftool -j -G1 -n / -G -n; ffprobe format.tags; mediainfo General.extra):
    #   Keys:Make  (QuickTime:Make)          com.apple.quicktime.make                 -> camera_make
    #   Keys:Model (QuickTime:Model)         com.apple.quicktime.model                -> camera_model
    #   Keys:Software (QuickTime:Software)   com.apple.quicktime.software             -> software
    #   Keys:GPSCoordinates "48.8584 2.2945 35" = com.apple.quicktime.location.ISO6709 "+48.8584+002.2945+35.000/"
    #       -> Composite:GPSLatitude 48.8584, Composite:GPSLongitude 2.2945, Composite:GPSAltitude 35
    #   Keys:CreationDate "2024:05:17 10:30:00Z" = com.apple.quicktime.creationdate "2024-05-17T10:30:00Z"
    #   mvhd QuickTime:CreateDate "2024:05:17 10:30:00" (UTC) = ffprobe format.tags.creation_time
    #       "2024-05-17T10:30:00.000000Z" = mediainfo General Encoded_Date "2024-05-17 10:30:00 UTC"
    _exiftool(out, "-Keys:Make=Apple", "-Keys:Model=iPhone 15 Pro", "-Keys:Software=17.4.1",
              "-Keys:GPSCoordinates#=48.8584 2.2945 35", "-Keys:CreationDate=2024-05-17T10:30:00Z")


def _build_timecode(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 25, 1), *_H264, "-timecode", "01:00:00:00", "-f", "mov", str(out)])


def _build_prores(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 24, 1), "-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le",
          "-f", "mov", str(out)])


def _build_dnxhd(out: Path, _: Path) -> None:
    _run([*_ff(), *_video_in("320x240", 24, 1), "-c:v", "dnxhd", "-profile:v", "dnxhr_lb", "-pix_fmt", "yuv422p",
          "-f", "mov", str(out)])


def _build_mpegts(out: Path, _: Path) -> None:
    # force-cfr: x264 otherwise writes fixed_frame_rate_flag=0 and mediainfo 23.04 calls the TS stream VFR
    _run([*_ff(), *_video_in("320x240", 25, 1), *_sine_in(1), *_H264, "-x264-params", "force-cfr=1",
          "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-metadata:s:a:0", "language=eng", "-f", "mpegts", str(out)])


def _build_truncated(out: Path, scratch: Path) -> None:
    full = scratch / "full.mp4"
    # no +faststart: ffmpeg writes ftyp, mdat, then moov at the end; the first 30% holds no moov.
    _run([*_ff(), *_video_in("320x240", 25, 2), *_H264, "-f", "mp4", str(full)])
    data = full.read_bytes()
    assert data.rfind(b"moov") > len(data) * 0.3, "moov unexpectedly near the start"
    out.write_bytes(data[: int(len(data) * 0.3)])


def _build_audio_only(out: Path, _: Path) -> None:
    # the "ipod" muxer (ffmpeg's choice for .m4a) writes major brand "M4A ".
    _run([*_ff(), *_sine_in(1), "-c:a", "aac", "-b:a", "96k", "-ac", "2", "-f", "ipod", str(out)])


# ---------------------------------------------------------------------------------------------------- expectations


def _file(name: str, container: str, brand: str | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"file_name": name, "extension": name.rsplit(".", 1)[1].lower(), "container_format": container}
    if brand is not None:
        d["container_brand"] = brand
    return d


def _video(codec: str, profile: str, width: int, height: int, fps: float, frames: int, seconds: float, *,
           pix_fmt: str = "yuv420p", bit_depth: int = 8, chroma: str = "4:2:0", sar: str = "1:1",
           dar: str | None = None, display: tuple[int, int] | None = None, rotation: int = 0,
           scan: str = "progressive", vfr: bool = False, sdr: bool = True) -> dict[str, Any]:
    d: dict[str, Any] = {
        "video_codec": codec, "video_profile": profile, "width": width, "height": height,
        "display_width": (display or (width, height))[0], "display_height": (display or (width, height))[1],
        "sample_aspect_ratio": sar, "rotation": rotation, "frame_rate": fps, "is_vfr": vfr, "frame_count": frames,
        "duration_seconds": seconds, "pixel_format": pix_fmt, "bit_depth": bit_depth, "chroma_subsampling": chroma,
        "scan_type": scan,
    }
    if dar is not None:
        d["display_aspect_ratio"] = dar
    if sdr:
        d["hdr_format"] = None
    return d


def _aac(channels: int, sample_rate: int = 48000, **more: Any) -> dict[str, Any]:
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    return {"codec": "aac", "channels": channels, "channel_layout": layout, "sample_rate": sample_rate, **more}


def _recipes() -> list[_Recipe]:
    return [
        _Recipe("hdr10_hevc.mp4", _build_hdr10, {
            **_file("hdr10_hevc.mp4", "mp4", "isom"),
            **_video("hevc", "Main 10", 320, 240, 25.0, 25, 1.0, pix_fmt="yuv420p10le", bit_depth=10, dar="4:3",
                     sdr=False),
            "start_time_seconds": 0.0,
            "color_primaries": "bt2020", "transfer_characteristics": "smpte2084", "matrix_coefficients": "bt2020nc",
            "color_range": "tv", "hdr_format": "HDR10",
            # ffprobe -show_frames, frame 0 side_data "Content light level metadata": max_content 1000,
            # max_average 400; "Mastering display metadata": max_luminance 10000000/10000, min_luminance 1/10000.
            # mediainfo: MaxCLL "1000 cd/m2", MaxFALL "400 cd/m2",
            # MasteringDisplay_Luminance "min: 0.0001 cd/m2, max: 1000 cd/m2", MasteringDisplay_ColorPrimaries
            # "Display P3", HDR_Format "SMPTE ST 2086", HDR_Format_Compatibility "HDR10".
            "max_cll": 1000, "max_fall": 400, "mastering_max_luminance": 1000.0, "mastering_min_luminance": 0.0001,
        }),
        _Recipe("hlg_hevc.mp4", _build_hlg, {
            **_file("hlg_hevc.mp4", "mp4", "isom"),
            **_video("hevc", "Main 10", 320, 240, 25.0, 25, 1.0, pix_fmt="yuv420p10le", bit_depth=10, dar="4:3",
                     sdr=False),
            "color_primaries": "bt2020", "transfer_characteristics": "arib-std-b67", "matrix_coefficients": "bt2020nc",
            "color_range": "tv", "hdr_format": "HLG",
            # no mastering-display / content-light SEI in this file (ffprobe frame side_data has none)
            "max_cll": None, "max_fall": None, "mastering_max_luminance": None, "mastering_min_luminance": None,
        }),
        _Recipe("interlaced_mpeg2.mts", _build_interlaced, {
            **_file("interlaced_mpeg2.mts", "mpegts"),
            # ffprobe stream field_order "tt"; frames interlaced_frame 1, top_field_first 1;
            # mediainfo ScanType "Interlaced", ScanOrder "TFF". Stream start_time is 1.44 (mpegts mux delay).
            **_video("mpeg2video", "Main", 720, 576, 25.0, 25, 1.0, sar="64:45", dar="16:9", display=(1024, 576),
                     scan="interlaced"),
            "field_order": "tff", "color_range": "tv",
        }, audio=[{"codec": "ac3", "channels": 2, "channel_layout": "stereo", "sample_rate": 48000}]),
        _Recipe("vfr.mp4", _build_vfr, {
            **_file("vfr.mp4", "mp4", "isom"),
            # mediainfo FrameRate_Mode "VFR" (min 24.000, max 30.000); ffprobe r_frame_rate 120/1, avg 27/1
            **_video("h264", "High", 320, 240, 27.0, 54, 2.0, dar="4:3", vfr=True),
            "start_time_seconds": 0.0,
        }),
        _Recipe("late_start.mp4", _build_late_start, {
            **_file("late_start.mp4", "mp4", "isom"),
            # empty edit of 1.5 s: ffprobe stream start_pts 19200 / 12800 = 1.5, stream duration 1.0,
            # format duration 2.5; mediainfo Video Delay (Source_Delay 1500 ms), Duration 2.500, Source_Duration 1.000
            **_video("h264", "High", 320, 240, 25.0, 25, 1.0, dar="4:3"),
            "start_time_seconds": 1.5,
        }),
        _Recipe("short.mp4", _build_short, {
            **_file("short.mp4", "mp4", "isom"),
            **_video("h264", "High", 320, 240, 25.0, 10, 0.4, dar="4:3"),
            "start_time_seconds": 0.0,
        }),
        _Recipe("rotated.mp4", _build_rotated, {
            **_file("rotated.mp4", "mp4", "isom"),
            **_video("h264", "High", 640, 360, 25.0, 25, 1.0, display=(360, 640), rotation=90),
        }),
        _Recipe("anamorphic.mov", _build_anamorphic, {
            **_file("anamorphic.mov", "mov", "qt  "),
            # mov 'pasp' 64:45: mediainfo PixelAspectRatio 1.422, DisplayAspectRatio 1.778
            **_video("h264", "High", 720, 576, 25.0, 25, 1.0, sar="64:45", dar="16:9", display=(1024, 576)),
        }),
        _Recipe("two_audio.mkv", _build_two_audio, {
            **_file("two_audio.mkv", "matroska"),
            **_video("h264", "High", 320, 240, 25.0, 25, 1.0, dar="4:3"),
        }, audio=[
            _aac(2, 48000, language="eng", title="English", is_default=True),
            _aac(1, 44100, language="fra", title="Français", is_default=False),
        ]),
        _Recipe("subs.mp4", _build_subs_mp4, {
            **_file("subs.mp4", "mp4", "isom"),
            **_video("h264", "High", 320, 240, 25.0, 25, 1.0, dar="4:3"),
        }, subtitles=[
            # ffmpeg marks the only text track enabled -> ffprobe disposition.default 1; no title is written
            {"codec": "mov_text", "language": "eng", "title": None, "is_default": True, "is_forced": False},
        ]),
        _Recipe("subs.mkv", _build_subs_mkv, {
            **_file("subs.mkv", "matroska"),
            **_video("h264", "High", 320, 240, 25.0, 25, 1.0, dar="4:3"),
        }, subtitles=[
            {"codec": "subrip", "language": "deu", "title": "Deutsch", "is_default": True, "is_forced": True},
        ]),
        _Recipe("camera_tags.mov", _build_camera_tags, {
            **_file("camera_tags.mov", "mov", "qt  "),
            **_video("h264", "High", 320, 240, 25.0, 25, 1.0, dar="4:3"),
            "recorded_at": RECORDED_AT,
            "camera_make": "Apple", "camera_model": "iPhone 15 Pro", "software": "17.4.1",
            "gps_latitude": 48.8584, "gps_longitude": 2.2945, "gps_altitude": 35.0,
        }),
        _Recipe("timecode.mov", _build_timecode, {
            **_file("timecode.mov", "mov", "qt  "),
            # tmcd track: ffprobe tags.timecode on the video stream AND on the data stream (codec_tag tmcd);
            # not in format tags. mediainfo: "Other" track Format "QuickTime TC", TimeCode_FirstFrame.
            **_video("h264", "High", 320, 240, 25.0, 25, 1.0, dar="4:3"),
            "timecode": "01:00:00:00",
            "start_time_seconds": 0.0,  # ffprobe 0.0; mediainfo's Video "Delay" is 3600.000 (the timecode, not a PTS)
        }),
        _Recipe("prores.mov", _build_prores, {
            **_file("prores.mov", "mov", "qt  "),
            # codec_tag apcn; ffprobe bits_per_raw_sample 10; mediainfo Format_Profile "422", no BitDepth
            **_video("prores", "Standard", 320, 240, 24.0, 24, 1.0, pix_fmt="yuv422p10le", bit_depth=10,
                     chroma="4:2:2", dar="4:3"),
        }),
        _Recipe("dnxhd.mov", _build_dnxhd, {
            **_file("dnxhd.mov", "mov", "qt  "),
            # codec_tag AVdh; mediainfo Format "VC-3", Format_Commercial_IfAny "DNxHR LB", BitDepth 8
            **_video("dnxhd", "DNXHR LB", 320, 240, 24.0, 24, 1.0, pix_fmt="yuv422p", chroma="4:2:2", dar="4:3"),
        }),
        _Recipe("mpegts.mts", _build_mpegts, {
            **_file("mpegts.mts", "mpegts"),
            **_video("h264", "High", 320, 240, 25.0, 25, 1.0, dar="4:3"),
        }, audio=[_aac(2, 48000, language="eng")]),
        _Recipe("truncated.mp4", _build_truncated, {"file_name": "truncated.mp4", "extension": "mp4"},
                issues=["unreadable"]),
        _Recipe("audio_only.m4a", _build_audio_only, {
            **_file("audio_only.m4a", "mp4", "M4A "),
            "duration_seconds": 1.0,
        }, audio=[_aac(2, 48000)], issues=["no_video_stream"]),
    ]


# ---------------------------------------------------------------------------------------------------- API


def make_tech_fixtures(folder: Path) -> dict[str, TechFixture]:
    """Make every fixture in folder (skip ones already there), return them by name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fixtures: dict[str, TechFixture] = {}
    for recipe in _recipes():
        target = folder / recipe.name
        if not target.exists():
            # same extension as the target: exiftool picks its writer by extension
            tmp = folder / f".partial-{recipe.name}"
            try:
                with tempfile.TemporaryDirectory(prefix="tech-media-") as scratch:
                    recipe.build(tmp, Path(scratch))
                tmp.replace(target)
            finally:
                tmp.unlink(missing_ok=True)
        fixtures[recipe.name] = TechFixture(
            name=recipe.name, path=target, expected=recipe.expected, expected_audio=recipe.audio,
            expected_subtitles=recipe.subtitles, expected_issue_codes=recipe.issues,
        )
    return fixtures


# ---------------------------------------------------------------------------------------- media that lies or barely exists
# Files whose headers claim what is not there, that hold one frame, or whose video no decoder here reads.
# Each is made by ffmpeg (5.1 CLI) and then patched at the byte level; the figures they really hold are in
# LYING_TRUTH. Used by tests/test_media_truth.py (and any hostile-corpus test).

LYING_TRUTH: dict[str, dict[str, Any]] = {
    # 100 frames claimed (4.0 s), moov at the front, bytes cut at 30%: 28 packets, 1.16 s are in the file
    "front_index_cut.mp4": {"claimed": 4.0, "max_seconds": 1.5, "max_frames": 35},
    # mvhd, mdhd and tkhd durations zeroed: ffprobe says 0.0; all 100 frames (4.0 s) are there
    "zero_duration.mp4": {"claimed": 0.0, "seconds": 4.0, "frames": 100},
    # Segment Info Duration patched to 1e15 ms (277,777,777 hours); 4.0 s of video
    "huge_duration.mkv": {"claimed": 1e12, "seconds": 4.0, "frames": 100},
    "one_frame.mp4": {"seconds": 0.04, "frames": 1},
    "half_second.mp4": {"seconds": 0.5, "frames": 12},
    # the video sample entry's fourcc avc1 -> R3D1: libavformat reads the track, no decoder exists for it;
    # RED KOMODO camera tags (QuickTime Keys), timecode 01:02:03:04, recorded 2024-05-17 10:30:00 UTC
    "no_decoder.mov": {"metadata_only": "metadata-only: no decoder for R3D1", "camera": "RED KOMODO",
                       "timecode": "01:02:03:04", "recorded_at": RECORDED_AT},
    # every byte of the mdat replaced by random bytes: demuxes, and no packet decodes
    "no_frame.mov": {"metadata_only": "metadata-only: no decodable video frame"},
    # H.264 4:4:4 (libx264 takes odd sizes there), 5 frames at 5 fps, like moviepy's 1x1 test_video.mp4: the proxy
    # must still be even and at least 2x2, a 4000x2 strip keeps its shape (1280x2)
    "tiny_1x1.mp4": {"size": (1, 1), "proxy": (2, 2)},
    "tiny_1x2.mp4": {"size": (1, 2), "proxy": (2, 2)},
    "tiny_3x1.mp4": {"size": (3, 1), "proxy": (2, 2)},
    "strip_4000x2.mp4": {"size": (4000, 2), "proxy": (1280, 2)},
    "strip_2x3000.mp4": {"size": (2, 3000), "proxy": (2, 1280)},
    # 3 s of FLV (a keyframe every 5 frames) written with its keyframe index in onMetaData, as FLVTool2 does for
    # ExifTool's Flash.flv, then cut to 9,000 bytes: 2 frames are in the file, the index and the 3 s claim
    # point past its end, so a seek there hits end of file
    "indexed_cut.flv": {"claimed": 3.0, "frames": 2},
    # the headers of ffmpeg-made files cut where the packets begin (like ExifTool's ASF.wmv and Matroska.mkv):
    # libavformat cannot open them, MediaInfo and ExifTool read the tracks and the recording date
    "header_only.mkv": {"metadata_only": "metadata-only: ffmpeg cannot open this Matroska file (AVC 320x240 video); "
                                         "MediaInfo read its headers", "recorded_at": RECORDED_AT},
    "header_only.wmv": {"metadata_only": "metadata-only: ffmpeg cannot open this Windows Media file (WMV2 320x240 "
                                         "video); MediaInfo read its headers"},
}

# ASF's Data Object GUID 75B22636-668E-11CF-A6D9-00AA0062CE6C (little-endian fields): the packets begin there
ASF_DATA_OBJECT = bytes.fromhex("3626b2758e66cf11a6d900aa0062ce6c")
MKV_CLUSTER = b"\x1f\x43\xb6\x75"


def _patch_durations_to_zero(data: bytearray) -> None:
    """mvhd / mdhd / tkhd duration fields set to 0 (version 0: 32-bit, version 1: 64-bit).

    After the box type: version+flags (4), creation and modification times (2 x 4 or 8), then timescale
    (mvhd, mdhd) or track id + reserved (tkhd), then the duration.
    """
    for box, between in ((b"mvhd", 4), (b"mdhd", 4), (b"tkhd", 8)):
        at = data.find(box)
        while at >= 0:
            width = 8 if data[at + 4] == 1 else 4
            offset = at + 4 + 4 + 2 * width + between
            data[offset : offset + width] = bytes(width)
            at = data.find(box, at + 4)


def _build_lying(name: str, out: Path, scratch: Path) -> None:
    four_seconds = [*_ff(), *_video_in("320x240", 25, 4), *_H264]
    if name == "front_index_cut.mp4":
        full = scratch / "full.mp4"
        _run([*four_seconds, "-movflags", "+faststart", "-f", "mp4", str(full)])
        data = full.read_bytes()
        assert data.find(b"moov") < data.find(b"mdat"), "moov not at the front"
        out.write_bytes(data[: int(len(data) * 0.3)])
    elif name == "zero_duration.mp4":
        full = scratch / "full.mp4"
        _run([*four_seconds, "-f", "mp4", str(full)])
        data = bytearray(full.read_bytes())
        _patch_durations_to_zero(data)
        out.write_bytes(bytes(data))
    elif name == "huge_duration.mkv":
        full = scratch / "full.mkv"
        _run([*four_seconds, "-f", "matroska", str(full)])
        data = bytearray(full.read_bytes())
        at = data.find(b"\x44\x89\x88")  # Duration element, an 8-byte float (milliseconds at the default scale)
        assert at > 0, "no 8-byte Duration element"
        data[at + 3 : at + 11] = struct.pack(">d", 277_777_777 * 3600 * 1000.0)
        out.write_bytes(bytes(data))
    elif name == "one_frame.mp4":
        _run([*_ff(), *_video_in("320x240", 25, 1), "-frames:v", "1", *_H264, "-f", "mp4", str(out)])
    elif name == "half_second.mp4":
        _run([*_ff(), *_video_in("320x240", 24, 0.5), *_sine_in(0.5), *_H264, "-c:a", "aac", "-f", "mp4", str(out)])
    elif name == "no_decoder.mov":
        made = scratch / "camera.mov"
        _run([*four_seconds, "-timecode", "01:02:03:04", "-metadata", "creation_time=2024-05-17T10:30:00Z",
              "-f", "mov", str(made)])
        _exiftool(made, "-Keys:Make=RED", "-Keys:Model=KOMODO")
        data = bytearray(made.read_bytes())
        entry = data.find(b"avc1", data.find(b"stsd"))
        data[entry : entry + 4] = b"R3D1"
        out.write_bytes(bytes(data))
    elif name == "no_frame.mov":
        made = scratch / "garbage.mov"
        _run([*four_seconds, "-f", "mov", str(made)])
        data = bytearray(made.read_bytes())
        at = data.find(b"mdat")
        size = struct.unpack(">I", data[at - 4 : at])[0]
        data[at + 4 : at - 4 + size] = random.Random(13).randbytes(size - 8)
        out.write_bytes(bytes(data))
    else:
        _build_small_or_cut(name, out, scratch)


def _build_small_or_cut(name: str, out: Path, scratch: Path) -> None:
    """Tiny and extreme-aspect clips, a cut FLV whose keyframe index points past its end, header-only files."""
    truth = LYING_TRUTH[name]
    if "size" in truth:
        width, height = truth["size"]
        _run([*_ff(), "-f", "lavfi", "-i", f"testsrc2=size=16x16:rate=5:duration=1,scale={width}:{height}",
              "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv444p", "-f", "mp4", str(out)])
    elif name == "indexed_cut.flv":
        full = scratch / "full.flv"
        _run([*_ff(), *_video_in("192x154", 20, 3), "-c:v", "flv1", "-g", "5", "-flvflags", "add_keyframe_index",
              "-f", "flv", str(full)])
        out.write_bytes(full.read_bytes()[:9000])
    elif name in ("header_only.mkv", "header_only.wmv"):
        full = scratch / f"full{Path(name).suffix}"
        if name.endswith(".mkv"):
            _run([*_ff(), *_video_in("320x240", 25, 4), *_sine_in(4), *_H264, "-c:a", "aac", "-metadata",
                  f"creation_time={RECORDED_AT}", "-f", "matroska", str(full)])
            marker = MKV_CLUSTER
        else:
            _run([*_ff(), *_video_in("320x240", 25, 4), *_sine_in(4), "-c:v", "wmv2", "-c:a", "wmav2",
                  "-f", "asf", str(full)])
            marker = ASF_DATA_OBJECT
        data = full.read_bytes()
        at = data.find(marker)
        assert at > 0, f"no packets marker in {full.name}"
        out.write_bytes(data[:at])
    else:
        raise KeyError(name)



def make_lying_media(folder: Path) -> dict[str, Path]:
    """The LYING_TRUTH files in folder (made once; existing files are kept), by name."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, Path] = {}
    for name in LYING_TRUTH:
        target = folder / name
        if not target.exists():
            tmp = folder / f".partial-{name}"
            try:
                with tempfile.TemporaryDirectory(prefix="lying-media-") as scratch:
                    _build_lying(name, tmp, Path(scratch))
                tmp.replace(target)
            finally:
                tmp.unlink(missing_ok=True)
        made[name] = target
    return made


if __name__ == "__main__":
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ".tech-media")
    started = time.monotonic()
    made = make_tech_fixtures(out_dir)
    elapsed = time.monotonic() - started
    for fx in made.values():
        print(fx.name, fx.expected)
        if fx.expected_audio:
            print("    audio:", fx.expected_audio)
        if fx.expected_subtitles:
            print("    subtitles:", fx.expected_subtitles)
        if fx.expected_issue_codes:
            print("    issues:", fx.expected_issue_codes)
    print(f"{len(made)} fixtures in {out_dir} ({elapsed:.1f} s)")
