"""Camera motion between analysis frames: static, pan, tilt, zoom, handheld shake, with timestamps.

Frames are taken about MOTION_RATE times a second, made grey and at most WORK_WIDTH px wide (the analysis stream
is already 64 px grey at the source rate), and each consecutive pair gets a dense Farneback optical flow. A
similarity motion (shift, uniform scale, small rotation) is fitted to the flow by least squares over textured
pixels, twice, the second time without the pixels the first fit explains worst (a person walking through a static
shot). The flow starts from the pair's phase-correlation shift, so large shifts are measured too. Shifts and
scale per second classify ~1 s windows; consecutive windows of the same kinds merge into a span (its figures
over the whole span, its kinds those of its windows).

Signs: image content moving left means the camera turns right (a "pan right"); content moving down means it tilts
up; content growing means a zoom in (or a dolly in: the two look alike from the frames alone). Shake is the RMS
of the pair-to-pair shifts around the window's mean, in frame widths: a tripod pan is smooth, a hand is not.
"""

from __future__ import annotations

import cv2
import numpy as np

from catalog_resources.models.visual import MotionKind, MotionSpan

MOTION_RATE = 5.0  # frame pairs per second: slow pans move a measurable ~1 px per pair at 64 px wide
WORK_WIDTH = 96
WINDOW_SECONDS = 1.0
PAN_FROM = 0.04  # frame widths (or heights) per second: crossing the frame in 25 s
ZOOM_FROM = 0.08  # log2 scale per second: 6 % bigger each second
SHAKE_FROM = 0.006  # RMS frame widths between pairs 0.2 s apart


