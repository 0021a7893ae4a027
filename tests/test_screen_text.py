"""Screen text OCR on real frames: words rendered with a TrueType font by Pillow, and by ffmpeg's drawtext."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from catalog_resources.analysis.local import screen_text as st
from catalog_resources.analysis.local.screen_text import ScreenTextReader, ScreenTextReport, merge_sightings

FONT_CANDIDATES = [  # Debian: fonts-dejavu-core, fonts-liberation
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
]
FONT_FILE = next((p for p in FONT_CANDIDATES if Path(p).is_file()), None)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A TrueType font from the system, else Pillow's own scalable default (Pillow >= 10.1)."""
    return ImageFont.truetype(FONT_FILE, size) if FONT_FILE else ImageFont.load_default(size=size)


def frame(path: Path, size: tuple[int, int], texts: list[tuple[int, int, str, int]]) -> Path:
    """A dark frame with light text: (x, y, text, font size) each; format from the file suffix."""
    image = Image.new("RGB", size, (18, 32, 64))
    draw = ImageDraw.Draw(image)
    for x, y, text, points in texts:
        draw.text((x, y), text, font=font(points), fill=(245, 245, 245))
    image.save(path, quality=90) if path.suffix in {".jpg", ".webp"} else image.save(path)
    return path


def texts(report: ScreenTextReport) -> list[str]:
    return [line.text.casefold() for line in report.lines]


@pytest.fixture(scope="module")
def reader() -> ScreenTextReader:
    return ScreenTextReader(threads=2, min_confidence=0.6)


def test_reads_words_and_merges_repeats(tmp_path: Path, reader: ScreenTextReader) -> None:
    frames = [
        (1.0, frame(tmp_path / "title.jpg", (1280, 720), [(120, 300, "QUARTERLY REVIEW", 72)])),
        (4.0, frame(tmp_path / "office1.webp", (1280, 720), [(80, 600, "Berlin Office 2026", 48)])),
        (7.5, frame(tmp_path / "office2.png", (1280, 720), [(84, 604, "Berlin Office 2026", 48)])),
        (9.0, frame(tmp_path / "blank.jpg", (1280, 720), [])),
    ]
    report = reader.read(frames)

    assert report.frames_read == 4
    assert report.model.startswith("rapidocr ")
    assert report.seconds_taken > 0
    assert any("quarterly review" in t for t in texts(report)), texts(report)
    berlin = [line for line in report.lines if "berlin office 2026" in line.text.casefold()]
    assert len(berlin) == 1, texts(report)
    assert berlin[0].seconds == [4.0, 7.5]
    assert berlin[0].confidence >= 0.6
    x, y, w, h = berlin[0].box
    assert 60 <= x <= 110 and 580 <= y <= 625 and 300 < w < 700 and 30 < h < 100, berlin[0].box
    assert all(9.0 not in line.seconds for line in report.lines)  # nothing on the blank frame
    assert report.lines[0].text.casefold() == "quarterly review"  # order of first sighting


def test_blank_frame_yields_nothing(tmp_path: Path, reader: ScreenTextReader) -> None:
    report = reader.read([(0.0, frame(tmp_path / "blank.png", (1280, 720), []))])
    assert report.frames_read == 1
    assert report.lines == []


def test_4k_frame_is_downscaled_and_read(tmp_path: Path, reader: ScreenTextReader) -> None:
    path = frame(tmp_path / "uhd.jpg", (3840, 2160), [(400, 900, "Annual Report", 160)])
    bgr, scale, size = st.load_frame(path)
    assert max(bgr.shape[:2]) <= st.MAX_LONG_SIDE and size == (3840, 2160)
    assert scale == pytest.approx(1280 / 3840, rel=0.01)

    report = reader.read([(12.0, path)])
    assert texts(report) == ["annual report"]
    x, y, w, h = report.lines[0].box  # in the 4K frame's pixels, not the downscaled ones
    assert 340 <= x <= 420 and 850 <= y <= 930 and 900 < w < 2000 and 100 < h < 300, report.lines[0].box


