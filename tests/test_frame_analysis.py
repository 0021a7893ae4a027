"""frame_analysis on clips whose content ffmpeg made: exposure, blur, noise, cuts, fades."""

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from catalog_resources.media.faces import detect_faces, dominant_shot_type, shot_type
from catalog_resources.media.frame_inspector import focal_category
from catalog_resources.models.media import ProxySettings
from catalog_resources.resources.media import FFmpegRunner, FrameInspector, Thumbnailer

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "12"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def pattern(out: Path, vf: str | None = None, seconds: float = 2, source: str = "testsrc2") -> Path:
    args = ["-f", "lavfi", "-i", f"{source}=size=640x360:rate=25:duration={seconds}"]
    if vf:
        args += ["-vf", vf]
    ffmpeg(*args, *X264, str(out))
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("analysis")
    made = {
        "normal": pattern(d / "normal.mp4"),
        # grey so that luma alone decides: doubled (highlights clip) and lowered by 120 levels (shadows crush)
        "over": pattern(d / "over.mp4", "hue=s=0,lutyuv=y=clip(val*2\\,16\\,235)"),
        "dark": pattern(d / "dark.mp4", "hue=s=0,lutyuv=y=clip(val-120\\,16\\,235)"),
        "blurred": pattern(d / "blurred.mp4", "gblur=sigma=6"),
        "noisy": pattern(d / "noisy.mp4", "noise=alls=40:allf=t"),
        "fade": pattern(d / "fade.mp4", "fade=t=out:st=0.5:d=1.5,fade=t=in:st=2.2:d=1.5", seconds=4),
    }
    sources = ["testsrc2=size=640x360:rate=25:duration=2", "smptebars=size=640x360:rate=25:duration=2",
               "mandelbrot=size=640x360:rate=25,trim=duration=2,setpts=PTS-STARTPTS"]
    inputs = [a for s in sources for a in ("-f", "lavfi", "-i", s)]
    graph = "[0:v][1:v][2:v]concat=n=3:v=1,format=yuv420p[v]"
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[v]", *X264, str(d / "cuts.mp4"))
    ffmpeg(*inputs, "-filter_complex", graph, "-map", "[v]", *X264, "-output_ts_offset", "1", str(d / "cuts_late.mp4"))
    made["cuts"], made["cuts_late"] = d / "cuts.mp4", d / "cuts_late.mp4"
    # a cut out of black into a scene fading up, entered at 5 % of its level (as in PySceneDetect's test video)
    dark_entry = ["testsrc2=size=640x360:rate=25:duration=2", "color=black:size=640x360:rate=25:duration=1",
                  "mandelbrot=size=640x360:rate=25,trim=duration=5,setpts=PTS-STARTPTS,fade=t=in:st=0:d=4,"
                  "trim=start=0.2,setpts=PTS-STARTPTS"]
    ffmpeg(*[a for s in dark_entry for a in ("-f", "lavfi", "-i", s)], "-filter_complex", graph, "-map", "[v]", *X264,
           str(d / "cut_from_black.mp4"))
    made["cut_from_black"] = d / "cut_from_black.mp4"
    for name, face_fraction in FACE_FRAMINGS.items():
        still = d / f"{name}.png"
        face_frame(face_fraction).save(still)
        ffmpeg("-loop", "1", "-i", str(still), "-t", "1", "-r", "25", *X264, str(d / f"{name}.mp4"))
        made[name] = d / f"{name}.mp4"
    return made


# shot name -> face height as a share of the frame (the detector's box, measured on astronaut())
FACE_FRAMINGS = {"wide": 0.06, "medium": 0.16, "close-up": 0.35, "extreme close-up": 0.62}


def face_frame(face_fraction: float, size: tuple[int, int] = (1280, 720)) -> Image.Image:
    """scikit-image's astronaut photo scaled so her face is `face_fraction` of the frame height, centred."""
    photo = Image.fromarray(data.astronaut())  # 512 px; her face box is about 90x109 at (176, 68)
    scale = face_fraction * size[1] / 109
    photo = photo.resize((round(512 * scale), round(512 * scale)))
    frame = Image.new("RGB", size, (90, 90, 90))
    frame.paste(photo, (round(size[0] / 2 - 221 * scale), round(size[1] / 2 - 122 * scale)))
    return frame


