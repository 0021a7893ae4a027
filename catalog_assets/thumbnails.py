"""thumbnails: keyframe-seek candidates, scored and de-duplicated, at several sizes, plus a contact sheet."""

import base64
import io
from pathlib import Path

from dagster import AssetExecutionContext, MetadataValue, Output

from catalog_assets.metadata import clip_output
from catalog_assets.partitions import clip_asset
from catalog_resources.models.clips import ClipSource
from catalog_resources.models.media import ThumbnailSet
from catalog_resources.models.technical import TechnicalMetadata
from catalog_resources.resources.media import ClipPool, MediaStore, Thumbnailer
from catalog_resources.work.cpu import StepClock


def data_uri_preview(path: str, width: int = 320) -> str:
    """The Dagster UI renders Markdown images from data: URIs, not file paths."""
    from PIL import Image

    with Image.open(path) as image:
        image.thumbnail((width, width))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="JPEG", quality=70)
    return f"![poster](data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()})"


def _clip_metadata(thumbs: ThumbnailSet) -> dict[str, object]:
    """This clip's own poster (inline, the UI cannot show a file path), contact sheet and counts."""
    values: dict[str, object] = {
        "thumbnails": len(thumbs.thumbnails),
        "frames_decoded": thumbs.frames_decoded,
        "tone_mapped": thumbs.tone_mapped,
    }
    if thumbs.poster_path:
        values["poster"] = MetadataValue.path(thumbs.poster_path)
        values["preview"] = MetadataValue.md(data_uri_preview(thumbs.poster_path))
    if thumbs.contact_sheet_path:
        values["contact_sheet"] = MetadataValue.path(thumbs.contact_sheet_path)
    return values


@clip_asset(
    code_version="2",
    group_name="media",
    kinds={"python"},
)
def thumbnails(
    context: AssetExecutionContext,
    clip_source: dict[str, ClipSource],
    technical_metadata: dict[str, TechnicalMetadata],
    thumbnailer: Thumbnailer,
    media: MediaStore,
    clip_pool: ClipPool,
) -> Output[dict[str, ThumbnailSet]]:
    """Up to 30 candidate frames per clip found by seeking to keyframes (cost grows with the count, not
    the clip length), scored for sharpness, information and exposure, black/flat/duplicate frames
    dropped, the best marked as poster; written at 320 and 1280 px with a timecoded contact sheet;
    rotation, anamorphic pixels and HDR (tone-mapped to BT.709) handled."""
    started = StepClock.start()

    def extract(clip_id: str) -> ThumbnailSet:
        source, meta = clip_source[clip_id], technical_metadata.get(clip_id)
        return thumbnailer.extract(
            clip_id,
            Path(source.path),
            media.clip_dir(clip_id) / "thumbnails",
            transfer=meta.transfer_characteristics if meta else None,
            sample_aspect=meta.sample_aspect_ratio if meta else None,
            rotation=meta.rotation if meta else 0,
        )

    results = clip_pool.map(extract, list(clip_source))
    return clip_output(
        context, results, _clip_metadata, started=started,
        totals={
            "thumbnails": sum(len(r.thumbnails) for r in results.values()),
            "frames_decoded": sum(r.frames_decoded for r in results.values()),
            "tone_mapped": sum(r.tone_mapped for r in results.values()),
        },
    )
