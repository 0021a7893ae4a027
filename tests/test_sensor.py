"""The folder sensor evaluated against a real Dagster instance on Postgres."""

import json
import os
import time

from dagster import build_sensor_context
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from catalog_assets.catalog_app import CatalogApp
from catalog_assets.definitions import build_definitions
from catalog_assets.partitions import clips_partitions
from catalog_resources.settings import CatalogSettings
from tests.media import copy


def tick(defs, instance, cursor=None):
    """One sensor evaluation, as the daemon would run it."""
    sensor = defs.get_sensor_def("footage_sensor")
    with build_sensor_context(instance=instance, definitions=defs, resources=defs.resources, cursor=cursor) as context:
        return sensor(context)


def test_first_tick_adds_partitions_and_runs_second_tick_adds_nothing(catalog_env, tmp_path, media_library):
    watched = tmp_path / "watched"
    old = time.time() - 120
    for name in ("h264_720p.mp4", "vp9_noaudio.mkv", "mpeg2.MTS"):
        os.utime(copy(media_library[name], watched / name), (old, old))
    copy(media_library["h264_720p.mp4"], watched / "dup" / "again.mp4")  # same content, settled too
    os.utime(watched / "dup" / "again.mp4", (old, old))
    os.utime(copy(media_library["short.mp4"], watched / "still copying.mp4"))  # mtime = now: still settling

    settings = CatalogSettings(watch=str(watched), settle_seconds=30)
    defs = build_definitions(settings)
    app = CatalogApp(settings)
    app.store  # migrated
    instance = app.instance

    first = tick(defs, instance)
    added = [key for request in first.dynamic_partitions_requests for key in request.partition_keys]
    assert len(added) == 3
    [batch] = first.run_requests  # the three new clips in one run over their partition range
    assert (batch.tags[ASSET_PARTITION_RANGE_START_TAG], batch.tags[ASSET_PARTITION_RANGE_END_TAG]) == (added[0], added[-1])
    assert batch.partition_key is None and batch.run_key.startswith("batch:")
    cursor = json.loads(first.cursor)
    assert cursor["settling"] == 1 and cursor["probed"] == 4

    instance.add_dynamic_partitions(clips_partitions.name, added)  # what the daemon does with the request
    second = tick(defs, instance, first.cursor)
    assert second.run_requests == []
    assert second.dynamic_partitions_requests == []
    assert json.loads(second.cursor)["probed"] == 0  # nothing re-read

    # once the slow copy settles it is picked up, and only it
    os.utime(watched / "still copying.mp4", (old, old))
    third = tick(defs, instance, second.cursor)
    assert len(third.run_requests) == 1
    assert third.run_requests[0].partition_key not in added
    assert third.run_requests[0].partition_key.startswith("still_copying.mp4-")  # found by its name in the UI


def test_sensor_without_folders_skips_with_a_reason(catalog_env):
    settings = CatalogSettings(watch="")
    defs = build_definitions(settings)
    app = CatalogApp(settings)
    app.store
    result = tick(defs, app.instance)
    assert "VIDEO_CATALOG_WATCH" in result.skip_message


def test_sensor_asks_only_the_metadata_steps_for_a_file_no_decoder_reads(catalog_env, tmp_path):
    """A clip whose frames nothing here decodes would fail proxy and thumbnails: the run asks for what can work."""
    from dagster import AssetKey

    from tests.tech_media import make_lying_media

    watched = tmp_path / "watched"
    source = make_lying_media(tmp_path / "lying")["no_decoder.mov"]
    old = time.time() - 120
    os.utime(copy(source, watched / "A001_C002.mov"), (old, old))
    settings = CatalogSettings(watch=str(watched), settle_seconds=30)
    defs = build_definitions(settings)
    app = CatalogApp(settings)
    app.store
    result = tick(defs, app.instance)
    assert len(result.run_requests) == 1
    assert result.run_requests[0].asset_selection == [
        AssetKey("clip_source"), AssetKey("technical_metadata"), AssetKey("catalog_record")]
