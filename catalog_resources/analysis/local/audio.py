"""Reading a clip's sound for the local audio models: one decoder for Whisper (speech.py) and YAMNet (sound_events.py).

Both models want 16 kHz mono float32 in [-1, 1], and both normally get the same file: the ``audio_16k.wav``
(pcm_s16le, 16 kHz, mono) the proxy step writes. For that file the two ways of decoding below give the same numbers
bit for bit (the resampler passes the 16-bit samples through; both scale by 1/32768).

They differ only on a file that needs resampling or a downmix (an original clip's stereo AAC track): libswresample
normalises an integer downmix, so the 16-bit path ("s16", what faster-whisper's own decoder does and what the speech
thresholds and word-error tests were measured with) gives stereo about 3 dB quieter than the float path ("flt",
what the YAMNet front end and its -50 dBFS silence rule were measured with). Each model keeps the path it was tuned
on; tests/test_audio_decoder.py checks the two agree on the proxy's WAV.

The two callers also differ in tolerance, kept as it was: Whisper's decoder ignores tags that are not valid UTF-8
and skips a packet the decoder rejects mid-stream (`tolerant=True`); the YAMNet reader fails on either.

PyAV and numpy are imported inside the function, so importing this module (and speech.py) loads no media library.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
INT16_SCALE = 32768.0  # full scale of a 16-bit sample


def read_pcm16k(
    audio_path: Path, *, sample_format: Literal["flt", "s16"] = "flt", tolerant: bool = True
) -> np.ndarray | None:
    """The first audio stream of `audio_path` as 16 kHz mono float32 in [-1, 1]; None when it has no audio stream;
    an empty array when the stream holds no samples.

    `sample_format`: "flt" resamples to float directly; "s16" resamples to 16-bit and scales by 1/32768
    (faster-whisper's decode_audio, reproduced exactly). `tolerant`: ignore tags that are not valid UTF-8 and skip
    a packet the decoder rejects mid-stream, as faster-whisper does; otherwise either raises. A file that cannot be
    decoded raises what PyAV raises (`av.FFmpegError`, OSError, ValueError); each caller turns that into its own
    error naming the file. A missing file is the caller's to check first.
    """
    import av
    import numpy as np

    with av.open(str(audio_path), metadata_errors="ignore" if tolerant else "strict") as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        frames = container.decode(stream)
        for frame in _valid_frames(frames) if tolerant else frames:
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):  # flush what the resampler still holds
            chunks.append(out.to_ndarray().reshape(-1))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    samples = np.concatenate(chunks)
    if sample_format == "s16":
        return samples.astype(np.float32) / INT16_SCALE
    return samples.astype(np.float32, copy=False)


def _valid_frames(frames: Iterable[Any]) -> Iterator[Any]:
    """The decoded frames, skipping any the decoder rejects as invalid data (as faster-whisper does)."""
    import av

    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except av.error.InvalidDataError:
            continue
