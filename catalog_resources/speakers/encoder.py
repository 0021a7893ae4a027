"""256-d voice vectors from Resemblyzer's pretrained GE2E voice encoder (Apache-2.0, its wheel ships the weights),
run through onnxruntime.

Only the weights file of the `resemblyzer` package is used, never its modules: its `__init__` imports webrtcvad,
which needs pkg_resources (gone from new setuptools), and its own preprocessing re-runs a VAD the speech step
already has (faster-whisper's Silero). The network is the package's own, rebuilt here layer for layer (3 LSTM
layers of 256 over 40 mel bands, a linear layer, ReLU, unit length) and loaded with its state dict, then exported
to ONNX once per machine into the models folder (``<models>/resemblyzer-ge2e/encoder-v1.onnx``, with the mel
filterbank librosa makes beside it as ``mel-bank-v1.npy``, both written atomically), as the image classifier is:
every later process opens those two files and imports neither torch nor librosa (~2 CPU s and ~250 MB saved).
The mel frames are librosa's `melspectrogram` (25 ms Hann window, 10 ms hop, power 2, 40 Slaney bands) computed
with numpy, equal to librosa's own to 1e-5 (tests/test_speakers.py).
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from catalog_resources.errors import SetupError
from catalog_resources.files import atomic_path
from catalog_resources.model_cache import cached
from catalog_resources.onnx_sessions import cpu_session

MODEL_NAME = "resemblyzer-ge2e-0.1.4"
SAMPLE_RATE = 16_000
HOP = 160  # samples: 10 ms per mel frame
WINDOW = 400  # samples: 25 ms
MEL_BANDS = 40
PARTIAL_FRAMES = 160  # the encoder's training length: 1.6 s of frames per vector
TARGET_DBFS = -30.0  # Resemblyzer raises quieter audio to this level before the mel (it never lowers it)
_EXPORT_VERSION = "1"  # bump when the exported graph changes, so old cached files are not reused


class VoiceModelError(SetupError):
    """The resemblyzer package (its weights) is missing, or the first-use export (torch, librosa, onnx) failed."""


def weights_path() -> Path:
    """The packaged pretrained.pt, found without importing resemblyzer (see the module docstring)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise VoiceModelError("resemblyzer is not installed: pip install --no-deps 'resemblyzer==0.1.4'")
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise VoiceModelError(f"{path} is missing: reinstall resemblyzer")
    return path


def model_files(cache_dir: Path) -> tuple[Path, Path]:
    """(encoder ONNX, mel filterbank), exported on first use from the packaged weights."""
    folder = Path(cache_dir) / "resemblyzer-ge2e"
    onnx, bank = folder / f"encoder-v{_EXPORT_VERSION}.onnx", folder / f"mel-bank-v{_EXPORT_VERSION}.npy"
    if not (onnx.is_file() and bank.is_file()):
        _export(onnx, bank)
    return onnx, bank


def _export(onnx: Path, bank: Path) -> None:
    try:
        import librosa.filters
        import torch
        from torch import nn
    except ImportError as exc:
        raise VoiceModelError(f"the first use of the voice encoder needs torch and librosa ({exc.name}): "
                              "pip install torch==2.13.0 'librosa>=0.10' onnx") from exc

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
        with atomic_path(onnx) as partial, warnings.catch_warnings():
            # "batch size other than 1 with LSTM" warns of LSTMs given initial states; this one starts from zeros,
            # and its ONNX vectors equal torch's to 4e-7 at batch sizes 1, 5 and 64 (checked when exported)
            warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
            torch.onnx.export(  # the TorchScript exporter: the dynamo one needs onnxscript
                network.eval(), (torch.zeros(2, PARTIAL_FRAMES, MEL_BANDS),), str(partial), input_names=["mels"],
                output_names=["vectors"], opset_version=17, dynamo=False,
                dynamic_axes={"mels": {0: "batch"}, "vectors": {0: "batch"}},
            )
        with atomic_path(bank) as partial, open(partial, "wb") as out:
            np.save(out, librosa.filters.mel(sr=SAMPLE_RATE, n_fft=WINDOW, n_mels=MEL_BANDS).astype(np.float32))
    except VoiceModelError:
        raise
    except Exception as exc:  # torch.load / torch.onnx raise their own types
        raise VoiceModelError(f"cannot export the voice encoder to {onnx}: {exc} (pip install onnx)") from exc


def _load(onnx: Path, bank: Path) -> tuple[Any, np.ndarray]:
    try:
        # one thread: this small LSTM spends more CPU syncing two threads than computing (bench/speakers.py)
        return cpu_session(onnx, 1), np.load(bank)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise VoiceModelError(f"cannot load {onnx}: {exc}; delete its folder to export it again") from exc


class VoiceEncoder:
    """Mel frames and voice vectors; the ONNX session is loaded on first use and once per process."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)

    def _model(self) -> tuple[Any, np.ndarray]:
        onnx, bank = model_files(self.cache_dir)
        return cached(("voice-encoder", str(onnx.resolve())), lambda: _load(onnx, bank))

    def mel_frames(self, samples: np.ndarray, gain: float = 1.0, block: int = 6000) -> np.ndarray:
        """(frames, 40) power mel spectrogram of `samples * gain`, one frame per 10 ms, frame i centred on sample
        i * 160 (librosa's centred, zero-padded frames). Made `block` frames (60 s) at a time from a padded copy
        of that stretch only: the spectrum (or even a padded copy) of a whole 2-hour clip would take gigabytes."""
        _session, bank = self._model()
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

    def embed_windows(self, mel: np.ndarray, starts: list[int], batch: int = 64) -> np.ndarray:
        """(n, 256) unit vectors for the 160-frame windows of `mel` starting at `starts`, a batch at a time (the
        windows overlap four times over: stacking them all at once would copy the spectrogram four times)."""
        session, _bank = self._model()
        out = [session.run(["vectors"], {"mels": np.stack([mel[w:w + PARTIAL_FRAMES] for w in starts[i:i + batch]])})[0]
               for i in range(0, len(starts), batch)]
        return np.concatenate(out) if out else np.zeros((0, 256), dtype=np.float32)


def louder_gain(samples: np.ndarray) -> float:
    """The amplitude factor that raises the samples to TARGET_DBFS when quieter (Resemblyzer's normalize_volume,
    increase only); 1.0 otherwise. Applied to the power spectrum (as its square), so no scaled copy is made."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    if rms <= 0:
        return 1.0
    gain_db = TARGET_DBFS - 20 * np.log10(rms)
    return float(10 ** (gain_db / 20)) if gain_db > 0 else 1.0
