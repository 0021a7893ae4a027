"""Whisper's model class for the transcriber (speech.py): faster-whisper's WhisperModel, encoding a window once."""

from __future__ import annotations

import hashlib
import threading


def encode_once_whisper() -> type:
    """WhisperModel that encodes a 30 s window once per thread when it is asked for the same window twice.

    Whisper's encoder always sees a whole 30 s window (shorter audio is padded), about 2.5 CPU s for base on two
    threads: the whole cost of a short clip. Detecting the language encodes the first window, and transcribing
    encoded it again; `SpeechTranscriber.transcribe` detects the language on exactly the window the transcription
    then asks for, and this returns the kept result (keyed by the window's bytes, per thread: clips run side by
    side).
    """
    from faster_whisper import WhisperModel

    class EncodeOnceWhisper(WhisperModel):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._last_window = threading.local()

        def encode(self, features):  # -> ctranslate2.StorageView
            import numpy as np

            key = (features.shape, hashlib.blake2b(np.ascontiguousarray(features).tobytes(), digest_size=16).digest())
            last = getattr(self._last_window, "value", None)
            if last is not None and last[0] == key:
                return last[1]
            encoded = super().encode(features)
            self._last_window.value = (key, encoded)
            return encoded

    return EncodeOnceWhisper