def _grey_small(frame: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    if grey.shape[1] > WORK_WIDTH:
        height = max(8, round(grey.shape[0] * WORK_WIDTH / grey.shape[1]))
        grey = cv2.resize(grey, (WORK_WIDTH, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(grey, dtype=np.uint8)


def pick(times: list[float], rate: float = MOTION_RATE) -> list[int]:
    """Indexes of frames about 1/rate seconds apart (all of them when they are sparser than that)."""
    chosen: list[int] = []
    for i, t in enumerate(times):
        if not chosen or t - times[chosen[-1]] >= 0.999 / rate:
            chosen.append(i)
    return chosen


def fit_similarity(flow: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(tx, ty, a, b) of u = tx + a*x - b*y, v = ty + b*x + a*y (x, y from the centre) over weighted pixels."""
    height, width = flow.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    x, y = (xs - (width - 1) / 2).ravel(), (ys - (height - 1) / 2).ravel()
    u, v = flow[..., 0].ravel(), flow[..., 1].ravel()
    keep = weight.ravel()
    params = np.zeros(4, np.float32)
    for _ in range(2):
        if keep.sum() < 8:
            break
        one, zero = np.ones(int(keep.sum()), np.float32), np.zeros(int(keep.sum()), np.float32)
        xk, yk = x[keep], y[keep]
        design = np.concatenate([np.stack([one, zero, xk, -yk], 1), np.stack([zero, one, yk, xk], 1)])
        target = np.concatenate([u[keep], v[keep]])
        params = np.linalg.lstsq(design, target, rcond=None)[0]
        error = np.hypot(u - (params[0] + params[2] * x - params[3] * y), v - (params[1] + params[3] * x + params[2] * y))
        keep = keep & (error <= max(2.5 * float(np.median(error[keep])), 0.05))
    return params


def pair_motion(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Image shift of b against a (frame widths, frame heights) and log2 of its scale.

    Phase correlation finds the global shift first, however large (Farneback alone underestimates shifts past a
    few pixels at this size: a fast or shaky pan); the dense flow then starts from it and measures the rest.
    """
    window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (sx, sy), _response = cv2.phaseCorrelate(a.astype(np.float32), b.astype(np.float32), window)
    start = np.empty((*a.shape, 2), np.float32)
    start[..., 0], start[..., 1] = sx, sy
    flow = cv2.calcOpticalFlowFarneback(a, b, start, 0.5, 3, 9, 3, 5, 1.1, cv2.OPTFLOW_USE_INITIAL_FLOW)
    gx, gy = cv2.Sobel(a, cv2.CV_32F, 1, 0), cv2.Sobel(a, cv2.CV_32F, 0, 1)
    texture = np.hypot(gx, gy)
    inside = np.zeros(a.shape, bool)  # the flow at the edge, and where b has no counterpart, is extrapolated
    margin_x, margin_y = 2 + int(abs(sx)), 2 + int(abs(sy))
    inside[margin_y:a.shape[0] - margin_y, margin_x:a.shape[1] - margin_x] = True
    weight = inside & (texture >= max(np.percentile(texture, 50), 1.0))
    tx, ty, scale_minus_one, _rotation = fit_similarity(flow, weight)
    height, width = a.shape
    return float(tx) / width, float(ty) / height, float(np.log2(max(1.0 + scale_minus_one, 1e-3)))


def _kinds(pan: float, tilt: float, zoom: float, shake: float, seconds: float) -> list[MotionKind]:
    """A drift counts as a pan or tilt only when it moves the frame over three times the shake: a hand wobbling
    for a second drifts too, but back and forth."""
    kinds: list[MotionKind] = []
    if abs(zoom) >= ZOOM_FROM:
        kinds.append("zoom in" if zoom > 0 else "zoom out")
    if abs(pan) >= PAN_FROM and abs(pan) * seconds >= 3 * shake:
        kinds.append("pan right" if pan > 0 else "pan left")
    if abs(tilt) >= PAN_FROM and abs(tilt) * seconds >= 3 * shake:
        kinds.append("tilt up" if tilt > 0 else "tilt down")
    if shake >= SHAKE_FROM:
        kinds.append("handheld")
    return kinds or ["static"]


def _span(pairs: list[tuple[float, float, float, float, float]]) -> MotionSpan:
    """One span from (t0, t1, dx, dy, dzoom) pairs: rates are total motion over total time."""
    seconds = max(sum(t1 - t0 for t0, t1, *_ in pairs), 1e-6)
    dx, dy, dz = (np.array([p[i] for p in pairs]) for i in (2, 3, 4))
    pan, tilt, zoom = -dx.sum() / seconds, dy.sum() / seconds, dz.sum() / seconds
    shake = float(np.sqrt(((dx - dx.mean()) ** 2 + (dy - dy.mean()) ** 2).mean())) if len(pairs) > 1 else 0.0
    return MotionSpan(start_seconds=round(pairs[0][0], 3), end_seconds=round(pairs[-1][1], 3),
                      kinds=_kinds(pan, tilt, zoom, shake, seconds), pan_per_second=round(float(pan), 4),
                      tilt_per_second=round(float(tilt), 4), zoom_per_second=round(float(zoom), 4),
                      shake=round(shake, 4))


def _windows(pairs: list[tuple[float, float, float, float, float]]) -> list[list[tuple[float, float, float, float, float]]]:
    """Pairs cut into ~WINDOW_SECONDS groups; a last group under half a window joins the one before."""
    groups: list[list[tuple[float, float, float, float, float]]] = []
    for pair in pairs:
        if not groups or pair[0] - groups[-1][0][0] >= WINDOW_SECONDS - 1e-6:
            groups.append([])
        groups[-1].append(pair)
    if len(groups) > 1 and groups[-1][-1][1] - groups[-1][0][0] < WINDOW_SECONDS / 2:
        groups[-2].extend(groups.pop())
    return groups


def camera_motion(times: list[float], frames: list[np.ndarray], rate: float = MOTION_RATE) -> list[MotionSpan]:
    """Motion spans over one scene's frames (grey or RGB, source presentation seconds), merged by kind."""
    chosen = pick(times, rate)
    if len(chosen) < 2:
        return []
    small = [_grey_small(frames[i]) for i in chosen]
    pairs = [
        (times[i], times[j], *pair_motion(small[k], small[k + 1]))
        for k, (i, j) in enumerate(zip(chosen, chosen[1:]))
    ]
    runs: list[tuple[list[MotionKind], list[tuple[float, float, float, float, float]]]] = []
    for window in _windows(pairs):
        kinds = _span(window).kinds
        if runs and runs[-1][0] == kinds:
            runs[-1][1].extend(window)
        else:
            runs.append((kinds, list(window)))
    return [_span(run).model_copy(update={"kinds": kinds}) for kinds, run in runs]


def dominant_motion(spans: list[MotionSpan]) -> list[MotionKind]:
    """The kinds that cover the most time in a scene."""
    if not spans:
        return []
    return max(spans, key=lambda s: s.end_seconds - s.start_seconds).kinds
