"""Light from RGB frames: day / night / low light, colour temperature, dominant named colours.

Cheap by design: every figure is taken on a subsample of at most ~96 px on the long side. The colour temperature
is the grey-world estimate: the mean linear colour of the well-exposed pixels, through sRGB -> CIE xy and
McCamy's formula. It describes the look of the shot (a sunset reads warm, blue hour cool), not a white balance.
"""

from __future__ import annotations

import numpy as np

from catalog_resources.models.visual import ColourTemperature, Light, LightLevel

SAMPLE_SIDE = 96
DAY_FROM = 0.2  # mean luma (0-1) from which a frame is well lit
NIGHT_BELOW = 0.10  # darker than this overall is night whatever the highlights
WARM_BELOW, COOL_ABOVE = 5000, 7500  # kelvin; sRGB's white (D65) is 6504 K, so a neutral grey reads neutral
MIN_COLOUR_SHARE = 0.15
_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_HUES = ((15, "red"), (40, "orange"), (70, "yellow"), (165, "green"), (195, "cyan"), (255, "blue"),
         (290, "purple"), (345, "pink"), (360, "red"))


def sample(rgb: np.ndarray) -> np.ndarray:
    """Pixels of a strided copy with the long side at most SAMPLE_SIDE, as (N, 3) floats 0-1."""
    step = max(1, -(-max(rgb.shape[:2]) // SAMPLE_SIDE))
    return rgb[::step, ::step, :3].reshape(-1, 3).astype(np.float32) / 255.0


def light_level(luma: np.ndarray) -> LightLevel:
    brightness = float(luma.mean())
    if brightness >= DAY_FROM:
        return "day"
    lamps = float((luma > 0.8).mean()) >= 0.001  # street lights, windows: point sources in a dark frame
    dark = float((luma < 0.1).mean()) >= 0.5
    return "night" if brightness < NIGHT_BELOW or (dark and lamps) else "low light"


def kelvin(pixels: np.ndarray, luma: np.ndarray) -> int:
    """Correlated colour temperature of the mean linear colour of pixels neither near white nor near black."""
    usable = (luma < 0.95) & (luma > 0.05)
    if not usable.any():
        return 6504
    linear = np.where(pixels[usable] <= 0.04045, pixels[usable] / 12.92, ((pixels[usable] + 0.055) / 1.055) ** 2.4)
    x_, y_, z_ = _SRGB_TO_XYZ @ linear.mean(axis=0)
    total = x_ + y_ + z_
    if total <= 0:
        return 6504
    x, y = x_ / total, y_ / total
    if abs(0.1858 - y) < 1e-6:
        return 15000
    n = (x - 0.3320) / (0.1858 - y)
    cct = 449 * n**3 + 3525 * n**2 + 6823.3 * n + 5520.33
    return int(round(min(max(cct, 1500), 15000)))


def temperature(k: int) -> ColourTemperature:
    return "warm" if k < WARM_BELOW else ("cool" if k > COOL_ABOVE else "neutral")


_NAMES = ("black", "white", "grey", "brown", "red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink")
_CODE = {name: code for code, name in enumerate(_NAMES)}


def colour_codes(pixels: np.ndarray) -> np.ndarray:
    """An index into _NAMES per pixel: black, white, grey, brown or a hue name."""
    top, bottom = pixels.max(axis=1), pixels.min(axis=1)
    saturation = (top - bottom) / np.maximum(top, 1e-6)
    r, g, b = pixels.T
    delta = np.maximum(top - bottom, 1e-6)
    hue = np.select([top == r, top == g], [((g - b) / delta) % 6, (b - r) / delta + 2], (r - g) / delta + 4) * 60.0
    bounds = np.array([limit for limit, _ in _HUES], dtype=np.float32)
    hue_codes = np.array([_CODE[name] for _, name in _HUES])
    codes = hue_codes[np.minimum(np.searchsorted(bounds, hue, side="right"), len(bounds) - 1)]
    codes = np.where((hue < 70) & (top < 0.6), _CODE["brown"], codes)  # dark orange / red / yellow
    codes = np.where(saturation >= 0.2, codes, np.where(top > 0.85, _CODE["white"], _CODE["grey"]))
    return np.where(top < 0.18, _CODE["black"], codes)


def dominant_colours(pixels: np.ndarray, limit: int = 3) -> list[str]:
    shares = np.bincount(colour_codes(pixels), minlength=len(_NAMES)) / max(len(pixels), 1)
    order = np.argsort(-shares, kind="stable")
    return [_NAMES[i] for i in order[:limit] if shares[i] >= MIN_COLOUR_SHARE]


def measure_light(frames: list[np.ndarray]) -> Light:
    """Light of one frame or of a scene (the frames' pixels pooled)."""
    pixels = np.concatenate([sample(frame) for frame in frames])
    luma = pixels @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    k = kelvin(pixels, luma)
    return Light(level=light_level(luma), brightness=round(float(luma.mean()), 4), temperature=temperature(k),
                 kelvin=k, colours=dominant_colours(pixels))
