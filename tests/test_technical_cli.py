"""technical_metadata through the whole graph: ingest via the CLI, `show` and `list` read it back."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey

from catalog_resources.models.technical import TechnicalMetadata
from tests.test_ingest import dagster_instance, rows
from tests.test_technical_metadata import actual_value, mismatches

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def ingested(module_catalog_env, tech_library):
    folder = tech_library["hdr10_hevc.mp4"].path.parent
    result = cli("ingest", "--json", str(folder))
    assert result.returncode == 1, result.stderr  # truncated.mp4 fails, the rest is cataloged
    summary = json.loads(result.stdout)
    assert [f["path"] for f in summary["failed"]] == [str(tech_library["truncated.mp4"].path)]
    assert [f["path"] for f in summary["not_video"]] == [str(tech_library["audio_only.m4a"].path)]
    return summary


def test_show_prints_what_each_fixture_wrote(ingested, tech_library):
    for name, fixture in tech_library.items():
        if fixture.expected_issue_codes:
            continue  # not cataloged: see the ingest summary
        shown = cli("show", str(fixture.path), "--json")
        assert shown.returncode == 0, (name, shown.stderr)
        meta = TechnicalMetadata.model_validate(json.loads(shown.stdout)["technical_metadata"])
        assert mismatches(fixture.expected, lambda k: actual_value(meta, k)) == {}, name
        assert [t.language for t in meta.audio_tracks] == [a.get("language") for a in fixture.expected_audio] or not fixture.expected_audio
    text = cli("show", str(tech_library["camera_tags.mov"].path))
    assert text.returncode == 0
    for value in ("iPhone 15 Pro", "Apple", "48.8584", "2024-05-17", "iPhone"):
        assert value in text.stdout, value
    hdr = cli("show", str(tech_library["hdr10_hevc.mp4"].path)).stdout
    assert "HDR10" in hdr and "smpte2084" in hdr and "1000" in hdr


def test_show_resolves_prefix_and_rejects_unknown(ingested):
    clip_id = ingested["new"][0]["clip_id"]
    by_prefix = cli("show", clip_id[:8], "--json")
    assert by_prefix.returncode == 0 and json.loads(by_prefix.stdout)["clip_id"] == clip_id
    unknown = cli("show", "zzzzzzzz")
    assert unknown.returncode == 2 and "no cataloged clip" in unknown.stderr


def test_list_filters_run_in_sql(ingested):
    def names(*args: str) -> list[str]:
        result = cli("list", "--json", *args)
        assert result.returncode == 0, result.stderr
        return sorted(c["file_name"] for c in json.loads(result.stdout))

    assert names("--hdr") == ["hdr10_hevc.mp4", "hlg_hevc.mp4"]
    assert "hdr10_hevc.mp4" not in names("--sdr")
    assert names("--codec", "prores") == ["prores.mov"]
    assert names("--codec", "dnxhd") == ["dnxhd.mov"]
    assert names("--camera", "iphone") == ["camera_tags.mov"]
    assert names("--after", "2024-05-01", "--before", "2024-06-01") == ["camera_tags.mov"]
    assert names("--max-duration", "0.5") == ["short.mp4"]
    assert "interlaced_mpeg2.mts" in names("--resolution", "sd", "--fps", "25")
    assert names("--codec", "hevc", "--resolution", "4k") == []
    durations = [c["duration_seconds"] for c in json.loads(cli("list", "--json", "--sort", "duration").stdout)]
    assert durations == sorted(durations, reverse=True)
    everything = names()
    assert names("--min-quality", "0") == everything and names("--min-quality", "101") == []
    assert sorted(names("--exposure-warning") + names("--exposure-ok")) == everything
    assert names("--shot-type", "no-people") == everything and names("--shot-type", "close-up") == []
    bad_shot = cli("list", "--shot-type", "portrait")
    assert bad_shot.returncode == 2 and "extreme-close-up" in bad_shot.stderr
    qualities = [c["quality_score"] for c in json.loads(cli("list", "--json", "--sort", "quality").stdout)]
    assert qualities == sorted(qualities, reverse=True)
    bad = cli("list", "--resolution", "huge")
    assert bad.returncode == 2 and "choose one of" in bad.stderr


def test_materializations_and_rows_carry_the_metadata(ingested, tech_library):
    instance = dagster_instance()
    cataloged = {f"{Path(i['path']).name}-{i['clip_id']}" for i in ingested["new"]}  # <file name>-<clip id>
    assert instance.get_materialized_partitions(AssetKey("technical_metadata")) == cataloged
    event = instance.get_latest_materialization_event(AssetKey("technical_metadata"))
    metadata = event.asset_materialization.metadata
    for key in ("resolution", "codec", "fps", "duration_seconds", "hdr", "camera", "pyav_ms", "preview"):
        assert key in metadata, key
    audio = rows("SELECT language, title FROM audio_tracks a JOIN clips c USING (clip_id) "
                 "WHERE c.file_name = 'two_audio.mkv' ORDER BY track_index")
    assert audio == [("eng", "English"), ("fra", "Français")]
    subs = rows("SELECT codec, language, is_forced FROM subtitle_tracks s JOIN clips c USING (clip_id) "
                "WHERE c.file_name = 'subs.mkv'")
    assert subs == [("subrip", "deu", True)]
    records = dict(rows("SELECT file_name, camera FROM catalog_records WHERE camera IS NOT NULL"))
    assert records == {"camera_tags.mov": "Apple iPhone 15 Pro"}
