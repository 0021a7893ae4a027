"""Thumbnails by keyframe seek: sizes, orientation, poster choice, contact sheet, HDR tone mapping."""

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from catalog_resources.media.thumbnails import frame_scores
from catalog_resources.resources.media import Thumbnailer


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("thumbs")
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25:duration=10", *x264, "-g", "25",
           str(folder / "ten_seconds.mp4"))
    # 3 s of black, then 3 s of colour bars: the black start must not become the poster
    ffmpeg("-f", "lavfi", "-i", "color=black:size=320x240:rate=25:duration=3", "-f", "lavfi",
           "-i", "smptebars=size=320x240:rate=25:duration=3", "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]",
           "-map", "[v]", *x264, "-g", "25", str(folder / "black_start.mp4"))
    # the same pattern as SDR BT.709 and converted to 10-bit BT.2020 PQ (SDR white at 100 cd/m²)
    ffmpeg("-f", "lavfi", "-i", "smptehdbars=size=640x360:rate=25:duration=1", *x264, "-colorspace", "bt709",
           "-color_primaries", "bt709", "-color_trc", "bt709", str(folder / "sdr.mp4"))
    ffmpeg("-f", "lavfi", "-i", "smptehdbars=size=640x360:rate=25:duration=1", "-vf",
           "zscale=tin=bt709:min=bt709:pin=bt709:t=smpte2084:m=bt2020nc:p=bt2020:npl=100,format=yuv420p10le",
           "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc",
           str(folder / "pq.mp4"))
    return {p.name: p for p in folder.iterdir()}


def test_keyframe_seeks_decode_a_few_frames_and_write_every_size(clips, tmp_path):
    result = Thumbnailer().extract("c", clips["ten_seconds.mp4"], tmp_path)
    with av.open(str(clips["ten_seconds.mp4"])) as container:
        total = sum(1 for _ in container.decode(video=0))
    assert total == 250
    # one keyframe a second: the 30 seeks land on ten keyframes, each decoded once (against 250 for a full decode)
    assert result.candidates == 30 and result.frames_decoded == 10
    assert 2 <= len(result.thumbnails) <= 10
    assert all(path.endswith(".jpg") for t in result.thumbnails for path in t.paths.values())  # the default format
    assert sum(t.is_poster for t in result.thumbnails) == 1
    for thumb in result.thumbnails:
        with Image.open(thumb.paths["320"]) as small, Image.open(thumb.paths["1280"]) as large:
            assert small.size == (320, 180)
            assert large.size == (640, 360)  # never upscaled past the source
        assert 0.0 <= thumb.pts_seconds < 10.0
    times = [t.pts_seconds for t in result.thumbnails]
    assert times == sorted(times)
    with Image.open(result.contact_sheet_path) as sheet:
        columns = min(5, len(result.thumbnails))
        rows = (len(result.thumbnails) + columns - 1) // columns
        assert sheet.size == result.contact_sheet_size == (columns * 326 + 6, rows * (180 + 22 + 6) + 6)


def test_webp_when_asked(clips, tmp_path):
    result = Thumbnailer(count=3, image_format="webp").extract("w", clips["ten_seconds.mp4"], tmp_path)
    with Image.open(result.thumbnails[0].paths["1280"]) as image:
        assert image.format == "WEBP" and image.size == (640, 360)
    with Image.open(result.contact_sheet_path) as sheet:
        assert sheet.format == "WEBP"


def test_black_frames_are_skipped_and_not_the_poster(clips, tmp_path):
    result = Thumbnailer(count=12).extract("c", clips["black_start.mp4"], tmp_path)
    assert result.rejected.get("black", 0) >= 1
    poster = next(t for t in result.thumbnails if t.is_poster)
    assert poster.brightness > 16 and poster.pts_seconds >= 3.0


def test_rotation_and_anamorphic_pixels_are_shown_as_displayed(tech_library, tmp_path):
    rotated = Thumbnailer(count=3).extract("r", tech_library["rotated.mp4"].path, tmp_path / "r", rotation=90)
    with Image.open(rotated.thumbnails[0].paths["1280"]) as image:
        assert image.size == (360, 640)
    anamorphic = Thumbnailer(count=3).extract("a", tech_library["anamorphic.mov"].path, tmp_path / "a",
                                              sample_aspect="64:45")
    with Image.open(anamorphic.thumbnails[0].paths["1280"]) as image:
        assert image.size == (1024, 576)


def _luma_and_saturation(path: str) -> tuple[float, float]:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB")).astype(np.float32)
    luma = rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    saturation = (rgb.max(axis=2) - rgb.min(axis=2)).mean()
    return float(luma.mean()), float(saturation)


def test_hdr_is_tone_mapped_close_to_the_sdr_render(clips, tmp_path):
    sdr = Thumbnailer(count=1, image_format="jpeg", quality=95).extract("s", clips["sdr.mp4"], tmp_path / "s")
    hdr = Thumbnailer(count=1, image_format="jpeg", quality=95).extract(
        "h", clips["pq.mp4"], tmp_path / "h", transfer="smpte2084"
    )
    raw = Thumbnailer(count=1, image_format="jpeg", quality=95).extract("r", clips["pq.mp4"], tmp_path / "r")
    sdr_luma, sdr_sat = _luma_and_saturation(sdr.thumbnails[0].paths["1280"])
    hdr_luma, hdr_sat = _luma_and_saturation(hdr.thumbnails[0].paths["1280"])
    raw_luma, raw_sat = _luma_and_saturation(raw.thumbnails[0].paths["1280"])
    assert hdr.tone_mapped and not raw.tone_mapped
    assert abs(hdr_luma - sdr_luma) / sdr_luma < 0.15
    assert abs(hdr_sat - sdr_sat) / sdr_sat < 0.25
    # without tone mapping the PQ signal shown as SDR is washed out: the test can tell
    assert abs(raw_sat - sdr_sat) / sdr_sat > abs(hdr_sat - sdr_sat) / sdr_sat


def test_blur_lowers_the_sharpness_score(clips):
    with av.open(str(clips["ten_seconds.mp4"])) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    blurred = np.asarray(Image.fromarray(frame).filter(__import__("PIL.ImageFilter").ImageFilter.GaussianBlur(4)))
    assert frame_scores(blurred)["sharpness"] < frame_scores(frame)["sharpness"] / 4


def test_a_clip_whose_seeks_find_nothing_still_gets_thumbnails(tech_library, tmp_path):
    result = Thumbnailer(count=5).extract("ts", tech_library["mpegts.mts"].path, tmp_path)  # 1 s MPEG-TS
    assert result.thumbnails and all(Path(t.paths["320"]).is_file() for t in result.thumbnails)
    assert result.frames_decoded <= 2 * 25  # each of the two threads reads forward once, at most the clip
