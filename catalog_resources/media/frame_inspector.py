"""frame_analysis's work: metrics over the thumbnails' frames, scene cuts over the analysis stream, and what each
scene shows (analysis/local/visual: labels, people, light, camera motion) from those same frames."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from catalog_resources.analysis.local.visual import FrameClassifier
from catalog_resources.analysis.local.visual.look import LOOK_MODEL
from catalog_resources.analysis.local.visual.scenes import ClipFrames, SceneBounds, describe_scenes
from catalog_resources.media import frame_metrics as fm
from catalog_resources.media.faces import detect_faces, dominant_shot_type, shot_type
from catalog_resources.models.media import DerivedMedia, Face, FrameAnalysis, FrameStats, SceneSegment, ThumbnailSet

ANALYSIS_LONG_SIDE = 640  # metrics on one size, so resolution does not change blur or noise figures


def focal_category(focal_35mm: float | None) -> str | None:
    if not focal_35mm:
        return None
    return "wide" if focal_35mm < 35 else ("normal" if focal_35mm <= 70 else "telephoto")


class FrameMeter(BaseModel):
    """Measures a clip's frames: image metrics over its thumbnails, scene cuts over its analysis stream."""

    over_warning_percent: float = Field(default=5.0)
    under_warning_percent: float = Field(default=25.0)
    blurry_below: float = Field(default=60.0, description="Laplacian variance at 640 px under which a clip is blurry.")
    cut_threshold: float = Field(default=0.08, description="Mean absolute frame difference (0-1) of a hard cut.")
    models_dir: str | None = Field(
        default=None, description="Where the image classifier is exported once; None leaves scenes undescribed.")

    def analyze(
        self, clip_id: str, derived: DerivedMedia | None, thumbs: ThumbnailSet | None, *,
        duration: float | None, start: float | None, focal_35mm: float | None,
    ) -> FrameAnalysis:
        started = time.monotonic()
        result = FrameAnalysis(clip_id=clip_id, focal_length_category=focal_category(focal_35mm))
        pictures: list[np.ndarray] = []
        held: tuple[np.ndarray, list[Face]] | None = None  # the last frame the detector saw, and its faces
        for thumb in (thumbs.thumbnails if thumbs else []):
            largest = thumb.paths[max(thumb.paths, key=int)]
            with Image.open(largest) as image:
                image = image.convert("RGB")
                image.thumbnail((ANALYSIS_LONG_SIDE, ANALYSIS_LONG_SIDE))
                rgb = np.asarray(image)
            small = fm.miniature(rgb)
            if held is None or not fm.same_picture(held[0], small):  # a held shot's faces are found once
                held = (small, detect_faces(rgb))
            result.frames.append(self._frame(thumb.pts_seconds, rgb, held[1]))
            pictures.append(rgb)
        if result.frames:
            self._aggregate(result)
        if derived is not None:
            pts, frames = self._analysis_stream(Path(derived.analysis_path))
            pts = [t + derived.analysis_time_offset for t in pts]  # back to source presentation times
            result.analysis_frames = len(frames)
            result.scene_cuts = [round(t, 4) for t in fm.scene_cuts(pts, frames, threshold=self.cut_threshold)]
            first = pts[0] if pts else (start or 0.0)
            last = (start or 0.0) + duration if duration else (pts[-1] if pts else first)
            bounds = [first, *result.scene_cuts, max(last, first)]
            result.segments = [
                SceneSegment(index=i, start_seconds=round(a, 4), end_seconds=round(b, 4),
                             keyframe_path=self._keyframe(thumbs, a, b))
                for i, (a, b) in enumerate(zip(bounds, bounds[1:]))
            ]
            if self.models_dir is not None:
                clip = ClipFrames(times=[f.pts_seconds for f in result.frames], frames=pictures,
                                  face_counts=[len(f.faces) for f in result.frames], motion_times=pts, motion_frames=frames)
                scenes = [SceneBounds(**s.model_dump()) for s in result.segments]
                result.visual = describe_scenes(scenes, clip, FrameClassifier(Path(self.models_dir)))
                result.look_model = LOOK_MODEL
        result.seconds = time.monotonic() - started
        return result

    @staticmethod
    def _frame(pts: float, rgb: np.ndarray, faces: list[Face]) -> FrameStats:
        gray = fm.luma(rgb)
        stats = fm.exposure(gray)
        sharp, noise, block = fm.laplacian_variance(gray), fm.noise_sigma(gray), fm.blockiness(gray)
        detail = fm.complexity(gray)
        return FrameStats(
            pts_seconds=pts, overexposed_percent=round(stats["overexposed_percent"], 3),
            underexposed_percent=round(stats["underexposed_percent"], 3), mean_luma=round(stats["mean"], 2),
            sharpness=round(sharp, 2), noise=round(noise, 3), blockiness=round(block, 3),
            edge_density=round(detail["edge_density"], 4), entropy=round(detail["entropy"], 3),
            quality=fm.quality_score(sharp, noise, stats, block)["score"],
            faces=faces, shot_type=shot_type(faces),
        )

    def _aggregate(self, r: FrameAnalysis) -> None:
        frames = r.frames
        r.overexposed_percent = round(statistics.fmean(f.overexposed_percent for f in frames), 3)
        r.underexposed_percent = round(statistics.fmean(f.underexposed_percent for f in frames), 3)
        lumas = [f.mean_luma for f in frames]
        r.histogram = {"mean": round(statistics.fmean(lumas), 2), "min_frame": min(lumas), "max_frame": max(lumas)}
        r.blur_score = round(statistics.median(f.sharpness for f in frames), 2)
        r.is_blurry = r.blur_score < self.blurry_below
        r.noise_score = round(statistics.median(f.noise for f in frames), 3)
        r.blockiness = round(statistics.median(f.blockiness for f in frames), 3)
        r.edge_density = round(statistics.fmean(f.edge_density for f in frames), 4)
        r.entropy = round(statistics.fmean(f.entropy for f in frames), 3)
        r.shot_type = dominant_shot_type([f.shot_type for f in frames if f.shot_type])
        stats = {"overexposed_percent": r.overexposed_percent, "underexposed_percent": r.underexposed_percent}
        quality = fm.quality_score(r.blur_score, r.noise_score, stats, r.blockiness)
        r.quality_score = quality.pop("score")
        r.quality_parts = quality
        linear = statistics.fmean((lum / 255.0) ** 2.2 for lum in lumas)
        stops = float(np.log2(fm.MID_GREY_LINEAR / max(linear, 1e-6)))
        r.exposure_warning = (
            r.overexposed_percent > self.over_warning_percent or r.underexposed_percent > self.under_warning_percent
        )
        r.exposure_stops = round(stops, 2) if r.exposure_warning and abs(stops) >= 1.0 else None

    @staticmethod
    def _analysis_stream(path: Path) -> tuple[list[float], list[np.ndarray]]:
        pts: list[float] = []
        frames: list[np.ndarray] = []
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                if frame.time is None:
                    continue
                pts.append(float(frame.time))
                frames.append(frame.to_ndarray())
        return pts, frames

    @staticmethod
    def _keyframe(thumbs: ThumbnailSet | None, start: float, end: float) -> str | None:
        inside = [t for t in (thumbs.thumbnails if thumbs else []) if start <= t.pts_seconds < end]
        if not inside:
            return None
        best = max(inside, key=lambda t: t.score)
        return best.paths[min(best.paths, key=int)]
