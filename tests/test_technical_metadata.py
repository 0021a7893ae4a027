"""Technical metadata read back from fixtures whose properties ffmpeg and exiftool wrote."""

from datetime import datetime
from pathlib import Path
import pytest

from catalog_resources.media.reconcile import reconcile
from catalog_resources.resources.probes import ExifToolProbe, MediaInfoProbe, PyAVProbe
from catalog_resources.models.technical import TechnicalMetadata
from tests.tech_media import TOLERANCES

@pytest.fixture(scope="module")
def fixtures(tech_library):
    return tech_library


@pytest.fixture(scope="module")
def extracted(fixtures) -> dict[str, TechnicalMetadata]:
    pyav, mediainfo, exiftool = PyAVProbe(), MediaInfoProbe(), ExifToolProbe()
    try:
        return {
            name: reconcile(name, f.path, f.path.stat().st_size, pyav.probe(f.path), mediainfo.probe(f.path),
                            exiftool.probe(f.path))
            for name, f in fixtures.items()
        }
    finally:
        exiftool.close()


def actual_value(meta: TechnicalMetadata, key: str):
    if key == "mastering_max_luminance":
        return meta.mastering_display.max_luminance if meta.mastering_display else None
    if key == "mastering_min_luminance":
        return meta.mastering_display.min_luminance if meta.mastering_display else None
    return getattr(meta, key)


def _same(key: str, expected, actual) -> bool:
    if expected is None:
        return actual is None
    if key == "recorded_at":
        return actual is not None and actual == datetime.fromisoformat(expected)
    if isinstance(expected, float) or key in TOLERANCES:
        return actual is not None and abs(float(actual) - float(expected)) <= TOLERANCES.get(key, 1e-6)
    return actual == expected


def mismatches(expected: dict, actual_of) -> dict:
    return {k: (v, actual_of(k)) for k, v in expected.items() if not _same(k, v, actual_of(k))}


NAMES = [
    "hdr10_hevc.mp4", "hlg_hevc.mp4", "interlaced_mpeg2.mts", "vfr.mp4", "late_start.mp4", "short.mp4",
    "rotated.mp4", "anamorphic.mov", "two_audio.mkv", "subs.mp4", "subs.mkv", "camera_tags.mov", "timecode.mov",
    "prores.mov", "dnxhd.mov", "mpegts.mts", "truncated.mp4", "audio_only.m4a",
]


def test_every_fixture_is_covered(fixtures):
    assert sorted(fixtures) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_values_match_what_the_fixture_wrote(name, fixtures, extracted):
    fixture, meta = fixtures[name], extracted[name]
    assert mismatches(fixture.expected, lambda k: actual_value(meta, k)) == {}
    assert len(meta.audio_tracks) == len(fixture.expected_audio)
    for want, got in zip(fixture.expected_audio, meta.audio_tracks):
        assert mismatches(want, lambda k: getattr(got, k)) == {}
    assert len(meta.subtitle_tracks) == len(fixture.expected_subtitles)
    for want, got in zip(fixture.expected_subtitles, meta.subtitle_tracks):
        assert mismatches(want, lambda k: getattr(got, k)) == {}
    codes = {i.code for i in meta.validation_issues if i.severity == "error"}
    assert codes == set(fixture.expected_issue_codes)
    for issue in meta.validation_issues:
        assert name in issue.message  # every issue names the file


def test_source_workflow_has_evidence(extracted):
    camera = extracted["camera_tags.mov"]
    assert camera.source_workflow == "iPhone"
    assert any("iPhone" in e for e in camera.source_workflow_evidence)
    ffmpeg_made = extracted["two_audio.mkv"]
    assert ffmpeg_made.source_workflow == "ffmpeg (libavformat)"
    assert any("Lav" in e for e in ffmpeg_made.source_workflow_evidence)


def test_probe_timings_are_recorded(extracted):
    for name in ("hdr10_hevc.mp4", "prores.mov"):
        assert set(extracted[name].probe_ms) == {"pyav", "mediainfo", "exiftool"}
        assert all(ms > 0 for ms in extracted[name].probe_ms.values())


def _ffmpeg(*args: str, stdout=None) -> None:
    import subprocess

    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, stdout=stdout)


@pytest.fixture(scope="module")
def problem_clips(tmp_path_factory) -> dict[str, Path]:
    """Clips that decode but carry the problems validation must name."""
    folder = tmp_path_factory.mktemp("problems")
    video = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    _ffmpeg(*video, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "1", *x264, "-c:a", "aac",
            str(folder / "silent.mp4"))
    _ffmpeg(*video, "-f", "lavfi", "-i", "sine=frequency=440:duration=4", *x264, "-c:a", "libopus",
            str(folder / "mismatch.mkv"))
    with open(folder / "nocues.mkv", "wb") as out:  # a pipe cannot seek back: no Cues written
        _ffmpeg(*video, *x264, "-f", "matroska", "pipe:1", stdout=out)
    with open(folder / "noidx.avi", "wb") as out:  # likewise no idx1 chunk
        _ffmpeg(*video, *x264, "-f", "avi", "pipe:1", stdout=out)
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x200:rate=25:duration=1", "-c:v", "a64multi", "-f", "nut",
            str(folder / "unsupported.nut"))  # encodable here, but libavcodec has no decoder for it
    _ffmpeg(*video, *x264, "-f", "matroska", str(folder / "healthy.mkv"))
    return {p.name: p for p in folder.iterdir()}


def test_validation_issues_are_reported_not_raised(problem_clips):
    pyav, mediainfo, exiftool = PyAVProbe(), MediaInfoProbe(), ExifToolProbe()
    try:
        found = {}
        for name, path in problem_clips.items():
            meta = reconcile(name, path, path.stat().st_size, pyav.probe(path), mediainfo.probe(path), exiftool.probe(path))
            found[name] = {(i.code, i.severity) for i in meta.validation_issues}
    finally:
        exiftool.close()
    assert found == {
        "silent.mp4": {("silent_audio", "warning")},
        "mismatch.mkv": {("duration_mismatch", "warning")},
        "nocues.mkv": {("missing_index", "warning")},
        # written to a pipe: the header's frame count stays a placeholder claiming 926 s for 1 s of video
        "noidx.avi": {("missing_index", "warning"), ("truncated", "warning")},
        "unsupported.nut": {("unsupported_codec", "error")},
        "healthy.mkv": set(),
    }