def test_unreadable_frames_are_skipped(tmp_path: Path, reader: ScreenTextReader) -> None:
    garbage = tmp_path / "broken.jpg"
    garbage.write_bytes(b"not an image")
    report = reader.read([(1.0, tmp_path / "missing.jpg"), (2.0, garbage)])
    assert report.frames_read == 0 and report.lines == []
    assert reader.read([]).frames_read == 0


def test_fuzzy_merge_of_ocr_variants() -> None:
    sightings = [
        st._Sighting("Berlin Office 2026", 0.91, (10, 10, 100, 20), 3.0),
        st._Sighting("BERLIN  0ffice 2026", 0.97, (12, 11, 100, 20), 1.0),  # OCR jitter: case, space, 0/O
        st._Sighting("Munich Studio", 0.95, (10, 50, 100, 20), 2.0),
        st._Sighting("Berlin Office 2026", 0.80, (10, 10, 100, 20), 3.0),  # twice on one frame
    ]
    lines = merge_sightings(sightings)
    assert [line.seconds for line in lines] == [[1.0, 3.0], [2.0]]
    assert lines[0].text == "BERLIN  0ffice 2026".strip() and lines[0].confidence == 0.97  # best reading
    assert merge_sightings([st._Sighting("Berlin", 0.9, (0, 0, 1, 1), 0.0),
                            st._Sighting("Bern", 0.9, (0, 0, 1, 1), 1.0)]).__len__() == 2


def test_engine_loads_from_the_wheel_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """rapidocr downloads any model file it cannot find; ours must all be inside the installed wheel."""
    paths = st.model_paths()
    for path in paths.values():
        assert path.is_file() and path.parent == st.model_dir()

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network use attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    from rapidocr.utils import download_file

    monkeypatch.setattr(download_file.DownloadFile, "_make_http_request", classmethod(no_network))
    engine = st.build_engine(threads=1)  # a fresh engine, not the cached one
    assert engine.text_det is not None and engine.text_rec is not None


def test_missing_models_raise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(st, "model_dir", lambda: tmp_path)
    with pytest.raises(st.ScreenTextError, match="pip install"):
        st.build_engine(threads=1)


def _has_drawtext(ffmpeg: str) -> bool:
    filters = subprocess.run([ffmpeg, "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    return any(line.split()[1:2] == ["drawtext"] for line in filters.splitlines() if line.strip())


def test_text_drawn_by_ffmpeg(tmp_path: Path, reader: ScreenTextReader) -> None:
    # `make test` installs ffmpeg and fonts-dejavu-core: a missing piece is a broken setup, not a skip
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None, "ffmpeg not on PATH (Debian: apt-get install ffmpeg)"
    assert _has_drawtext(ffmpeg), "this ffmpeg has no drawtext filter (built without libfreetype)"
    assert FONT_FILE is not None, "no TrueType font file for drawtext (Debian: apt-get install fonts-dejavu-core)"
    clip = tmp_path / "clip.mp4"
    draw = (f"drawtext=fontfile={FONT_FILE}:text='BREAKING NEWS':fontsize=80:fontcolor=white"
            f":x=120:y=320:enable='gte(t,1)'")
    run = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run([*run, "-f", "lavfi", "-i", "color=c=0x102040:s=1280x720:r=25:d=2", "-vf", draw,
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)], check=True)
    frames = []
    for seconds in (0.5, 1.5):
        out = tmp_path / f"frame_{seconds}.jpg"
        subprocess.run([*run, "-ss", str(seconds), "-i", str(clip), "-frames:v", "1", "-q:v", "3", str(out)],
                       check=True)
        frames.append((seconds, out))

    report = reader.read(frames)
    assert report.frames_read == 2
    assert texts(report) == ["breaking news"], texts(report)
    assert report.lines[0].seconds == [1.5]  # not yet on screen at 0.5 s