@pytest.fixture(scope="module")
def analysed(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("analysed")
    runner, thumbnailer, analyzer = FFmpegRunner(encoder="libx264"), Thumbnailer(count=8), FrameInspector()
    results = {}
    for name, path in clips.items():
        import av

        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            start = float(stream.start_time * stream.time_base)
            duration = float(stream.duration * stream.time_base)
        derived = runner.derive(name, path, out / name, ProxySettings(), duration=duration, has_audio=False,
                                hdr_transfer=None, sample_aspect="1:1")
        thumbs = thumbnailer.extract(name, path, out / name / "thumbs")
        results[name] = analyzer.analyze(name, derived, thumbs, duration=duration, start=start, focal_35mm=None)
    return results


def test_exposure_directions_and_warning(analysed):
    normal, over, dark = analysed["normal"], analysed["over"], analysed["dark"]
    assert over.overexposed_percent > normal.overexposed_percent + 10
    assert dark.underexposed_percent > normal.underexposed_percent + 10
    assert over.exposure_warning and dark.exposure_warning and not normal.exposure_warning
    assert over.exposure_stops is not None and over.exposure_stops < 0  # too bright: negative stops
    assert dark.exposure_stops is not None and dark.exposure_stops > 0
    assert normal.exposure_stops is None


def test_blur_noise_and_quality(analysed):
    normal, blurred, noisy = analysed["normal"], analysed["blurred"], analysed["noisy"]
    assert blurred.blur_score < normal.blur_score / 5 and blurred.is_blurry and not normal.is_blurry
    assert noisy.noise_score > normal.noise_score * 3
    assert blurred.quality_score < normal.quality_score
    assert 0 <= blurred.quality_score <= 100 and set(normal.quality_parts) == {"sharpness", "noise", "exposure", "compression"}


def test_hard_cuts_within_one_frame_and_none_on_a_fade(analysed):
    cuts = analysed["cuts"]
    assert len(cuts.scene_cuts) == 2
    assert cuts.scene_cuts[0] == pytest.approx(2.0, abs=0.04) and cuts.scene_cuts[1] == pytest.approx(4.0, abs=0.04)
    assert [(s.start_seconds, s.end_seconds) for s in cuts.segments] == [
        (pytest.approx(0.0, abs=0.04), cuts.scene_cuts[0]), (cuts.scene_cuts[0], cuts.scene_cuts[1]),
        (cuts.scene_cuts[1], pytest.approx(6.0, abs=0.05)),
    ]
    assert all(s.keyframe_path and Path(s.keyframe_path).is_file() for s in cuts.segments)
    assert analysed["fade"].scene_cuts == [] and len(analysed["fade"].segments) == 1
    assert analysed["normal"].analysis_frames == 50


def test_a_cut_out_of_black_into_a_dim_fade_up_is_a_cut(analysed):
    """Black (level 0) into a frame at 5 % of its scene's level differs by 0.029 only, under the 0.08 of a cut."""
    cuts = analysed["cut_from_black"].scene_cuts
    assert len(cuts) == 2 and cuts[0] == pytest.approx(2.0, abs=0.04) and cuts[1] == pytest.approx(3.0, abs=0.04), cuts


def test_cut_times_are_source_presentation_times(analysed):
    late = analysed["cuts_late"]
    assert late.scene_cuts[0] == pytest.approx(3.0, abs=0.04) and late.scene_cuts[1] == pytest.approx(5.0, abs=0.04)
    assert late.segments[0].start_seconds == pytest.approx(1.0, abs=0.04)


def test_focal_length_category():
    assert [focal_category(f) for f in (None, 24, 50, 135)] == [None, "wide", "normal", "telephoto"]


@pytest.mark.parametrize("expected", list(FACE_FRAMINGS))
def test_shot_type_from_face_size(expected):
    faces = detect_faces(np.asarray(face_frame(FACE_FRAMINGS[expected])))
    assert len(faces) == 1 and faces[0].confidence >= 60
    assert faces[0].height == pytest.approx(FACE_FRAMINGS[expected], rel=0.25)
    assert shot_type(faces) == expected


def test_no_face_on_test_patterns_and_blank_frames():
    assert detect_faces(np.full((720, 1280, 3), 90, np.uint8)) == []
    assert shot_type([]) == "no people"
    assert dominant_shot_type([]) is None
    assert dominant_shot_type(["close-up", "no people", "close-up", "medium"]) == "close-up"
    assert dominant_shot_type(["no people"] * 7 + ["wide"]) == "no people"


def test_clip_shot_type_through_the_analyzer(analysed):
    for expected in FACE_FRAMINGS:
        result = analysed[expected]
        assert result.shot_type == expected, (expected, [f.shot_type for f in result.frames])
        assert all(len(f.faces) == 1 for f in result.frames)
    for name in ("normal", "blurred", "cuts"):
        assert analysed[name].shot_type == "no people"
        assert all(f.faces == [] for f in analysed[name].frames)
