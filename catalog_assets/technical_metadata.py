"""technical_metadata: PyAV + MediaInfo + ExifTool, reconciled into one model per clip."""

from pathlib import Path

from dagster import AssetExecutionContext, MetadataValue, Output

from catalog_assets.metadata import clip_output
from catalog_assets.partitions import clip_asset
from catalog_resources.media.reconcile import reconcile
from catalog_resources.models.clips import ClipSource
from catalog_resources.resources.probes import ExifToolProbe, MediaInfoProbe, PyAVProbe
from catalog_resources.models.technical import TechnicalMetadata
from catalog_resources.work.cpu import StepClock


def _summary(meta: TechnicalMetadata) -> dict[str, object]:
    return {
        "resolution": f"{meta.width}x{meta.height}" if meta.width else "",
        "codec": meta.video_codec or "",
        "fps": round(meta.frame_rate or 0.0, 3),
        "duration_seconds": round(meta.duration_seconds or 0.0, 3),
        "hdr": meta.hdr_format or "SDR",
        "camera": meta.camera or "",
        "source_workflow": meta.source_workflow or "",
    }


def _clip_metadata(meta: TechnicalMetadata) -> dict[str, object]:
    """What the UI shows on this clip's technical_metadata materialization."""
    summary = _summary(meta)
    return {
        "file_name": meta.file_name,
        **summary,
        "width": meta.width or 0,
        "height": meta.height or 0,
        **{f"{tool}_ms": round(meta.probe_ms.get(tool, 0.0), 1) for tool in ("pyav", "mediainfo", "exiftool")},
        "validation_issues": len(meta.validation_issues),
        "preview": MetadataValue.md(
            "| resolution | codec | fps | duration | HDR | camera |\n|---|---|---|---|---|---|\n"
            "| {resolution} | {codec} | {fps} | {duration_seconds}s | {hdr} | {camera} |".format(**summary)
        ),
    }


@clip_asset(
    code_version="1",
    group_name="metadata",
    kinds={"python", "postgres"},
)
def technical_metadata(
    context: AssetExecutionContext,
    clip_source: dict[str, ClipSource],
    pyav: PyAVProbe,
    mediainfo: MediaInfoProbe,
    exiftool: ExifToolProbe,
) -> Output[dict[str, TechnicalMetadata]]:
    """Container, video, colour/HDR, audio and subtitle tracks, camera and GPS, recording date and
    timecode, the source device or software, and validation issues: read by PyAV, MediaInfo and ExifTool
    (one process for the run) and reconciled field by field."""
    started = StepClock.start()
    results: dict[str, TechnicalMetadata] = {}
    for clip_id, source in clip_source.items():
        path = Path(source.path)
        meta = reconcile(
            clip_id, path, source.size_bytes, pyav.probe(path), mediainfo.probe(path), exiftool.probe(path)
        )
        for issue in meta.validation_issues:
            context.log.warning(f"{path}: {issue.code}: {issue.message}")
        results[clip_id] = meta
    return clip_output(
        context, results, _clip_metadata, started=started,
        totals={
            **{f"{tool}_ms": round(sum(m.probe_ms.get(tool, 0.0) for m in results.values()), 1)
               for tool in ("pyav", "mediainfo", "exiftool")},
            "validation_issues": sum(len(m.validation_issues) for m in results.values()),
        },
    )
