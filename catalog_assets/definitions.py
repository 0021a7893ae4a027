"""The one Definitions object: assets, checks, the IO manager, resources, the ingest job and the sensor."""

from __future__ import annotations

from dagster import Definitions

from catalog_assets.automation import OutOfDateSource, apply_refresh_conditions, refresh_sensor
from catalog_assets.executors import build_executor
from catalog_assets.graph import CHECKS, build_assets, build_ingest_job
from catalog_assets.io_manager import CatalogIOManager
from catalog_assets.partitions import clips_partitions
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.resources.analyzers import Analyzer, GeminiAnalyzer, LocalAnalyzer, OpenAIAnalyzer
from catalog_resources.resources.embedders import Embedder, LocalEmbedder, OpenAIEmbedder
from catalog_resources.store.endpoint import resolve_database
from catalog_resources.resources.media import ClipPool, FFmpegRunner, FrameInspector, MediaStore, Thumbnailer
from catalog_resources.resources.probes import ExifToolProbe, MediaInfoProbe, PyAVProbe
from catalog_resources.settings import CatalogSettings, load_settings
from catalog_sensors.footage_sensor import build_batch_retry_sensor, build_footage_sensor


def build_analyzer(settings: CatalogSettings) -> Analyzer:
    """The analyzer resource for VIDEO_CATALOG_ANALYZER, holding the settings that backend reads."""
    versioned = dict(  # what every code version covers (catalog_resources/analysis/prompt.py)
        prompt_file=str(settings.analysis_prompt_file) if settings.analysis_prompt_file else None,
        language=settings.analysis_language, ocr_frames=settings.analysis_ocr_frames,
        image_model_path=str(settings.image_model_path) if settings.image_model_path else None,
    )
    if settings.analyzer == "local":
        return LocalAnalyzer(models_dir=str(settings.models_dir), **versioned)
    cloud = dict(versioned, media_dir=str(settings.media_dir), requests_per_minute=settings.analysis_requests_per_minute,
                 max_attempts=settings.analysis_max_attempts, prices_json=settings.analysis_prices)
    if settings.analyzer == "gemini":
        return GeminiAnalyzer(model=settings.gemini_model, base_url=settings.gemini_base_url,
                              api_key=settings.gemini_api_key, window_seconds=settings.analysis_window_seconds, **cloud)
    return OpenAIAnalyzer(model=settings.openai_model, base_url=settings.openai_base_url,
                          api_key=settings.openai_api_key, models_dir=str(settings.models_dir), **cloud)


def build_embedder(settings: CatalogSettings) -> Embedder:
    """The embedder resource for VIDEO_CATALOG_EMBEDDING_BACKEND."""
    if settings.embedding_backend == "openai":
        return OpenAIEmbedder(model=settings.embedding_model, min_similarity=settings.search_min_similarity,
                              base_url=settings.embedding_base_url, api_key=settings.embedding_api_key)
    return LocalEmbedder(model=settings.embedding_model, min_similarity=settings.search_min_similarity)


def build_definitions(settings: CatalogSettings) -> Definitions:
    """Definitions bound to one catalog home (tests build one per temporary home)."""
    endpoint = resolve_database(settings, start=False)
    catalog = CatalogResource(database_url=endpoint.catalog_url)
    analyzer = build_analyzer(settings)
    embedder = build_embedder(settings)
    assets = apply_refresh_conditions(  # out-of-date clips shown and redone in the UI (catalog_assets/automation.py)
        build_assets(analyzer.code_version(), retry_delay=settings.analysis_retry_delay if analyzer.is_cloud else None,
                     embeddings_version=embedder.code_version()),
        OutOfDateSource(catalog, str(settings.media_dir)),
        paid={"ai_analysis"} if analyzer.is_cloud else (), auto_paid=settings.auto_refresh_cloud)
    # Every launch path uses the configured executor: the UI's Materialize / backfills (the implicit asset job) and
    # the sensors' runs through the job's executor, `ingest` through catalog_assets/ingest_runner.py. In process by
    # default (a process per step costs seconds per step); celery sends each step to a worker's queue.
    executor = build_executor(settings)
    ingest_job = build_ingest_job(executor)
    return Definitions(
        assets=assets,
        asset_checks=CHECKS,
        executor=executor,
        jobs=[ingest_job],
        sensors=[build_footage_sensor(settings, ingest_job, clips_partitions),
                 build_batch_retry_sensor(settings, ingest_job, clips_partitions),
                 refresh_sensor(assets)],
        resources={
            "catalog": catalog,
            "catalog_io_manager": CatalogIOManager(catalog=catalog, media_dir=str(settings.media_dir)),
            "pyav": PyAVProbe(),
            "mediainfo": MediaInfoProbe(),
            "exiftool": ExifToolProbe(),
            "ffmpeg": FFmpegRunner(cache_dir=str(settings.home / "cache"), proxy_fps=settings.proxy_fps,
                                   proxy_max_bitrate=settings.proxy_max_bitrate),
            "media": MediaStore(media_dir=str(settings.media_dir)),
            "clip_pool": ClipPool(workers=settings.clip_workers),
            "thumbnailer": Thumbnailer(image_format=settings.thumbnail_format, count=settings.thumbnail_count),
            "frame_inspector": FrameInspector(models_dir=str(settings.models_dir)),
            "analyzer": analyzer,
            "embedder": embedder,
        },
    )


defs = build_definitions(load_settings())
