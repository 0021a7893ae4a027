"""The offline analyzer: packaged models only (Whisper base, YAMNet, PP-OCR, spaCy), no key, no network.

It fills the fields its models measure and leaves the rest empty, saying so in `notes`: there is no
generative model offline, so the summary is picked from the transcript (marked extractive) plus a
sentence on what the clip shows, and sentiment, content warnings and speakers stay empty.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from catalog_resources.models import analysis as am
from catalog_resources.models.media import FrameAnalysis

LOCAL_MODELS = ("whisper-base-ct2-int8", "yamnet-w8a8-onnx", "ppocr-onnx", "en_core_web_sm-3.8", "yake")
MODEL_NAME = "+".join(LOCAL_MODELS)
MIN_SCREEN_TEXT = 3  # single glyphs and 2-digit counters are what OCR "reads" in test patterns and textures


class AnalysisInputs(BaseModel):
    """What an analyzer gets for one clip, gathered by the asset from upstream products."""

    clip_id: str
    duration: float | None = None
    audio_path: str | None = Field(default=None, description="16 kHz mono WAV from the proxy pass; None: no audio.")
    proxy_path: str | None = Field(default=None, description="The small H.264 proxy (what a video model watches).")
    frames: list[tuple[float, str]] = Field(default_factory=list, description="(seconds, image) thumbnails, best first.")
    poster_seconds: float | None = None
    frame_analysis: FrameAnalysis | None = None
    technical_context: str = ""


def _round(value: float) -> float:
    return round(float(value), 3)


class LocalPipeline:
    def __init__(self, models_dir: Path, language: str | None = None, ocr_frames: int = 4, threads: int = 2,
                 image_model_path: Path | None = None, image_min_probability: float = 0.2) -> None:
        self.models_dir = Path(models_dir)
        self.language = language
        self.ocr_frames = ocr_frames
        self.threads = threads
        self.image_model_path = image_model_path
        self.image_min_probability = image_min_probability

    def analyze(self, inputs: AnalysisInputs, *, code_version: str) -> am.ComprehensiveAIAnalysis:
        result = am.ComprehensiveAIAnalysis(
            clip_id=inputs.clip_id, backend="local", model=MODEL_NAME, code_version=code_version,
        )
        audio = self._audio(inputs, result)
        visual = self._visual(inputs, result)
        transcript_text = audio.transcript.full_text if audio.transcript else ""
        screen = [item.text for item in (visual.text_and_graphics.items if visual.text_and_graphics else [])]
        result.audio_analysis, result.visual_analysis = audio, visual
        result.content_analysis = self._content(transcript_text, screen, result)
        result.summary = self._summary(transcript_text, screen, result)
        if self.image_model_path is not None:
            self._image_labels(inputs, result)
        result.notes += [
            "summary is extractive: sentences picked from the transcript plus what the clip shows",
            "sentiment, content warnings, speaker diarization and activities need a generative analyzer (not offline)",
        ]
        return result

    # -- audio ---------------------------------------------------------------------------------------------

    def _audio(self, inputs: AnalysisInputs, result: am.ComprehensiveAIAnalysis) -> am.AudioAnalysis:
        audio = am.AudioAnalysis(source="local")
        if not inputs.audio_path or not Path(inputs.audio_path).exists():
            result.notes.append("no audio track: no transcript or sound events")
            return audio
        from catalog_resources.analysis.local.sound_events import SoundEventDetector

        started = time.monotonic()
        audio.transcript = self.transcribe(inputs.audio_path)
        result.timings["transcript"] = round(time.monotonic() - started, 3)
        transcript = audio.transcript
        if transcript.segments and not transcript.language_trusted:
            result.notes.append(f"language detection unsure ({transcript.language} at {transcript.language_probability});"
                                " set VIDEO_CATALOG_ANALYSIS_LANGUAGE to force it")
        started = time.monotonic()
        report = SoundEventDetector(self.models_dir, threads=self.threads).detect(Path(inputs.audio_path))
        result.timings["sound_events"] = round(time.monotonic() - started, 3)
        audio.sound_events = [
            am.SoundEvent(start_seconds=_round(e.start), end_seconds=_round(e.end), label=e.label,
                          category=e.category, confidence=_round(e.confidence))
            for e in report.events
        ]
        return audio

    def transcribe(self, audio_path: str) -> am.Transcript:
        """Whisper's timed segments and words as the schema's transcript."""
        from catalog_resources.analysis.local.speech import SpeechTranscriber

        transcriber = SpeechTranscriber(self.models_dir, language=self.language, cpu_threads=self.threads)
        speech = transcriber.transcribe(Path(audio_path))
        return am.Transcript(
            source=f"local/{transcriber.model_name}", language=speech.language,
            language_probability=_round(speech.language_probability), language_trusted=speech.language_trusted,
            full_text=speech.text,
            segments=[
                am.TranscriptSegment(
                    start_seconds=_round(s.start), end_seconds=_round(s.end), text=s.text.strip(),
                    confidence=_round(min(1.0, max(0.0, 1.0 + s.avg_logprob))),
                    words=[am.TranscriptWord(start_seconds=_round(w.start), end_seconds=_round(w.end),
                                             word=w.word.strip(), probability=_round(w.probability)) for w in s.words],
                )
                for s in speech.segments
            ],
        )

    # -- pictures ------------------------------------------------------------------------------------------

    def _visual(self, inputs: AnalysisInputs, result: am.ComprehensiveAIAnalysis) -> am.VisualAnalysis:
        fa = inputs.frame_analysis
        visual = am.VisualAnalysis(source="local")
        if fa is not None and fa.frames:
            visual.shot_types = self._shot_spans(fa, inputs.duration)
            visual.face_counts = [len(f.faces) for f in fa.frames]
            visual.focal_length_category = fa.focal_length_category  # EXIF only; None when the camera did not say
            if fa.quality_score is not None:
                score = fa.quality_score
                usability = "excellent" if score >= 80 else "good" if score >= 60 else "fair" if score >= 40 else "poor"
                issues = [name for name, flag in (("exposure", fa.exposure_warning), ("blur", fa.is_blurry)) if flag]
                visual.technical_quality = am.TechnicalQuality(
                    source="frame_analysis", overall_score=score, usability=usability, issues=issues,
                )
        by_time = dict(inputs.frames)
        picks = [t for t in (inputs.poster_seconds, *by_time) if t is not None]
        visual.keyframe_recommendations = [
            am.KeyframeRecommendation(seconds=_round(t), thumbnail_path=by_time.get(t),
                                      reason="poster: highest sharpness and information score" if i == 0 else
                                      "next-best scored thumbnail")
            for i, t in enumerate(dict.fromkeys(picks)) if i < 3
        ]
        if self.ocr_frames and inputs.frames:
            from catalog_resources.analysis.local.screen_text import ScreenTextReader

            started = time.monotonic()
            chosen = sorted(inputs.frames[: self.ocr_frames])
            report = ScreenTextReader(threads=self.threads).read([(t, Path(p)) for t, p in chosen])
            result.timings["screen_text"] = round(time.monotonic() - started, 3)
            visual.text_and_graphics = am.TextAndGraphics(
                source=f"local/{report.model}",
                items=[am.ScreenText(start_seconds=_round(min(line.seconds)), end_seconds=_round(max(line.seconds)),
                                     text=line.text, confidence=_round(line.confidence))
                       for line in report.lines if len(line.text.strip()) >= MIN_SCREEN_TEXT],
            )
        return visual

    def _image_labels(self, inputs: AnalysisInputs, result: am.ComprehensiveAIAnalysis) -> None:
        """Zero-shot scene labels (and the focal length category when EXIF had none) from the local image model."""
        from catalog_resources.analysis.local.image_labels import ImageLabeler

        labeler = ImageLabeler(Path(self.image_model_path), min_probability=self.image_min_probability)
        found = labeler.label([Path(p) for _t, p in inputs.frames[: max(self.ocr_frames, 1)]])
        result.timings["image_labels"] = found.seconds
        result.model += f"+{found.model}"
        assert result.summary is not None and result.visual_analysis is not None
        result.summary.scene_classification += [label for label, _p in found.labels
                                                if label not in result.summary.scene_classification]
        visual = result.visual_analysis
        if visual.focal_length_category is None and (found.focal_probability or 0) >= 0.5:
            visual.focal_length_category = found.focal_length_category  # type: ignore[assignment]
            result.notes.append(f"focal length category from the image model ({found.focal_probability:.2f}), not EXIF")

    @staticmethod
    def _shot_spans(fa: FrameAnalysis, duration: float | None) -> list[am.ShotTypeSpan]:
        """Consecutive thumbnails with the same framing become one span, ending where the next one starts."""
        frames = sorted((f for f in fa.frames if f.shot_type), key=lambda f: f.pts_seconds)
        spans: list[am.ShotTypeSpan] = []
        for i, frame in enumerate(frames):
            end = frames[i + 1].pts_seconds if i + 1 < len(frames) else max(duration or frame.pts_seconds, frame.pts_seconds)
            if spans and spans[-1].shot_type == frame.shot_type:
                spans[-1].end_seconds = _round(end)
                continue
            faces = len(frame.faces)
            spans.append(am.ShotTypeSpan(
                start_seconds=_round(frame.pts_seconds), end_seconds=_round(end), shot_type=frame.shot_type,
                description=f"{faces} face{'s' if faces != 1 else ''} detected" if faces else None,
                confidence=_round(max((f.confidence for f in frame.faces), default=0) / 100) if faces else None,
            ))
        return spans

    # -- text ----------------------------------------------------------------------------------------------

    def _content(self, transcript: str, screen: list[str], result: am.ComprehensiveAIAnalysis) -> am.ContentAnalysis:
        content = am.ContentAnalysis(source="local")
        texts = [t for t in (transcript, *screen) if t.strip()]
        if texts:
            from catalog_resources.analysis.local.text_mining import extract_entities, ner_model_name

            started = time.monotonic()
            found = extract_entities(texts)
            result.timings["entities"] = round(time.monotonic() - started, 3)
            content.entities = found.model_copy(update={"source": f"local/{ner_model_name()}"})
        return content

    def _summary(self, transcript: str, screen: list[str], result: am.ComprehensiveAIAnalysis) -> am.AnalysisSummary:
        from catalog_resources.analysis.local.text_mining import extract_keywords, extractive_summary, split_sentences

        started = time.monotonic()
        summary = am.AnalysisSummary(source="local/extractive", extractive=True)
        picked = extractive_summary(split_sentences(transcript), max_sentences=3) if transcript.strip() else []
        shows = self._what_it_shows(result, screen)
        summary.overall = " ".join([*picked, shows]).strip() or None
        text = " ".join([transcript, *screen])
        summary.keywords = extract_keywords(text, top=10, language=self.language or "en") if text.strip() else []
        summary.scene_classification = self._scene_labels(result, screen)
        result.timings["summary_keywords"] = round(time.monotonic() - started, 3)
        return summary

    @staticmethod
    def _scene_labels(result: am.ComprehensiveAIAnalysis, screen: list[str]) -> list[str]:
        """Labels the measurements support: what is heard most, whether people are seen, text on screen."""
        audio, visual = result.audio_analysis, result.visual_analysis
        heard: Counter[str] = Counter()
        for event in audio.sound_events if audio else []:
            heard[event.category] += event.end_seconds - event.start_seconds
        labels = [category for category, seconds in heard.most_common() if seconds >= 1.0 and category != "other"]
        if heard and heard.most_common(1)[0][0] == "silence":
            labels.append("quiet")
        if visual and visual.shot_types:
            people = any(span.shot_type != "no people" for span in visual.shot_types)
            labels.append("people" if people else "no people")
        if screen:
            labels.append("on-screen text")
        return list(dict.fromkeys(labels))

    @staticmethod
    def _what_it_shows(result: am.ComprehensiveAIAnalysis, screen: list[str]) -> str:
        parts = []
        visual, audio = result.visual_analysis, result.audio_analysis
        if visual and visual.shot_types:
            framings = list(dict.fromkeys(s.shot_type for s in visual.shot_types))
            parts.append("framing: " + ", ".join(framings))
        if screen:
            parts.append("on-screen text: " + "; ".join(f'"{t}"' for t in screen[:3]))
        if audio and audio.sound_events:
            parts.append("sound: " + ", ".join(dict.fromkeys(e.category for e in audio.sound_events)))
        return ("The clip shows " + "; ".join(parts) + ".") if parts else ""
