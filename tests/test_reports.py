"""`report content-summary` and `report storage-usage` on a really ingested catalog: every figure is checked
against what the ingest wrote (rows) or made (files on disk), including a clip seen at two paths."""

import csv
import io
import json
import os
from pathlib import Path

import pytest

from tests.manage_media import ingest_library
from tests.manage_media import run as cli
from tests.test_cli_errors import one_line_error
from tests.test_ingest import rows

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def library(module_catalog_env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report footage")
    ids = ingest_library(folder, copies={"backup/drone copy.mkv": "drone.mkv"})
    return {"ids": ids, "folder": folder, "media": module_catalog_env.media_dir}


def ok_json(*args: str):
    result = cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_content_summary_of_the_catalog_and_of_a_collection(library):
    ids = library["ids"]
    whole = ok_json("report", "content-summary", "--json")
    assert whole["clip_count"] == 4 and whole["size_bytes"] == rows("SELECT sum(size_bytes) FROM clips")[0][0]
    assert whole["duration_seconds"] == pytest.approx(rows("SELECT sum(duration_seconds) FROM clip_facts")[0][0])
    assert whole["codecs"] == {"h264": 3, "vp9": 1}
    assert whole["resolutions"] == {"640x360": 2, "320x180": 1, "320x240": 1}
    assert whole["languages"] == {"en": 1}
    assert "solar panels" in whole["top_keywords"]
    assert whole["shot_types"] == dict(rows("SELECT coalesce(shot_type, 'unknown'), count(*) FROM clip_facts GROUP BY 1"))
    assert sum(whole["quality"].values()) == 4
    warned = rows("SELECT count(*) FROM frame_analysis WHERE exposure_warning OR (details->>'is_blurry')::boolean")
    assert whole["exposure_or_blur_warnings"] == warned[0][0] == len(whole["warned_clips"])
    cli("collection", "create", "Alpha")
    cli("collection", "add", "Alpha", "--clip-ids", f"{ids['rooftop interview.mp4']},{ids['drone.mkv']}")
    alpha = ok_json("report", "content-summary", "--collection", "alpha", "--json")
    assert alpha["clip_count"] == 2 and alpha["codecs"] == {"h264": 1, "vp9": 1}
    assert alpha["duration_seconds"] == pytest.approx(14, abs=0.5)
    text = cli("report", "content-summary", "--collection", "Alpha")
    assert text.returncode == 0 and "h264 1, vp9 1" in text.stdout and "solar panels" in text.stdout
    assert "no collection named 'Beta'" in one_line_error(cli("report", "content-summary", "--collection", "Beta"))


def _files(root: Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in root.rglob(pattern) if p.is_file())


def test_storage_usage_counts_content_once_and_the_media_store_by_kind(library):
    folder, media = library["folder"], library["media"]
    report = ok_json("report", "storage-usage", "--json")
    totals = report["totals"]
    originals = [folder / name for name in ("rooftop interview.mp4", "b-roll.mov", "drone.mkv", "day2/b-roll.mov")]
    assert totals["originals_bytes"] == sum(p.stat().st_size for p in originals)  # the copy is not counted twice
    assert totals["copies_bytes"] == (folder / "backup/drone copy.mkv").stat().st_size
    assert totals["online_bytes"] == totals["originals_bytes"] and totals["offline_clips"] == 0
    assert totals["proxy_bytes"] == _files(media, "proxy.mp4") > 0
    assert totals["audio_bytes"] == _files(media, "audio_16k.wav") > 0
    assert totals["thumbnails_bytes"] == _files(media, "*.jpg") > 0
    assert totals["media_store_bytes"] == _files(media, "*") and totals["database_bytes"] > 0
    by_codec = ok_json("report", "storage-usage", "--by", "codec", "--format", "json")
    groups = {g["group"]: g for g in by_codec["groups"]}
    assert set(groups) == {"h264", "vp9"} and groups["vp9"]["copies_bytes"] == totals["copies_bytes"]
    assert sum(g["originals_bytes"] for g in groups.values()) == totals["originals_bytes"]
    by_folder = ok_json("report", "storage-usage", "--by", "folder", "--json")
    # a clip is grouped by its primary path's folder (the first it was seen at)
    assert {g["group"] for g in by_folder["groups"]} == {os.path.dirname(p) for p, in rows("SELECT path FROM clips")}
    assert {str(folder), str(folder / "day2")} <= {g["group"] for g in by_folder["groups"]}
    sheet = cli("report", "storage-usage", "--by", "camera", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(sheet.stdout)))
    assert [r["group"] for r in table] == ["unknown", "total"]
    assert int(table[-1]["originals_bytes"]) == totals["originals_bytes"]
    assert "choose one of folder" in one_line_error(cli("report", "storage-usage", "--by", "lens"))
    assert "choose text, json or csv" in one_line_error(cli("report", "storage-usage", "--format", "xml"))
    text = cli("report", "storage-usage", "--by", "collection")
    assert text.returncode == 0 and "total" in text.stdout


def test_management_read_commands_load_no_dagster_and_no_model_runtime(library):
    from tests.test_layers import HEAVY, loaded_by

    interview = library["ids"]["rooftop interview.mp4"]
    for argv in (["collection", "list", "--json"], ["tag", "list", "--json"],
                 ["search", "--at", "0:05", interview, "--json"], ["report", "storage-usage", "--json"]):
        heavy = loaded_by(*argv) & set(HEAVY)
        assert heavy == set(), f"`video-catalog {' '.join(argv)}` imported {sorted(heavy)}"
