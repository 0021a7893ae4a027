"""ai_analysis: transcript, sound events, on-screen text, entities, keywords and summary for each clip.

Built by a factory because its code version comes from the configured analyzer (backend, model, prompt
and schema hash): switching any of them marks exactly this asset and its downstream stale.
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetsDefinition, Backoff, Failure, Jitter, MetadataValue, Output, RetryPolicy

from catalog_assets.metadata import clip_output, json_metadata
from catalog_assets.partitions import clip_asset, clip_ids
from catalog_resources.models.analysis import ComprehensiveAIAnalysis, ContentAnalysis, ContentWarning
from catalog_resources.resources.analyzers import Analyzer
from catalog_resources.analysis.cloud.common import BlockedAnswerError, MalformedAnswerError, MissingKeyError
from catalog_resources.analysis.local.pipeline import AnalysisInputs
from catalog_resources.models.media import DerivedMedia, FrameAnalysis, ThumbnailSet
from catalog_resources.resources.media import ClipPool, MediaStore
from catalog_resources.models.technical import TechnicalMetadata
from catalog_resources.work.cpu import StepClock

UNBOUND_VERSION = "unbound"  # the graph listing for `steps`; Definitions bind the configured analyzer's version


def _inputs(clip_id: str, meta: TechnicalMetadata | None, derived: DerivedMedia | None,
            thumbs: ThumbnailSet | None, fa: FrameAnalysis | None) -> AnalysisInputs:
    ranked = sorted(thumbs.thumbnails if thumbs else [], key=lambda t: (not t.is_poster, -t.score))
    poster = next((t for t in ranked if t.is_poster), None)
    context = ""
    if meta is not None:
        context = (f"file {meta.file_name}, duration {meta.duration_seconds} s, {meta.width}x{meta.height}, "
                   f"{meta.frame_rate} fps, codec {meta.video_codec}, recorded {meta.recorded_at or 'unknown'}, "
                   f"camera {meta.camera_make or '?'} {meta.camera_model or ''}".strip())
    return AnalysisInputs(
        clip_id=clip_id,
        duration=meta.duration_seconds if meta else None,
        audio_path=derived.audio_path if derived else None,
        proxy_path=derived.proxy_path if derived else None,
        frames=[(t.pts_seconds, t.paths[max(t.paths, key=int)]) for t in ranked],
        poster_seconds=poster.pts_seconds if poster else None,
        frame_analysis=fa,
        technical_context=context,
    )


def build_ai_analysis(code_version: str = UNBOUND_VERSION, retry_delay: float | None = None) -> AssetsDefinition:
    """`retry_delay` (cloud backends): a request that still fails after the client's own backoff gets two
    more Dagster tries, that many seconds apart and then doubled; the local analyzer is not retried."""
    retry = (RetryPolicy(max_retries=2, delay=retry_delay, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)
             if retry_delay is not None else None)

    @clip_asset(code_version=code_version, group_name="analysis", kinds={"python"}, pool="ai", retry_policy=retry)
    def ai_analysis(
        context: AssetExecutionContext,
        technical_metadata: dict[str, TechnicalMetadata],
        proxy: dict[str, DerivedMedia],
        thumbnails: dict[str, ThumbnailSet],
        frame_analysis: dict[str, FrameAnalysis],
        analyzer: Analyzer,
        media: MediaStore,
        clip_pool: ClipPool,
    ) -> Output[dict[str, ComprehensiveAIAnalysis]]:
        """Transcript with timestamps (Whisper base), sound events (YAMNet), on-screen text (PP-OCR) on the
        best thumbnails, entities (spaCy), keywords (YAKE), an extractive summary, shot types from the faces
        frame_analysis found. Offline by default; what a backend cannot measure stays empty."""
        started = StepClock.start()

        def analyze(clip_id: str) -> ComprehensiveAIAnalysis:
            inputs = _inputs(clip_id, technical_metadata.get(clip_id), proxy.get(clip_id),
                             thumbnails.get(clip_id), frame_analysis.get(clip_id))
            try:
                analysis = analyzer.analyze(inputs)
            except BlockedAnswerError as exc:  # recorded as such, not retried: the same request is blocked again
                analysis = blocked_analysis(clip_id, analyzer, exc.reason)
            except (MissingKeyError, MalformedAnswerError) as exc:  # retrying gives the same answer
                raise Failure(description=f"ai_analysis of clip {clip_id}: {exc}", allow_retries=False) from exc
            except (RuntimeError, OSError) as exc:  # the models' own errors name the file and the fix
                raise Failure(description=f"ai_analysis of clip {clip_id}: {exc}") from exc
            analysis.analysis_file_path = str(Path(media.media_dir) / clip_id / "ai_analysis.json")
            return analysis

        # a cloud backend's requests go out side by side too: its client paces them to requests_per_minute
        results = clip_pool.map(analyze, clip_ids(context.partition_keys))
        return clip_output(
            context, results, _clip_metadata, started=started,
            totals={
                "transcript_words": sum(_words(a) for a in results.values()),
                "sound_events": sum(len(a.audio_analysis.sound_events) for a in results.values() if a.audio_analysis),
                "prompt_tokens": int(sum(a.usage.get("prompt_tokens", 0) for a in results.values())),
                "output_tokens": int(sum(a.usage.get("output_tokens", 0) for a in results.values())),
                "estimated_cost_usd": round(sum(a.usage.get("estimated_cost_usd", 0.0) for a in results.values()), 6),
            },
        )

    return ai_analysis


def _words(a: ComprehensiveAIAnalysis) -> int:
    return len(a.transcript.full_text.split()) if a.transcript else 0


def _clip_metadata(a: ComprehensiveAIAnalysis) -> dict[str, object]:
    """This clip's analysis: who made it, what it found, what it cost."""
    return {
        "backend": a.backend,
        "model": a.model,
        "transcript_words": _words(a),
        "language": (a.transcript.language if a.transcript else None) or "",
        "sound_events": len(a.audio_analysis.sound_events) if a.audio_analysis else 0,
        "timings": json_metadata(a.timings),
        "prompt_tokens": int(a.usage.get("prompt_tokens", 0)),
        "output_tokens": int(a.usage.get("output_tokens", 0)),
        "estimated_cost_usd": round(a.usage.get("estimated_cost_usd", 0.0), 6),
        "notes": json_metadata(a.notes),
        "preview": MetadataValue.md(_preview(a)),
    }


def blocked_analysis(clip_id: str, analyzer: Analyzer, reason: str) -> ComprehensiveAIAnalysis:
    return ComprehensiveAIAnalysis(
        clip_id=clip_id, backend=analyzer.backend, model=analyzer.model, code_version=analyzer.code_version(),
        content_analysis=ContentAnalysis(source=f"{analyzer.backend}/{analyzer.model}", content_warnings=[
            ContentWarning(category="blocked", description=f"the service refused to analyse this clip: {reason}")]),
        notes=[f"blocked by {analyzer.backend}: {reason}"],
    )


def _preview(a: ComprehensiveAIAnalysis) -> str:
    lines = [f"**Summary** ({'extractive' if a.summary and a.summary.extractive else 'written'}): "
             f"{(a.summary.overall if a.summary else None) or '-'}"]
    if a.summary and a.summary.keywords:
        lines.append("**Keywords:** " + ", ".join(a.summary.keywords))
    if a.transcript and a.transcript.segments:
        lines.append("**Transcript:**")
        lines += [f"- `{s.start_seconds:.1f}-{s.end_seconds:.1f}s` {s.text}" for s in a.transcript.segments[:8]]
    return "\n".join(lines)
