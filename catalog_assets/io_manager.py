"""The catalog IO manager: the one place asset outputs are written to the catalog.

Each asset returns `{clip_id: model}` for the partitions of its run (one clip in a per-clip run, many in
a batch run). For every clip the IO manager replaces that clip's rows in one transaction and writes a
JSON sidecar `<home>/media/<clip id>/<asset>.json`, which is also what downstream assets load.
"""


import json
from collections.abc import Callable, Mapping
from pathlib import Path

import psycopg
from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency
from pydantic import BaseModel

from catalog_assets.partitions import clip_ids
from catalog_resources.files import write_atomic
from catalog_resources.models.analysis import ComprehensiveAIAnalysis
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.models.media import DerivedMedia, FrameAnalysis, ThumbnailSet
from catalog_resources.models.clips import CatalogRecord, ClipSource
from catalog_resources.models.people import FaceSet
from catalog_resources.models.search import EmbeddingSet
from catalog_resources.models.speakers import SpeakerSet
from catalog_resources.models.technical import TechnicalMetadata

Writer = Callable[[CatalogResource, psycopg.Connection, BaseModel], int] | None  # None: sidecar only

# asset name -> (model class, writer). A new asset registers its tables here.
ASSET_TABLES: dict[str, tuple[type[BaseModel], Writer]] = {
    "clip_source": (ClipSource, lambda store, conn, m: store.write_clip_source(conn, m)),
    "technical_metadata": (TechnicalMetadata, lambda store, conn, m: store.write_technical_metadata(conn, m)),
    "proxy": (DerivedMedia, None),  # files under media/<clip>/; the sidecar says where
    "thumbnails": (ThumbnailSet, lambda store, conn, m: store.write_thumbnails(conn, m)),
    "frame_analysis": (FrameAnalysis, lambda store, conn, m: store.write_frame_analysis(conn, m)),
    "faces": (FaceSet, lambda store, conn, m: store.write_faces(conn, m)),
    "speakers": (SpeakerSet, lambda store, conn, m: store.write_speakers(conn, m)),
    "ai_analysis": (ComprehensiveAIAnalysis, lambda store, conn, m: store.write_analysis(conn, m)),
    "embeddings": (EmbeddingSet, lambda store, conn, m: store.write_embeddings(conn, m)),
    "catalog_record": (CatalogRecord, lambda store, conn, m: store.write_catalog_record(conn, m)),
}


def sidecar_path(media_dir: str | Path, clip_id: str, asset_name: str) -> Path:
    return Path(media_dir) / clip_id / f"{asset_name}.json"


def write_sidecar(path: Path, model: BaseModel) -> None:
    """Atomic write: a reader never sees half a file, a crash never leaves one. Private (0600) by the process
    umask of 077 that resolve_database sets in every process that loads the definitions."""
    write_atomic(path, model.model_dump_json(indent=2))


class CatalogIOManager(ConfigurableIOManager):
    catalog: ResourceDependency[CatalogResource]
    media_dir: str

    def handle_output(self, context: OutputContext, obj: Mapping[str, BaseModel]) -> None:
        asset_name = context.asset_key.path[-1]
        _model, writer = ASSET_TABLES[asset_name]
        rows = 0
        code_version = context.asset_spec.code_version or ""
        run_id = context.run_id if context.has_partition_key or context.has_asset_partitions else None
        with self.catalog.connect() as conn:
            for clip_id, model in obj.items():
                path = sidecar_path(self.media_dir, clip_id, asset_name)
                write_sidecar(path, model)
                with conn.transaction():  # rows and the version they were made with, together
                    if writer is not None:
                        rows += writer(self.catalog, conn, model)
                    self.catalog.record_versions(conn, asset_name, code_version, [clip_id], run_id)
                    self.catalog.clear_failures(conn, asset_name, [clip_id])
        # the whole batch's count (this context's metadata goes on every clip's event); each clip's own
        # sidecar path is put on its event by catalog_assets/metadata.py `clip_output`
        context.add_output_metadata({"batch_rows_written": rows})

    def load_input(self, context: InputContext) -> dict[str, BaseModel]:
        asset_name = context.upstream_output.asset_key.path[-1]
        model_cls, _writer = ASSET_TABLES[asset_name]
        loaded = {}
        for clip_id in clip_ids(context.asset_partition_keys):
            path = sidecar_path(self.media_dir, clip_id, asset_name)
            loaded[clip_id] = model_cls.model_validate(json.loads(path.read_text()))
        return loaded
