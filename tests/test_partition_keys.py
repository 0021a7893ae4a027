"""Clips are found in the Dagster UI by their file name: partition keys `<name>-<clip id>`, made once and kept when
the file moves, and an older catalog's bare-id partitions renamed with their history carried over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance, evaluate_automation_conditions

from catalog_resources.ingest.partition_keys import clip_id_of, keys_by_clip, partition_key, slug
from tests.media import copy

CLIP_ID = "0123456789abcdef"


@pytest.mark.parametrize(("name", "expected"), [
    ("GOPR0001.MP4", "GOPR0001.MP4"),
    ("interview take 2.mov", "interview_take_2.mov"),
    ("Café “Zoë” [final].mov", "Cafe_Zoe_final_.mov"),
    ("a...b.mp4", "a.b.mp4"),
    ("[/]x[bold].mkv", "x_bold_.mkv"),
    ("日本語.mp4", "mp4"),
    ("...", "clip"),
    ("", "clip"),
    ("x" * 100 + ".mp4", "x" * 60),
])
def test_slugs_are_readable_and_safe(name, expected):
    assert slug(name) == expected
    key = partition_key(CLIP_ID, name)
    assert key == f"{expected}-{CLIP_ID}" and clip_id_of(key) == CLIP_ID


def test_keys_dagster_refuses_are_never_made():
    """Dagster rejects '...' and control characters; its partition selection syntax splits on ',' '[' ']'."""
    keys = [partition_key(CLIP_ID, name) for name in ("a...b", "tab\there.mp4", "x,y[1].mp4", "new\nline.mov")]
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("clips", keys)
    assert instance.get_dynamic_partitions("clips") == keys
    assert not any(bad in key for key in keys for bad in ("...", "\t", "\n", ",", "[", "]"))


def test_old_bare_ids_still_parse():
    assert clip_id_of(CLIP_ID) == CLIP_ID
    assert keys_by_clip([CLIP_ID, f"a-b-{CLIP_ID[::-1]}", "not-a-key"]) == {CLIP_ID: CLIP_ID, CLIP_ID[::-1]: f"a-b-{CLIP_ID[::-1]}"}
    with pytest.raises(ValueError, match="not a clip partition key"):
        clip_id_of("GOPR0001.MP4")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Parameter `include_sources`:dagster.BetaWarning")  # inside Dagster's evaluator
def test_an_older_catalog_gets_readable_keys_with_its_products_carried_over(catalog_env, media_library, tmp_path):
    """A catalog made with bare-id partitions (built here with the same parts an older version used) is renamed
    when the CLI opens it: same products and versions under the new keys, nothing stale, nothing redone."""
    from catalog_assets.catalog_app import CatalogApp
    from catalog_assets.definitions import build_definitions
    from catalog_assets.ingest_runner import execute_clips
    from catalog_resources.ingest.scanner import scan
    from catalog_resources.store.dagster_home import prepare_dagster_home

    from tests.test_ingest import cli

    folder = tmp_path / "old footage"
    for name in ("short.mp4", "vp9_noaudio.mkv"):
        copy(media_library[name], folder / name)
    steps = ["clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "catalog_record"]
    old = CatalogApp(catalog_env)
    report = scan([folder], old.store)
    names = {f.fingerprint: Path(f.path).name for f in report.files if f.fingerprint}
    prepare_dagster_home(catalog_env, old.endpoint)
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions("clips", list(names))  # the older version's keys: the bare clip ids
    results = execute_clips(build_definitions(catalog_env), instance, list(names), steps)
    assert all(r.success for r in results.values()), results
    assert sorted(instance.get_dynamic_partitions("clips")) == sorted(names)

    app = CatalogApp(catalog_env)
    instance = app.instance  # the CLI opens the instance: the rename happens here, once
    expected = {clip_id: f"{name}-{clip_id}" for clip_id, name in names.items()}
    assert app.renamed_partitions == expected
    assert sorted(instance.get_dynamic_partitions("clips")) == sorted(expected.values())
    for clip_id, key in expected.items():
        for asset in steps:
            [new] = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[key]), limit=1).records
            [was] = instance.fetch_materializations(  # the older event stays in the event log
                AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[clip_id]), limit=1).records
            meta = {k: v.value for k, v in new.asset_materialization.metadata.items()}
            assert meta["migrated_from"] == clip_id and meta["migrated_from_run"] == was.run_id
            assert meta["content_version"] == was.asset_materialization.metadata["content_version"].value
            assert new.asset_materialization.tags == was.asset_materialization.tags  # code and data versions
    assert CatalogApp(catalog_env).instance and CatalogApp(catalog_env).renamed_partitions == {}  # once only

    # nothing is stale to Dagster nor to refresh, and an ingest of the same folder redoes nothing
    result = evaluate_automation_conditions(defs=app.defs, instance=instance)
    assert result.total_requested == 0
    assert json.loads(cli("refresh", "--stale", "--dry-run", "--json").stdout)["pairs"] == []
    again = json.loads(cli("ingest", "--json", str(folder), "--disable", "ai_analysis,embeddings").stdout)
    assert again["new"] == [] and again["failed"] == [] and again.get("resumed", []) == []
    assert sorted(instance.get_dynamic_partitions("clips")) == sorted(expected.values())


@pytest.mark.slow
def test_a_moved_clip_keeps_its_key(catalog_env, media_library, tmp_path):
    from tests.test_ingest import cli, dagster_instance

    folder = tmp_path / "card"
    copy(media_library["short.mp4"], folder / "A001.mp4")
    first = cli("ingest", "--json", str(folder), "--disable", "ai_analysis,embeddings")
    assert first.returncode == 0, first.stderr
    [key] = dagster_instance().get_dynamic_partitions("clips")
    assert key.startswith("A001.mp4-")
    shutil.move(folder / "A001.mp4", folder / "renamed later.mp4")
    moved = cli("ingest", "--json", str(folder), "--disable", "ai_analysis,embeddings")
    assert moved.returncode == 0, moved.stderr
    assert dagster_instance().get_dynamic_partitions("clips") == [key]
