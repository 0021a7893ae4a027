"""What the Dagster UI shows per clip after a batch run, read back from the instance's event log.

Three clips of different size and length are cataloged by ONE run. Each clip partition's materialization
must carry that clip's own values (poster, contact sheet, duration, width, quality, scene cuts), name the
exact upstream materializations it was made from, and carry data versions that do not depend on which
batch the clip was in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from dagster import AssetKey, AssetRecordsFilter

from catalog_resources.media.samples import ClipSpec, make_clip

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "catalog_cli.main"]
STEPS = ("clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "catalog_record")
SPECS = {  # name -> (width, height, seconds, pattern): every property differs between clips
    "wide.mp4": (640, 360, 2.0, "testsrc2"),
    "middle.mp4": (480, 272, 1.2, "smptebars"),
    "narrow.mp4": (320, 240, 0.6, "mandelbrot"),
}


def latest(instance, asset: str, clip_id: str):
    """The latest materialization record of one clip partition."""
    from catalog_assets.partitions import registered_keys

    key = registered_keys(instance)[clip_id]
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[key]), limit=1).records
    assert records, (asset, clip_id)
    return records[0]


def meta(record) -> dict:
    return {k: v.value for k, v in record.asset_materialization.metadata.items()}


@pytest.fixture(scope="module")
def batch(module_catalog_env, tmp_path_factory):
    """(instance, {clip_id: file name}, home) after one `ingest` of the three clips."""
    folder = tmp_path_factory.mktemp("ui-meta")
    for name, (width, height, seconds, pattern) in SPECS.items():
        make_clip(folder / name, ClipSpec(name=name, width=width, height=height, seconds=seconds, pattern=pattern))
    result = subprocess.run([*CLI, "ingest", "--json", str(folder), "--disable", "ai_analysis,embeddings"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    names = {item["clip_id"]: Path(item["path"]).name for item in summary["new"]}
    assert sorted(names.values()) == sorted(SPECS)
    from tests.test_ingest import dagster_instance

    instance = dagster_instance()
    runs = {latest(instance, "clip_source", clip_id).run_id for clip_id in names}
    assert len(runs) == 1, "the three clips must be made by one batch run"
    return instance, names, Path(os.environ["VIDEO_CATALOG_HOME"])


def test_each_partition_shows_its_own_clip(batch):
    instance, names, home = batch
    md5s = dict(psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]).execute(
        "SELECT clip_id, md5 FROM clips").fetchall())
    previews = set()
    for clip_id, name in names.items():
        width, height, seconds, _ = SPECS[name]
        folder = home / "media" / clip_id

        source = meta(latest(instance, "clip_source", clip_id))
        assert source["file_name"] == name and source["md5"] == md5s[clip_id]
        assert source["content_version"] == f"md5:{md5s[clip_id]}"
        assert source["batch_clips"] == 3  # batch totals are named as such

        tech = meta(latest(instance, "technical_metadata", clip_id))
        assert (tech["file_name"], tech["width"], tech["height"]) == (name, width, height)
        assert tech["duration_seconds"] == pytest.approx(seconds, abs=0.1)
        assert tech["resolution"] == f"{width}x{height}"

        thumbs = meta(latest(instance, "thumbnails", clip_id))
        assert Path(thumbs["poster"]).parent.parent == folder, thumbs["poster"]
        assert Path(thumbs["contact_sheet"]).is_relative_to(folder), thumbs["contact_sheet"]
        assert Path(thumbs["sidecar"]) == folder / "thumbnails.json"
        sidecar = json.loads((folder / "thumbnails.json").read_text())
        assert thumbs["poster"] == sidecar["poster_path"] and thumbs["thumbnails"] == len(sidecar["thumbnails"])
        assert thumbs["preview"].startswith("![poster](data:image/jpeg;base64,")
        previews.add(thumbs["preview"])

        frames = meta(latest(instance, "frame_analysis", clip_id))
        analysis = json.loads((folder / "frame_analysis.json").read_text())
        assert frames["quality_score"] == pytest.approx(analysis["quality_score"], abs=0.01)
        assert frames["scene_cuts"] == analysis["scene_cuts"]
        assert frames["segments"] == len(analysis["segments"])

        derived = meta(latest(instance, "proxy", clip_id))
        assert Path(derived["proxy"]).is_relative_to(folder)
        assert derived["proxy_size"].startswith(f"{width}x{height}")  # all three are under the 1280 px cap
    assert len(previews) == 3, "each clip's materialization shows its own poster"


def test_partitions_are_named_after_their_files_and_the_cli_takes_those_keys(batch):
    """Item 4: the UI's partition list and its filter show `<file name>-<clip id>`; a key copied from it is a
    clip reference the CLI understands."""
    instance, names, _home = batch
    keys = instance.get_dynamic_partitions("clips")
    assert sorted(keys) == sorted(f"{name}-{clip_id}" for clip_id, name in names.items())
    for clip_id, name in names.items():
        shown = subprocess.run([*CLI, "show", "--json", f"{name}-{clip_id}"], capture_output=True, text=True,
                               timeout=120)
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout)["clip_id"] == clip_id
        by_name = subprocess.run([*CLI, "show", "--json", name], capture_output=True, text=True, timeout=120)
        assert by_name.returncode == 0 and json.loads(by_name.stdout)["clip_id"] == clip_id, by_name.stderr


def test_lineage_names_the_clips_own_upstream_materializations(batch):
    instance, names, _home = batch
    for clip_id in names:
        source = latest(instance, "clip_source", clip_id)
        tech = latest(instance, "technical_metadata", clip_id)
        lineage = meta(tech)["lineage"]
        assert lineage["clip_source"]["event_id"] == source.storage_id
        assert lineage["clip_source"]["run_id"] == source.run_id
        assert lineage["clip_source"]["content_version"] == meta(source)["content_version"]
        # Dagster's own provenance: the input data version is that clip's upstream data version
        tags = tech.asset_materialization.tags
        assert tags["dagster/input_data_version/clip_source"] == source.asset_materialization.tags["dagster/data_version"]
        for asset, upstreams in (("thumbnails", ("clip_source", "technical_metadata")),
                                 ("frame_analysis", ("technical_metadata", "proxy", "thumbnails")),
                                 ("catalog_record", ("clip_source", "technical_metadata", "thumbnails", "frame_analysis"))):
            record = latest(instance, asset, clip_id)
            found = meta(record)["lineage"]
            for upstream in upstreams:
                expected = latest(instance, upstream, clip_id)
                assert found[upstream]["event_id"] == expected.storage_id, (asset, upstream)
                assert found[upstream]["content_version"] == meta(expected)["content_version"], (asset, upstream)
                assert (record.asset_materialization.tags[f"dagster/input_data_version/{upstream}"]
                        == expected.asset_materialization.tags["dagster/data_version"]), (asset, upstream)
    contents = {meta(latest(instance, "technical_metadata", c))["content_version"] for c in names}
    assert len(contents) == 3, "each clip's product is told apart by its content version"


def test_a_clip_redone_alone_has_new_data_version_and_the_same_content(batch):
    """Dagster's default data version hashed all the batch's upstream versions, so it changed with the batch's
    size. Here a product made again is new input for what depends on it (the rule `refresh --stale` applies),
    its content version says whether it changed, and clip_source, fixed by the clip's content, keeps its
    version whichever run re-makes it."""
    instance, names, _home = batch
    from catalog_assets.catalog_app import CatalogApp
    from catalog_assets.ingest_runner import execute_clips
    from catalog_resources.settings import CatalogSettings

    clip_id = sorted(names)[0]
    before = {asset: latest(instance, asset, clip_id) for asset in ("clip_source", "technical_metadata")}
    app = CatalogApp(CatalogSettings())
    results = execute_clips(app.defs, instance, [clip_id], ["clip_source", "technical_metadata"])
    assert results[clip_id].success, results[clip_id].error
    after = {asset: latest(instance, asset, clip_id) for asset in before}
    version = "dagster/data_version"
    for asset in before:
        assert after[asset].run_id != before[asset].run_id and meta(after[asset])["batch_clips"] == 1
        assert meta(after[asset])["content_version"] == meta(before[asset])["content_version"], asset
    source, tech = after["clip_source"].asset_materialization, after["technical_metadata"].asset_materialization
    assert source.tags[version] == before["clip_source"].asset_materialization.tags[version]
    assert tech.tags[version] != before["technical_metadata"].asset_materialization.tags[version]
    assert tech.tags["dagster/input_data_version/clip_source"] == source.tags[version]
    assert meta(after["technical_metadata"])["lineage"]["clip_source"]["event_id"] == after["clip_source"].storage_id


def test_asset_checks_cover_the_batch_and_name_clips_by_partition_key(batch):
    """The four checks ran once for the batch's run, over its three clips; anything they flag is named by the
    clip's partition key (its file name), as the UI's Checks tab shows it."""
    from dagster import DagsterEventType

    instance, names, _home = batch
    run_id = latest(instance, "catalog_record", next(iter(names))).run_id
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = {r.event_log_entry.dagster_event.event_specific_data.check_name:
                   r.event_log_entry.dagster_event.event_specific_data for r in records}
    assert set(evaluations) == {"clip_source_verified", "technical_metadata_essentials", "frame_analysis_thresholds",
                                "catalog_record_present"}
    keys = set(instance.get_dynamic_partitions("clips"))
    for name, evaluation in evaluations.items():
        values = {k: v.value for k, v in evaluation.metadata.items()}
        assert values["clips_checked"] == 3, name
        named = values.get("problems", values.get("flagged"))
        assert set(named) <= keys, (name, named)
        if name != "frame_analysis_thresholds":
            assert evaluation.passed and named == {}, (name, named)
