"""HDR (PQ, HLG) frames to SDR BT.709, in numpy: thumbnails that are neither washed out nor colour-shifted.

Linearise with the transfer's own curve (SMPTE ST 2084 EOTF, or the HLG inverse OETF plus its 1.2
system gamma at 1000 cd/m²), leave everything up to 80 cd/m² as it is and roll highlights off smoothly
toward SDR white (a knee with slope 1 at the joint, so midtones keep their brightness), convert BT.2020
primaries to BT.709, and encode with the BT.709 OETF.
"""

from __future__ import annotations

import numpy as np

BT2020_TO_BT709 = np.array(
    [[1.6605, -0.5876, -0.0728], [-0.1246, 1.1329, -0.0083], [-0.0182, -0.1006, 1.1187]], dtype=np.float32
)
SDR_WHITE_NITS = 100.0
KNEE = 0.8  # fraction of SDR white below which the mapping is the identity


def pq_to_nits(signal: np.ndarray) -> np.ndarray:
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.power(np.clip(signal, 0, 1), 1 / m2)
    return 10000.0 * np.power(np.maximum(p - c1, 0) / (c2 - c3 * p), 1 / m1)


def hlg_to_nits(signal: np.ndarray, peak: float = 1000.0) -> np.ndarray:
    a, b = 0.17883277, 0.28466892
    c = 0.5 - a * np.log(4 * a)
    e = np.clip(signal, 0, 1)
    scene = np.where(e <= 0.5, e * e / 3, (np.exp((e - c) / a) + b) / 12)
    luma = np.clip(scene @ np.array([0.2627, 0.6780, 0.0593], dtype=np.float32), 1e-6, None)[..., None]
    return peak * scene * np.power(luma, 0.2)  # system gamma 1.2


def bt709_oetf(linear: np.ndarray) -> np.ndarray:
    x = np.clip(linear, 0, 1)
    return np.where(x < 0.018, 4.5 * x, 1.099 * np.power(x, 0.45) - 0.099)


def tone_map(rgb: np.ndarray, transfer: str) -> np.ndarray:
    """rgb: HxWx3 floats in [0, 1], BT.2020 primaries, the transfer's signal. Returns 8-bit BT.709 RGB."""
    nits = pq_to_nits(rgb) if transfer == "smpte2084" else hlg_to_nits(rgb)
    x = np.clip(nits / SDR_WHITE_NITS, 0, None) @ BT2020_TO_BT709.T
    over = np.maximum(x - KNEE, 0)
    mapped = np.where(x <= KNEE, x, KNEE + (1 - KNEE) * over / (over + (1 - KNEE)))
    return (bt709_oetf(mapped) * 255 + 0.5).astype(np.uint8)
