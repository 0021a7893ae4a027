"""Puts relevance-set clips (tests/relevance_set.py) into a real catalog: rows in clips, technical_metadata,
frame_analysis, analysis + transcripts + transcript segments (each sentence 4 s long), catalog_records, and
embeddings from the real model, through the same writers the assets use. Shared by tests and bench/search.py."""

from __future__ import annotations

import re

from catalog_assets.catalog_record import build_record
from catalog_resources.models import analysis as am
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.embeddings.service import EmbeddingService

SENTENCE_SECONDS = 4.0


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def analysis_for(doc: dict) -> am.ComprehensiveAIAnalysis:
    lines = sentences(doc["transcript"])
    segments = [am.TranscriptSegment(start_seconds=i * SENTENCE_SECONDS, end_seconds=(i + 1) * SENTENCE_SECONDS, text=t)
                for i, t in enumerate(lines)]
    return am.ComprehensiveAIAnalysis(
        clip_id=doc["clip_id"], backend="test", model="relevance-set", code_version="test",
        summary=am.AnalysisSummary(overall=doc["summary"], keywords=doc["keywords"]),
        audio_analysis=am.AudioAnalysis(transcript=am.Transcript(full_text=" ".join(lines), segments=segments)),
        visual_analysis=am.VisualAnalysis(text_and_graphics=am.TextAndGraphics(items=[
            am.ScreenText(start_seconds=0, end_seconds=SENTENCE_SECONDS, text=doc["on_screen_text"])])),
    )


def seed(store: CatalogResource, embedder: EmbeddingService, docs: list[dict], *, embed: bool = True) -> None:
    with store.connect() as conn, conn.transaction():
        for doc in docs:
            tech, clip_id = doc["technical"], doc["clip_id"]
            duration = SENTENCE_SECONDS * max(1, len(sentences(doc["transcript"])))
            conn.execute(
                "INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint, duration_seconds,"
                " video_codec, width, height, frame_rate) VALUES (%s, %s, %s, 1, %s, %s, %s, %s, %s, %s, %s, %s)",
                (clip_id, f"{clip_id}.mov", f"/archive/{clip_id}.mov", clip_id, clip_id, clip_id, duration,
                 tech["codec"], tech["height"] * 16 // 9, tech["height"], tech["fps"]))
            conn.execute(
                "INSERT INTO technical_metadata (clip_id, video_codec, width, height, frame_rate, duration_seconds)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (clip_id, tech["codec"], tech["height"] * 16 // 9, tech["height"], tech["fps"], duration))
            conn.execute("INSERT INTO frame_analysis (clip_id, dominant_shot_type, quality_score) VALUES (%s, %s, 70)",
                         (clip_id, tech["shot_type"]))
            store.write_analysis(conn, analysis_for(doc))
    with store.connect() as conn, conn.transaction():
        for doc in docs:
            store.write_catalog_record(conn, build_record(doc["clip_id"], store))
    if not embed:
        return
    for doc in docs:
        found = embedder.embed_clip(doc["clip_id"], store.embedding_inputs(doc["clip_id"]))
        with store.connect() as conn, conn.transaction():
            store.write_embeddings(conn, found)
