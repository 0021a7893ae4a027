"""256-d voice vectors from Resemblyzer's pretrained GE2E voice encoder (Apache-2.0, its wheel ships the weights).

Only the weights file of the `resemblyzer` package is used, never its modules: its `__init__` imports webrtcvad,
which needs pkg_resources (gone from new setuptools), and its own preprocessing re-runs a VAD the speech step
already has (faster-whisper's Silero). The network is the package's own, rebuilt here layer for layer (3 LSTM
layers of 256 over 40 mel bands, a linear layer, ReLU, unit length) and loaded with its state dict; the mel
frames are librosa's `melspectrogram` (25 ms Hann window, 10 ms hop, power 2, 40 Slaney bands) computed with
numpy over the whole clip at once, equal to librosa's own to 1e-6 (checked in tests/test_speakers.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from catalog_resources.errors import SetupError
from catalog_resources.model_cache import cached

MODEL_NAME = "resemblyzer-ge2e-0.1.4"
SAMPLE_RATE = 16_000
HOP = 160  # samples: 10 ms per mel frame
WINDOW = 400  # samples: 25 ms
MEL_BANDS = 40
PARTIAL_FRAMES = 160  # the encoder's training length: 1.6 s of frames per vector
TARGET_DBFS = -30.0  # Resemblyzer raises quieter audio to this level before the mel (it never lowers it)


class VoiceModelError(SetupError):
    """The resemblyzer package (its weights), torch or librosa is missing or broken."""


def weights_path() -> Path:
    """The packaged pretrained.pt, found without importing resemblyzer (see the module docstring)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise VoiceModelError("resemblyzer is not installed: pip install --no-deps 'resemblyzer==0.1.4'")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise VoiceModelError(f"{path} is missing: reinstall resemblyzer")
    return path


def _build() -> tuple[Any, np.ndarray]:
    """(network, mel filterbank), once per process (~0.1 s after torch is imported)."""
    try:
        import librosa.filters
        import torch
        from torch import nn
    except ImportError as exc:
        raise VoiceModelError(f"the voice encoder needs torch and librosa ({exc}): pip install torch==2.13.0 'librosa>=0.10'") from exc

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(MEL_BANDS, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)
            self.relu = nn.ReLU()

        def forward(self, mels: torch.Tensor) -> torch.Tensor:
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True).clamp_min(1e-9)

    network = Encoder()
    try:
        checkpoint = torch.load(weights_path(), map_location="cpu", weights_only=True)
        # the checkpoint also holds the training loss' similarity scale and bias, which inference never uses
        network.load_state_dict({k: v for k, v in checkpoint["model_state"].items() if not k.startswith("similarity_")})
    except (OSError, RuntimeError, KeyError) as exc:
        raise VoiceModelError(f"cannot load the voice encoder from {weights_path()} ({exc}): reinstall resemblyzer") from exc
    network.eval()
    bank = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=WINDOW, n_mels=MEL_BANDS).astype(np.float32)
    return network, bank


def _model() -> tuple[Any, np.ndarray]:
    return cached(("voice-encoder", MODEL_NAME), _build)


def louder_gain(samples: np.ndarray) -> float:
    """The amplitude factor that raises the samples to TARGET_DBFS when quieter (Resemblyzer's normalize_volume,
    increase only); 1.0 otherwise. Applied to the power spectrum (as its square), so no scaled copy is made."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    if rms <= 0:
        return 1.0
    gain_db = TARGET_DBFS - 20 * np.log10(rms)
    return float(10 ** (gain_db / 20)) if gain_db > 0 else 1.0


def mel_frames(samples: np.ndarray, gain: float = 1.0, block: int = 6000) -> np.ndarray:
    """(frames, 40) power mel spectrogram of `samples * gain`, one frame per 10 ms, frame i centred on sample
    i * 160 (librosa's centred, zero-padded frames). Made `block` frames (60 s) at a time from a padded copy of
    that stretch only: the spectrum (or even a padded copy) of a whole 2-hour clip would take gigabytes."""
    _network, bank = _model()
    count = 1 + len(samples) // HOP
    window = np.hanning(WINDOW + 1)[:-1].astype(np.float32)  # periodic Hann, as librosa's stft
    out = np.empty((count, MEL_BANDS), dtype=np.float32)
    half = WINDOW // 2
    for start in range(0, count, block):
        stop = min(count, start + block)
        lo, hi = start * HOP - half, (stop - 1) * HOP + half  # the samples these frames cover
        chunk = np.zeros(hi - lo, dtype=np.float32)
        inside = samples[max(lo, 0):max(min(hi, len(samples)), 0)]
        chunk[max(lo, 0) - lo:max(lo, 0) - lo + len(inside)] = inside
        frames = np.lib.stride_tricks.sliding_window_view(chunk, WINDOW)[::HOP]
        power = np.square(np.abs(np.fft.rfft(frames * window, axis=1)))
        out[start:stop] = (power @ bank.T) * np.float32(gain * gain)
    return out


def embed_windows(mel: np.ndarray, starts: list[int], batch: int = 64) -> np.ndarray:
    """(n, 256) unit vectors for the 160-frame windows of `mel` starting at `starts`, a batch at a time (the
    windows overlap four times over: stacking them all at once would copy the spectrogram four times)."""
    out = [embed_partials(np.stack([mel[w:w + PARTIAL_FRAMES] for w in starts[i:i + batch]]))
           for i in range(0, len(starts), batch)]
    return np.concatenate(out) if out else np.zeros((0, 256), dtype=np.float32)


def embed_partials(partials: np.ndarray, batch: int = 64) -> np.ndarray:
    """(n, 256) unit vectors for (n, 160, 40) mel windows.

    On one thread: this small LSTM spends more CPU syncing two threads than computing (0.035 CPU s per second of
    speech on two threads, 0.012 on one; bench/speakers.py). Torch's thread count is process-wide, so it is
    put back afterwards for the text embedder; steps run one at a time in a process, so nothing else is in torch.
    """
    import torch

    network, _bank = _model()
    out = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            for start in range(0, len(partials), batch):
                out.append(network(torch.from_numpy(np.ascontiguousarray(partials[start:start + batch]))).numpy())
    finally:
        torch.set_num_threads(threads)
    return np.concatenate(out) if out else np.zeros((0, 256), dtype=np.float32)
