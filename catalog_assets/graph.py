"""The asset graph itself: assets, checks and the ingest job, with no settings read at import."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from catalog_assets.ai_analysis import UNBOUND_VERSION, build_ai_analysis
from catalog_assets.catalog_record import catalog_record
from catalog_assets.embeddings import build_embeddings
from catalog_assets.checks import (
    catalog_record_present,
    clip_source_verified,
    frame_analysis_thresholds,
    technical_metadata_essentials,
)
from catalog_assets.clip_source import clip_source
from catalog_assets.faces import faces
from catalog_assets.frame_analysis import frame_analysis
from catalog_assets.partitions import clips_partitions
from catalog_assets.proxy import proxy
from catalog_assets.speakers import speakers
from catalog_assets.technical_metadata import technical_metadata
from catalog_assets.thumbnails import thumbnails



def build_assets(ai_code_version: str = UNBOUND_VERSION, retry_delay: float | None = None,
                 embeddings_version: str = UNBOUND_VERSION) -> list:
    """The per-clip assets in graph order (what `steps` lists); ai_analysis carries the analyzer's version."""
    return [clip_source, technical_metadata, proxy, thumbnails, frame_analysis, faces, speakers,
            build_ai_analysis(ai_code_version, retry_delay), build_embeddings(embeddings_version), catalog_record]


ASSETS = build_assets()
CHECKS = [clip_source_verified, technical_metadata_essentials, frame_analysis_thresholds, catalog_record_present]
INGEST_JOB_NAME = "ingest_job"



def build_ingest_job(executor_def=in_process_executor):
    """The ingest job on an executor. In-process by default: one process per step costs 18-29 s per clip on two
    cores (measured), in-process ~1 s; the celery executor (catalog_assets/executors.py) sends each step to a
    worker's queue instead."""
    return define_asset_job(
        INGEST_JOB_NAME,
        selection=AssetSelection.assets(*ASSETS),
        partitions_def=clips_partitions,
        executor_def=executor_def,
        description="Catalog clips: every enabled per-clip asset for the selected clip partitions.",
    )


ingest_job = build_ingest_job()
