"""Per-frame measurements in numpy: exposure, blur, noise, blockiness, complexity; scene cuts from a
low-resolution gray stream. Pure functions of pixels, so thresholds can change without decoding again."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

OVER, UNDER = 250, 5  # 8-bit luma levels counted as clipped highlights / crushed shadows
MID_GREY_LINEAR = 0.18


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


def exposure(gray: np.ndarray) -> dict[str, float]:
    """Clipped / crushed percentages, histogram summary, and the exposure error in stops."""
    flat = gray.ravel()
    p5, p50, p95 = (float(v) for v in np.percentile(flat, [5, 50, 95]))
    mean = float(flat.mean())
    linear = float(np.mean(np.power(np.clip(flat / 255.0, 0, 1), 2.2)))
    stops = math.log2(MID_GREY_LINEAR / max(linear, 1e-6))
    return {
        "overexposed_percent": float((flat >= OVER).mean() * 100),
        "underexposed_percent": float((flat <= UNDER).mean() * 100),
        "mean": mean, "p5": p5, "p50": p50, "p95": p95,
        "stops_from_mid_grey": stops,  # positive: darker than mid grey (needs more light)
    }


def laplacian_variance(gray: np.ndarray) -> float:
    lap = -4 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    return float(lap.var()) if lap.size else 0.0


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkaer's fast noise estimate (std of Gaussian noise in 8-bit levels)."""
    g = gray.astype(np.float64)
    conv = (g[:-2, :-2] - 2 * g[:-2, 1:-1] + g[:-2, 2:] - 2 * g[1:-1, :-2] + 4 * g[1:-1, 1:-1]
            - 2 * g[1:-1, 2:] + g[2:, :-2] - 2 * g[2:, 1:-1] + g[2:, 2:])
    h, w = g.shape
    if h < 3 or w < 3:
        return 0.0
    return float(math.sqrt(math.pi / 2) * np.abs(conv).sum() / (6 * (w - 2) * (h - 2)))


def blockiness(gray: np.ndarray, block: int = 8) -> float:
    """Mean jump across 8-px block borders over the mean jump elsewhere (1.0: no visible blocks)."""
    dx = np.abs(np.diff(gray, axis=1))
    dy = np.abs(np.diff(gray, axis=0))
    if dx.shape[1] <= block or dy.shape[0] <= block:
        return 1.0
    border_x = dx[:, block - 1 :: block].mean()
    border_y = dy[block - 1 :: block, :].mean()
    inner = (dx.mean() + dy.mean()) / 2
    return float(((border_x + border_y) / 2) / inner) if inner > 0 else 1.0


def complexity(gray: np.ndarray) -> dict[str, float]:
    if min(gray.shape) < 2:  # a 1-pixel strip (a 4000x2 clip at 640 px) has no gradient along its short side
        edges = np.zeros(gray.shape, dtype=bool)
    else:
        gy, gx = np.gradient(gray)
        edges = np.hypot(gx, gy) > 20
    histogram = np.bincount(np.clip(gray, 0, 255).astype(np.uint8).ravel(), minlength=256).astype(np.float64)
    p = histogram[histogram > 0] / histogram.sum()
    return {"edge_density": float(edges.mean()), "entropy": float(-(p * np.log2(p)).sum())}


def quality_score(sharpness: float, noise: float, exposure_stats: dict[str, float], block: float) -> dict[str, float]:
    """0-100 with its parts (each 0-1): sharp, clean, well exposed, free of compression blocks."""
    parts = {
        "sharpness": min(math.log1p(sharpness) / math.log1p(1500.0), 1.0),
        "noise": max(0.0, 1.0 - noise / 12.0),
        "exposure": max(0.0, 1.0 - (exposure_stats["overexposed_percent"] + exposure_stats["underexposed_percent"]) / 50.0),
        "compression": max(0.0, 1.0 - max(block - 1.0, 0.0) / 1.5),
    }
    weights = {"sharpness": 0.4, "noise": 0.2, "exposure": 0.3, "compression": 0.1}
    return {"score": round(100 * sum(parts[k] * w for k, w in weights.items()), 1), **{k: round(v, 3) for k, v in parts.items()}}


SAME_PICTURE_DIFF = 1.5
"""Mean absolute difference (0-255) of two frames' 32x18 grey miniatures below which the second is the first
again (a locked-off shot, a held title or slide): what was measured on the first holds for it."""


def miniature(frame: np.ndarray) -> np.ndarray:
    """32x18 grey version of an RGB or BGR frame (its green channel, the same in both orders)."""
    grey = Image.fromarray(np.ascontiguousarray(frame[:, :, 1]))
    return np.asarray(grey.resize((32, 18), Image.Resampling.BOX), dtype=np.float32)


def same_picture(a: np.ndarray | None, b: np.ndarray) -> bool:
    """Whether two miniatures show the same picture (SAME_PICTURE_DIFF)."""
    return a is not None and a.shape == b.shape and float(np.abs(a - b).mean()) < SAME_PICTURE_DIFF


NEAR_BLACK = 0.03  # mean level (0-1) of a frame that is black to the eye
DARK_CUT_MIN = 0.02  # the least mean difference that counts as a cut out of (or into) black


def scene_cuts(pts: list[float], frames: list[np.ndarray], *, threshold: float = 0.08, ratio: float = 4.0,
               min_gap: float = 0.25) -> list[float]:
    """Hard cuts: a frame-to-frame difference that is large and a spike over its neighbourhood.

    A fade changes the picture a little on every frame, so no single difference stands out: no cut. A cut out
    of black into a dim frame (a scene that then fades up) differs from black by little in absolute terms: it
    counts when one side is black and the other is mostly new (the difference is most of its level), e.g. black
    into a fade-up entered at 5 % (mean difference 0.029) is a cut; the first step of a fade-in from black
    (0.013 at 25 fps over 1.5 s) is not, and its neighbours keep a short fade's equal steps from standing out.
    Returns the presentation time of each new scene's first frame.
    """
    if len(frames) < 2:
        return []
    levels = [float(f.mean()) / 255.0 for f in frames]
    diffs = np.array([float(np.abs(b.astype(np.float32) - a.astype(np.float32)).mean()) / 255.0
                      for a, b in zip(frames, frames[1:])])
    cuts: list[float] = []
    for i, d in enumerate(diffs):
        window = np.concatenate([diffs[max(0, i - 5) : i], diffs[i + 1 : i + 6]])
        local = float(np.median(window)) if window.size else 0.0
        darker, brighter = sorted((levels[i], levels[i + 1]))
        out_of_black = darker <= NEAR_BLACK and d >= DARK_CUT_MIN and d >= 0.6 * brighter
        if (d >= threshold or out_of_black) and d >= ratio * local + 0.01:
            t = pts[i + 1]
            if not cuts or t - cuts[-1] >= min_gap:
                cuts.append(t)
    return cuts
