"""The whole code location loads, and the pipeline steps come from it."""

import json
import os
import subprocess
import sys

import pytest
from dagster import AssetKey, Definitions

from catalog_assets.definitions import build_definitions
from catalog_assets.steps import StepSelectionError, pipeline_steps, select_steps
from catalog_resources.settings import CatalogSettings


def test_definitions_load_and_validate(tmp_path):
    defs = build_definitions(CatalogSettings(home=tmp_path, database_url="postgresql://u@/db?host=/nowhere"))
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} == {"clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "ai_analysis", "embeddings", "catalog_record"}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.code_version, key
        assert node.partitions_def.name == "clips"
    assert AssetKey("clip_source") in graph.get(AssetKey("catalog_record")).parent_keys
    assert AssetKey("technical_metadata") in graph.get(AssetKey("catalog_record")).parent_keys
    assert graph.get(AssetKey("technical_metadata")).parent_keys == {AssetKey("clip_source")}
    assert graph.get(AssetKey("proxy")).parent_keys == {AssetKey("clip_source"), AssetKey("technical_metadata")}
    assert defs.resolve_job_def("ingest_job").executor_def.name == "in_process"
    assert defs.get_sensor_def("footage_sensor") is not None


def test_module_level_definitions_import_in_a_fresh_process(tmp_path):
    env = {"VIDEO_CATALOG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", "from catalog_assets.definitions import defs; print(len(defs.assets))"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "10"


def test_steps_come_from_the_asset_definitions(tmp_path):
    steps = {s.name: s for s in pipeline_steps()}
    assert list(steps) == ["clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "ai_analysis", "embeddings", "catalog_record"]
    assert steps["clip_source"].required and "MD5" in steps["clip_source"].description
    everything = ["clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "ai_analysis", "embeddings", "catalog_record"]
    assert select_steps() == everything
    assert select_steps(disable=["catalog_record"]) == everything[:-1]
    config = tmp_path / "pipeline.json"
    config.write_text(json.dumps({"steps": {name: False for name in everything[1:]}}))
    assert select_steps(config=config) == ["clip_source"]
    assert select_steps(enable=["catalog_record"], config=config) == ["clip_source", "catalog_record"]
    with pytest.raises(StepSelectionError, match="unknown step"):
        select_steps(enable=["thumbnails_typo"])
    with pytest.raises(StepSelectionError, match="required"):
        select_steps(disable=["clip_source"])
    with pytest.raises(StepSelectionError, match="'proxy' reads 'technical_metadata'"):
        select_steps(disable=["technical_metadata"])
    with pytest.raises(StepSelectionError, match="reads 'frame_analysis'"):
        select_steps(disable=["frame_analysis"])
    assert select_steps(disable=["frame_analysis", "thumbnails", "faces", "speakers", "ai_analysis"]) == [
        "clip_source", "technical_metadata", "proxy", "embeddings", "catalog_record"
    ]


def test_steps_command_lists_assets_as_json():
    result = subprocess.run([sys.executable, "-m", "catalog_cli.main", "steps", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [s["name"] for s in listed] == [
        "clip_source", "technical_metadata", "proxy", "thumbnails", "frame_analysis", "faces", "speakers", "ai_analysis", "embeddings", "catalog_record"
    ]
    assert all(s["description"] for s in listed)


def ai_version(tmp_path, **settings) -> str:
    defs = build_definitions(CatalogSettings(home=tmp_path, database_url="postgresql://u@/db?host=/nowhere", **settings))
    return defs.resolve_asset_graph().get(AssetKey("ai_analysis")).code_version


def test_ai_analysis_code_version_follows_prompt_model_settings_only(tmp_path):
    from catalog_resources.analysis.prompt import packaged_prompt_path

    base = ai_version(tmp_path)
    assert base.startswith("local/whisper-base") and base == ai_version(tmp_path)
    # settings that do not change an answer leave it alone
    assert ai_version(tmp_path, batch_size=3, run_mode="per-clip", settle_seconds=1) == base
    # the prompt, the language and the frames read do change it
    edited = tmp_path / "prompt.md"
    edited.write_text(packaged_prompt_path().read_text() + "\nAlso list the colours you see.\n")
    assert ai_version(tmp_path, analysis_prompt_file=edited) != base
    assert ai_version(tmp_path, analysis_language="de") != base
    assert ai_version(tmp_path, analysis_ocr_frames=2) != base
    with pytest.raises(FileNotFoundError, match="VIDEO_CATALOG_ANALYSIS_PROMPT_FILE"):
        ai_version(tmp_path, analysis_prompt_file=tmp_path / "missing.md")


def test_build_analyzer_and_embedder_pick_one_resource_class_per_backend(tmp_path):
    """Each backend is its own resource class, and each keeps today's code version, written out here so a change
    to the recipe (which would mark every catalog stale) fails this test."""
    import hashlib

    from catalog_assets.definitions import build_analyzer, build_embedder
    from catalog_resources.analysis.local.pipeline import MODEL_NAME
    from catalog_resources.analysis.prompt import packaged_prompt_path
    from catalog_resources.models.analysis import ANALYSIS_SCHEMA_VERSION, ComprehensiveAIAnalysis
    from catalog_resources.resources.analyzers import GeminiAnalyzer, LocalAnalyzer, OpenAIAnalyzer
    from catalog_resources.resources.embedders import LocalEmbedder, OpenAIEmbedder

    def sha12(*parts: str) -> str:
        return hashlib.sha256(b"".join(p.encode() + b"\0" for p in parts)).hexdigest()[:12]

    schema = json.dumps(ComprehensiveAIAnalysis.model_json_schema(), sort_keys=True)
    prompt = sha12(packaged_prompt_path().read_text(), schema, str(ANALYSIS_SCHEMA_VERSION))

    def expected(backend: str, model: str, language=None, ocr_frames=4, image_model=None) -> str:
        answer = json.dumps({"image_model": image_model, "language": language, "ocr_frames": ocr_frames})
        return f"{backend}/{model}:{sha12(prompt, answer)}"

    def settings(**values) -> CatalogSettings:
        return CatalogSettings(home=tmp_path, database_url="postgresql://u@/db?host=/nowhere", **values)

    local = build_analyzer(settings(analysis_language="de"))
    assert type(local) is LocalAnalyzer and not local.is_cloud
    assert local.code_version() == expected("local", MODEL_NAME, language="de")
    gemini = build_analyzer(settings(analyzer="gemini", gemini_model="gemini-2.5-pro", analysis_ocr_frames=2))
    assert type(gemini) is GeminiAnalyzer and gemini.is_cloud and gemini.model == "gemini-2.5-pro"
    assert gemini.code_version() == expected("gemini", "gemini-2.5-pro", ocr_frames=2)
    openai = build_analyzer(settings(analyzer="openai", openai_model="gpt-4o-mini", image_model_path=tmp_path / "siglip"))
    assert type(openai) is OpenAIAnalyzer and openai.is_cloud
    assert openai.code_version() == expected("openai", "gpt-4o-mini", image_model="siglip")
    assert build_analyzer(settings(analyzer="openai")).code_version() == expected("openai", "unset")
    assert set(GeminiAnalyzer.model_fields) - set(OpenAIAnalyzer.model_fields) == {"window_seconds"}
    assert "models_dir" not in GeminiAnalyzer.model_fields and "threads" not in OpenAIAnalyzer.model_fields

    embedder = build_embedder(settings())
    assert type(embedder) is LocalEmbedder and embedder.code_version() == "local/multilingual-e5-small:texts-v3"
    remote = build_embedder(settings(embedding_backend="openai", embedding_model="BAAI/bge-m3",
                                     embedding_base_url="http://localhost:8080/v1"))
    assert type(remote) is OpenAIEmbedder and remote.code_version() == "openai/BAAI/bge-m3:texts-v3"
    assert remote.service().base_url == "http://localhost:8080/v1" and "base_url" not in LocalEmbedder.model_fields


def test_every_job_and_the_implicit_asset_job_run_in_process(tmp_path):
    """The UI's asset graph, "Materialize all" and the backfill page launch the implicit asset job; the sensor
    launches its target job: every one runs its steps in the run's own process (a process per step cost ~4 s each)."""
    defs = build_definitions(CatalogSettings(home=tmp_path, database_url="postgresql://u@/db?host=/nowhere"))
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    sensor = defs.get_sensor_def("footage_sensor")
    assert {job.name for job in defs.resolve_all_job_defs()} >= {"__ASSET_JOB", "ingest_job", sensor.job_name}
    assert {job.executor_def.name for job in defs.resolve_all_job_defs()} == {"in_process"}


def catalog_definitions() -> Definitions:
    """The code location for the current catalog home, rebuilt wherever the run is reconstructed (as a code
    server does from catalog_assets.definitions; that module's `defs` is read once per process)."""
    from catalog_resources.settings import load_settings

    return build_definitions(load_settings())


@pytest.mark.slow
def test_a_launch_of_the_implicit_asset_job_runs_its_steps_in_one_process(catalog_env, media_library, tmp_path):
    """As the UI launches it: the implicit asset job reconstructed from a code pointer, executed against the
    instance with `execute_job`, one clip partition; no step gets a process of its own."""
    from dagster import DagsterEventType, DagsterInstance, execute_job
    # Private: the public reconstructable() cannot point at a Definitions' implicit job (reserved name); the run
    # launcher reconstructs it from the repository the same way.
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from catalog_resources.store.dagster_home import prepare_dagster_home
    from catalog_resources.store.endpoint import resolve_database

    from tests.media import register_clip

    key = register_clip(media_library, tmp_path)

    prepare_dagster_home(catalog_env, resolve_database(catalog_env))
    job = ReconstructableRepository.for_module(__name__, "catalog_definitions").get_reconstructable_job("__ASSET_JOB")
    with DagsterInstance.get() as instance, execute_job(
        job, instance, tags={"dagster/partition": key},
        asset_selection=[AssetKey("clip_source"), AssetKey("technical_metadata")],
    ) as run:
        assert run.success
        events = run.all_events
        types = {event.event_type for event in events}
        assert DagsterEventType.STEP_WORKER_STARTING not in types and DagsterEventType.STEP_WORKER_STARTED not in types
        started = [event for event in events if event.event_type == DagsterEventType.STEP_START]
        assert {event.step_key for event in started} >= {"clip_source", "technical_metadata"}
        assert {event.pid for event in started} == {os.getpid()}  # the run's own process, which is this one
        materialized = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
        assert {(r.event_log_entry.asset_materialization.asset_key.to_user_string(), r.event_log_entry.asset_materialization.partition)
                for r in materialized} == {("clip_source", key), ("technical_metadata", key)}
