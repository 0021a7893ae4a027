"""A prompt change is visible and redoable in the Dagster UI: what Dagster's automation requests (per clip,
downstream included) is exactly what `refresh --stale --dry-run` lists, also after a partial re-run launched from
Dagster, and both say nothing once Dagster has redone it. A paid analyzer is never requested without the opt-in.

Two short clips are ingested once by the CLI with the offline analyzer; the conditions are evaluated with
Dagster's public `evaluate_automation_conditions` against the catalog's real instance, and the redo runs go
through that instance with the definitions' own job."""

from __future__ import annotations

import json

import pytest
from dagster import AssetKey, DagsterInstance, DefaultSensorStatus, Definitions, evaluate_automation_conditions

from tests.media import copy
from tests.test_ingest import cli, dagster_instance

pytestmark = [
    pytest.mark.slow,
    # raised inside Dagster's own evaluate_automation_conditions (its default selection), not by the catalog
    pytest.mark.filterwarnings("ignore:Parameter `include_sources`:dagster.BetaWarning"),
]
CLIPS = ("vp9_noaudio.mkv", "short.mp4")  # the quickest to analyse: no audio, and 0.4 s
PROMPT_DOWNSTREAM = ("ai_analysis", "catalog_record", "embeddings")

Pairs = set[tuple[str, str]]  # (asset, clip id)


@pytest.fixture(scope="module")
def cataloged(module_catalog_env, media_library, tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("ui footage")
    for name in CLIPS:
        copy(media_library[name], folder / name)
    result = cli("ingest", "--json", str(folder))
    assert result.returncode == 0, result.stderr
    return sorted(item["clip_id"] for item in json.loads(result.stdout)["new"])


def refresh_pairs() -> Pairs:
    result = cli("refresh", "--stale", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    return {(p["asset"], p["clip_id"]) for p in json.loads(result.stdout)["pairs"]}


def listed_status() -> dict[str, str]:
    """clip id -> the status `video-catalog list` shows."""
    result = cli("list", "--json")
    assert result.returncode == 0, result.stderr
    return {row["clip_id"]: row["status"] for row in json.loads(result.stdout)}


def definitions() -> Definitions:
    """The definitions as the code location builds them, from this process' environment (prompt, analyzer)."""
    from catalog_assets.definitions import build_definitions
    from catalog_resources.settings import CatalogSettings

    return build_definitions(CatalogSettings())


def requested(defs: Definitions, instance: DagsterInstance, cursor=None):
    """(the (asset, clip) pairs Dagster's automation requests now, the evaluation result)."""
    from catalog_resources.ingest.partition_keys import clip_id_of

    result = evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    keys = defs.resolve_asset_graph().toposorted_asset_keys
    return {(key.path[-1], clip_id_of(p)) for key in keys for p in result.get_requested_partitions(key)}, result


def launch(defs: Definitions, instance: DagsterInstance, pairs: Pairs) -> None:
    """Materialize the pairs through the instance with the definitions' job, one run per clip (as a UI launch)."""
    from catalog_assets.graph import INGEST_JOB_NAME
    from catalog_assets.partitions import registered_keys

    job, keys = defs.resolve_job_def(INGEST_JOB_NAME), registered_keys(instance)
    for clip in sorted({c for _, c in pairs}):
        selection = [AssetKey(a) for a, c in pairs if c == clip]
        result = job.execute_in_process(instance=instance, partition_key=keys[clip], asset_selection=selection,
                                        raise_on_error=False)
        assert result.success, [e.message for e in result.all_events if e.is_failure]


def edit_prompt(tmp_path, monkeypatch) -> None:
    from catalog_resources.analysis.prompt import packaged_prompt_path

    prompt = tmp_path / "prompt.md"
    prompt.write_text(packaged_prompt_path().read_text() + "\nAlso describe the weather.\n")
    monkeypatch.setenv("VIDEO_CATALOG_ANALYSIS_PROMPT_FILE", str(prompt))


def test_prompt_change_dagster_and_refresh_agree_then_dagster_redoes_them(cataloged, tmp_path, monkeypatch):
    instance = dagster_instance()
    assert requested(definitions(), instance)[0] == set() == refresh_pairs()

    edit_prompt(tmp_path, monkeypatch)
    defs = definitions()
    everything = {(a, c) for c in cataloged for a in PROMPT_DOWNSTREAM}
    dagster, result = requested(defs, instance)
    assert dagster == refresh_pairs() == everything

    # A partial re-run from Dagster (ai_analysis of one clip alone): its downstream is now out of date in both
    first = cataloged[0]
    launch(defs, instance, {("ai_analysis", first)})
    left = everything - {("ai_analysis", first)}
    dagster, result = requested(defs, instance, result.cursor)
    assert dagster == refresh_pairs() == left
    # `list` agrees: the clip redone alone holds products made from its old analysis; the others the old analysis
    status = listed_status()
    assert status[first] == "stale: catalog_record, embeddings", status
    assert all(status[c] == "stale: ai_analysis" for c in cataloged[1:]), status

    # Redo exactly what Dagster requests, through Dagster: then neither reports anything
    launch(defs, instance, dagster)
    dagster, result = requested(defs, instance, result.cursor)
    assert dagster == set() == refresh_pairs()
    assert set(listed_status().values()) == {"complete"}

    sensor = defs.resolve_sensor_def("catalog_refresh_sensor")  # what the daemon of `video-catalog ui` evaluates
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(defs.resolve_asset_graph()) == {AssetKey(a) for a in (
        "clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "ai_analysis", "embeddings",
        "catalog_record")}


def _out_of_date_clips(result, asset: str) -> set[str]:
    """The clips the UI's Automation tab shows under the `out_of_date` node of the asset's condition."""
    from catalog_resources.ingest.partition_keys import clip_id_of

    found: set[str] = set()
    todo = [r for r in result.results if r.key == AssetKey(asset)]
    while todo:
        node = todo.pop()
        if node.condition.name == "out_of_date" and node.key == AssetKey(asset):
            found |= {clip_id_of(key) for key in node.true_subset.expensively_compute_partition_keys()}
        todo += node.child_results
    return found


def test_a_cloud_analyzer_is_not_redone_without_the_opt_in(cataloged, monkeypatch):
    monkeypatch.setenv("VIDEO_CATALOG_ANALYZER", "gemini")  # a new backend: every clip's ai_analysis is out of date
    monkeypatch.setenv("GEMINI_API_KEY", "not-used")  # nothing is sent: conditions are evaluated, no run starts
    monkeypatch.delenv("VIDEO_CATALOG_AUTO_REFRESH_CLOUD", raising=False)
    instance = dagster_instance()
    stale = refresh_pairs()
    assert {("ai_analysis", c) for c in cataloged} <= stale

    dagster, result = requested(definitions(), instance)
    assert not {pair for pair in dagster if pair[0] in PROMPT_DOWNSTREAM}, dagster
    assert _out_of_date_clips(result, "ai_analysis") == set(cataloged)  # shown in the UI, not requested

    monkeypatch.setenv("VIDEO_CATALOG_AUTO_REFRESH_CLOUD", "1")
    dagster, _result = requested(definitions(), instance)
    assert dagster == stale
