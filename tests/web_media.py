"""A small catalog for the web catalog's tests, ingested once per session by the real CLI: a clip with two
spoken sentences (the second is what the tests search for), fully analysed; and, ingested with the proxy step
(and the analysis steps that read it) off, so quickly and with a poster but no player: a ProRes clip (the codec
filter), a clip whose file name is HTML with script, and one more."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg

from tests.speech_media import make_speech_wav

FIRST = "Good morning everyone, and welcome to the quarterly meeting."
SECOND = "Angela Merkel visited the Siemens factory in Munich to discuss solar energy."
PHRASE = "Siemens factory in Munich"
HOSTILE_NAME = "<img src=x onerror=alert(1)>.mp4"
HOSTILE_TEXT = '<script>document.title="pwned"</script>'
CLI = [sys.executable, "-m", "catalog_cli.main"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_speech_clip(out: Path, work: Path) -> Path:
    """Two sentences with a long pause between them, over a test pattern: two transcript lines."""
    first, second = work / "first.wav", work / "second.wav"
    make_speech_wav(first, FIRST, lead_silence=0.5, tail_silence=1.5)
    make_speech_wav(second, SECOND, lead_silence=0.0, tail_silence=1.0)
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-i", str(first), "-i", str(second),
            "-filter_complex", "[1:a][2:a]concat=n=2:v=0:a=1[a]", "-map", "0:v", "-map", "[a]", "-shortest",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25",
            "-c:a", "aac", "-b:a", "96k", str(out))
    return out


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, env=env)


def ingest(env: dict[str, str], folder: Path, *flags: str) -> dict[str, str]:
    """{file name: clip id} of the new clips."""
    result = cli(env, "ingest", "--json", *flags, str(folder))
    assert result.returncode == 0, result.stderr
    return {Path(item["path"]).name: item["clip_id"] for item in json.loads(result.stdout)["new"]}


def build_web_catalog(root: Path, env: dict[str, str], media_library: dict[str, Path]) -> dict[str, str]:
    """Ingest the set into the catalog `env` names; {role: clip id}."""
    full, bare, work = root / "footage", root / "no proxy", root / "work"
    for folder in (full, bare, work):
        folder.mkdir(parents=True)
    make_speech_clip(full / "speech interview.mp4", work)
    shutil.copy2(media_library["prores_mov.mov"], bare / "prores_mov.mov")  # quick: no proxy or analysis
    shutil.copy2(media_library["h264_720p.mp4"], bare / HOSTILE_NAME)
    shutil.copy2(media_library["mpeg2.MTS"], bare / "no proxy.MTS")
    shutil.rmtree(work)
    ids = ingest(env, full)
    ids |= ingest(env, bare, "--disable", "proxy,frame_analysis,faces,speakers,ai_analysis")
    clips = {"speech": ids["speech interview.mp4"], "prores": ids["prores_mov.mov"], "hostile": ids[HOSTILE_NAME],
             "no_proxy": ids["no proxy.MTS"]}
    with psycopg.connect(env["VIDEO_CATALOG_DATABASE_URL"]) as conn:  # footage text that is HTML with script
        conn.execute("INSERT INTO segments (clip_id, segment_index, start_seconds, end_seconds, segment_type, text)"
                     " VALUES (%s, 900, 0.5, 1.0, 'screen_text', %s)", (clips["hostile"], HOSTILE_TEXT))
    return clips


def catalog_environment(home: Path, database_url: str, dagster_url: str) -> dict[str, str]:
    return {**os.environ, "VIDEO_CATALOG_HOME": str(home), "VIDEO_CATALOG_DATABASE_URL": database_url,
            "VIDEO_CATALOG_DAGSTER_DATABASE_URL": dagster_url, "DAGSTER_HOME": str(home / "dagster"),
            "VIDEO_CATALOG_DAGSTER_PG_URL": "", "HF_HUB_OFFLINE": "1"}
