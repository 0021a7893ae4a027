"""The one decode pass: proxy, speech audio and analysis stream, read back with PyAV."""

from pathlib import Path

import av
import pytest

from catalog_resources.media.ffmpeg import HARDWARE_ENCODERS, FFmpegError
from catalog_resources.resources.media import FFmpegRunner
from catalog_resources.models.media import ProxySettings


def derive(runner, fixture, out: Path, **overrides):
    kwargs = {
        "duration": fixture.expected.get("duration_seconds"),
        "has_audio": bool(fixture.expected_audio),
        "hdr_transfer": fixture.expected.get("transfer_characteristics"),
        "sample_aspect": fixture.expected.get("sample_aspect_ratio"),
    }
    kwargs.update(overrides)
    return runner.derive(fixture.name, fixture.path, out, ProxySettings(), **kwargs)


def video_of(path: str) -> tuple[int, int, float, str, int]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        cc = stream.codec_context
        return cc.width, cc.height, float(stream.average_rate), cc.name, frames


@pytest.fixture(scope="module")
def runner(tmp_path_factory) -> FFmpegRunner:
    return FFmpegRunner(cache_dir=str(tmp_path_factory.mktemp("cache")))


def test_one_pass_makes_proxy_audio_and_analysis_stream(runner, media_library, tmp_path):
    from tests.media import CLIPS

    spec = CLIPS["h264_720p.mp4"]
    progress: list[float] = []
    result = runner.derive("c1", media_library["h264_720p.mp4"], tmp_path, ProxySettings(), duration=spec.seconds,
                           has_audio=True, hdr_transfer=None, sample_aspect="1:1", on_progress=progress.append)
    width, height, fps, codec, frames = video_of(result.proxy_path)
    assert (width, height, codec) == (1280, 720, "h264")
    assert fps == pytest.approx(5.0)
    assert frames == pytest.approx(spec.seconds * 5, abs=1)
    assert (result.proxy_width, result.proxy_height, result.proxy_fps) == (1280, 720, 5.0)
    with av.open(result.audio_path) as container:
        audio = container.streams.audio[0]
        assert (audio.codec_context.sample_rate, audio.codec_context.channels) == (16000, 1)
    with av.open(result.analysis_path) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.pix_fmt) == (64, "gray")
        pts = [f.time for f in container.decode(stream)]
    assert len(pts) == result.analysis_frames == int(spec.seconds * spec.fps)  # every source frame, once
    assert pts[1] - pts[0] == pytest.approx(1 / spec.fps, abs=1e-3)
    assert progress and progress[-1] == pytest.approx(1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis.nut", "audio_16k.wav", "proxy.mp4"]


def test_small_settings_and_no_audio(runner, media_library, tmp_path):
    settings = ProxySettings(fps=2, max_dimension=160)
    result = runner.derive("c2", media_library["vp9_noaudio.mkv"], tmp_path, settings, duration=1.5,
                           has_audio=False, hdr_transfer=None, sample_aspect="1:1")
    width, height, fps, _codec, _frames = video_of(result.proxy_path)
    assert (width, height) == (160, 120) and fps == pytest.approx(2.0)
    assert result.audio_path is None and not (tmp_path / "audio_16k.wav").exists()


def test_rotation_anamorphic_and_hdr_are_corrected(runner, tech_library, tmp_path):
    rotated = derive(runner, tech_library["rotated.mp4"], tmp_path / "rot")
    assert (rotated.proxy_width, rotated.proxy_height) == (360, 640)  # portrait, as displayed
    anamorphic = derive(runner, tech_library["anamorphic.mov"], tmp_path / "ana")
    assert (anamorphic.proxy_width, anamorphic.proxy_height) == (1024, 576)  # square pixels
    hdr = derive(runner, tech_library["hdr10_hevc.mp4"], tmp_path / "hdr")
    assert hdr.tone_mapped
    with av.open(hdr.proxy_path) as container:
        frame = next(container.decode(video=0))
        assert frame.format.name == "yuv420p"  # 8-bit SDR out of 10-bit PQ in


def test_failure_names_the_clip_and_leaves_no_files(media_library, tmp_path):
    broken = FFmpegRunner(encoder="no_such_encoder")
    with pytest.raises(FFmpegError) as failure:
        broken.derive("clip42", media_library["short.mp4"], tmp_path, ProxySettings(), duration=0.4, has_audio=True,
                      hdr_transfer=None, sample_aspect="1:1")
    assert "clip42" in str(failure.value) and "short.mp4" in str(failure.value)
    assert "no_such_encoder" in str(failure.value) or "Unknown encoder" in str(failure.value)
    assert list(tmp_path.iterdir()) == []


def test_encoder_choice_is_tried_and_remembered(runner):
    chosen = runner.select_encoder()
    assert chosen in {"libx264", *(e for encoders in HARDWARE_ENCODERS.values() for e in encoders)}
    assert runner._trial(chosen)
    remembered = (Path(runner.cache_dir) / "encoder.json").read_text()
    assert chosen in remembered
    assert FFmpegRunner(encoder="libx264").select_encoder() == "libx264"


@pytest.mark.slow
def test_ffmpeg_progress_reaches_subscribers_in_this_process(catalog_env, media_library, tmp_path):
    """The CLI's bar follows ffmpeg inside a run: the proxy step publishes on the in-process bus."""
    from catalog_assets.catalog_app import CatalogApp
    from catalog_resources.progress_bus import subscribe

    folder = tmp_path / "one"
    folder.mkdir()
    clip = folder / "h264_720p.mp4"
    clip.write_bytes(media_library["h264_720p.mp4"].read_bytes())
    seen = []
    unsubscribe = subscribe(seen.append)
    try:
        summary = CatalogApp(catalog_env).ingest([folder], steps=["clip_source", "technical_metadata", "proxy"])
    finally:
        unsubscribe()
    assert len(summary.new) == 1
    assert seen and {e.step for e in seen} == {"proxy"} and {e.label for e in seen} == {"h264_720p.mp4"}
    fractions = [e.fraction for e in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
