"""proxy: the one full decode of a clip, making the proxy, the speech audio and the analysis stream."""

from pathlib import Path

from dagster import AssetExecutionContext, Config, MetadataValue, Output, RetryPolicy
from pydantic import Field

from catalog_assets.metadata import clip_output
from catalog_assets.partitions import clip_asset
from catalog_resources.models.clips import ClipSource
from catalog_resources.models.media import DerivedMedia, ProxySettings
from catalog_resources.models.technical import TechnicalMetadata
from catalog_resources.progress_bus import StepProgress, publish
from catalog_resources.resources.media import ClipPool, FFmpegRunner, MediaStore
from catalog_resources.work.cpu import StepClock


class ProxyConfig(Config):
    """`ingest --compression-fps / --compression-bitrate` set these for one run (the spec's AI compression
    options); unset, the catalog's settings (`proxy_fps`, `proxy_max_bitrate`: environment or config.toml) apply."""

    fps: float | None = Field(default=None, gt=0)
    max_dimension: int = 1280
    crf: int = 23
    preset: str = "superfast"
    max_bitrate: str | None = None
    audio_bitrate: str = "128k"


def _clip_metadata(derived: DerivedMedia) -> dict[str, object]:
    """This clip's proxy: where, how big, how fast it was made."""
    values: dict[str, object] = {
        "proxy": MetadataValue.path(derived.proxy_path),
        "proxy_size": f"{derived.proxy_width}x{derived.proxy_height} @ {derived.proxy_fps:g} fps",
        "proxy_bytes": derived.proxy_bytes,
        "encoder": derived.encoder,
        "encode_seconds": round(derived.seconds, 3),
        "speed_x_realtime": round(derived.speed or 0.0, 2),
        "tone_mapped": derived.tone_mapped,
        "analysis_frames": derived.analysis_frames,
    }
    if derived.audio_path:
        values["audio"] = MetadataValue.path(derived.audio_path)
    return values


@clip_asset(
    code_version="1",
    group_name="media",
    kinds={"ffmpeg"},
    pool="transcode",
    retry_policy=RetryPolicy(max_retries=1),
)
def proxy(
    context: AssetExecutionContext,
    config: ProxyConfig,
    clip_source: dict[str, ClipSource],
    technical_metadata: dict[str, TechnicalMetadata],
    ffmpeg: FFmpegRunner,
    media: MediaStore,
    clip_pool: ClipPool,
) -> Output[dict[str, DerivedMedia]]:
    """One ffmpeg decode per clip (split to three outputs): an H.264 proxy (5 fps, 1280 px, CRF 23,
    AAC stereo) for viewing and cloud analysis, 16 kHz mono audio for speech models, and gray
    64 px frames at the source rate for scene-cut analysis. HDR is tone-mapped to BT.709."""
    started = StepClock.start()
    settings = ProxySettings(**{**config.model_dump(), "fps": config.fps or ffmpeg.proxy_fps,
                                "max_bitrate": config.max_bitrate or ffmpeg.proxy_max_bitrate})

    def derive(clip_id: str) -> DerivedMedia:
        source, meta = clip_source[clip_id], technical_metadata.get(clip_id)
        last = [0.0]

        def progress(fraction: float, clip=source.file_name, clip_id=clip_id) -> None:
            publish(StepProgress(clip_id=clip_id, label=clip, step="proxy", fraction=fraction))  # the CLI's bar
            # each log line is an event row in Postgres (~20-50 ms): halfway and done are enough
            if fraction - last[0] >= 0.5 or fraction >= 1.0 > last[0]:
                last[0] = fraction
                context.log.info(f"{clip}: {fraction:.0%}")

        return ffmpeg.derive(
            clip_id,
            Path(source.path),
            media.clip_dir(clip_id),
            settings,
            duration=(meta.duration_seconds if meta else None) or source.duration_seconds,
            has_audio=bool(meta.audio_tracks) if meta else source.has_audio,
            hdr_transfer=meta.transfer_characteristics if meta else None,
            sample_aspect=meta.sample_aspect_ratio if meta else None,
            on_progress=progress,
        )

    results = clip_pool.map(derive, list(clip_source))
    return clip_output(
        context, results, _clip_metadata, started=started,
        totals={
            "proxy_bytes": sum(r.proxy_bytes for r in results.values()),
            "encode_seconds": round(sum(r.seconds for r in results.values()), 3),
            "tone_mapped": sum(r.tone_mapped for r in results.values()),
        },
    )
