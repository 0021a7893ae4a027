"""Sound-event benchmark: YAMNet (w8a8 ONNX) over a 60 s file.

Makes a 60 s 44.1 kHz stereo WAV (the tests' 8 s silence/speech/music clip looped; music only without espeak-ng),
then prints:
- model extraction (first use of a fresh cache) and ONNX session load, each once, cold;
- per detect() call (best of --repeat): decode+resample, log-mel, inference and the total, as seconds of
  processing per second of audio and as a multiple of real time.

    .venv/bin/python bench/sound_events.py [--seconds 60] [--threads 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_resources.media.samples import require_ffmpeg  # noqa: E402
from catalog_resources.analysis.local.audio import read_pcm16k  # noqa: E402
from catalog_resources.analysis.local.sound_events import SoundEventDetector, yamnet_model_path  # noqa: E402
from catalog_resources.analysis.local.sound_events.features import log_mel, pad_waveform, patches  # noqa: E402
from tests import sound_media as sm  # noqa: E402


def make_input(folder: Path, seconds: float) -> Path:
    source = (sm.make_silence_speech_music(folder / "base.wav") if sm.have_espeak()
              else sm.make_music(folder / "base.wav", seconds=8.0))
    out = folder / "bench.wav"
    subprocess.run([require_ffmpeg(), "-nostdin", "-y", "-loglevel", "error", "-stream_loop", "-1", "-i", str(source),
                    "-t", str(seconds), "-c:a", "pcm_s16le", str(out)], check=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="vc-sound-bench-"))
    try:
        clip = make_input(folder, args.seconds)
        cache = folder / "cache"

        t0 = time.perf_counter()
        yamnet_model_path(cache)
        extract = time.perf_counter() - t0
        detector = SoundEventDetector(cache, threads=args.threads)
        t0 = time.perf_counter()
        detector.model()
        load = time.perf_counter() - t0

        best: dict[str, float] = {}
        report = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            wave = read_pcm16k(clip, tolerant=False)  # what the detector decodes
            t1 = time.perf_counter()
            batch = patches(log_mel(pad_waveform(wave)))
            t2 = time.perf_counter()
            detector.scores(wave)  # includes its own (repeated) log-mel; inference = this minus features
            t3 = time.perf_counter()
            report = detector.detect(clip)
            t4 = time.perf_counter()
            for key, value in (("decode", t1 - t0), ("log-mel", t2 - t1), ("inference", (t3 - t2) - (t2 - t1)),
                               ("detect() total", t4 - t3)):
                best[key] = min(best.get(key, float("inf")), value)

        audio_seconds = report.duration
        print(f"audio: {audio_seconds:.1f} s, {len(batch)} patches, threads={args.threads}, best of {args.repeat}")
        print(f"model extract (cold cache): {extract:.3f} s   session load: {load:.3f} s")
        for key, value in best.items():
            print(f"{key:>15}: {value:7.3f} s   {value / audio_seconds * 1000:6.2f} ms per audio second"
                  f"   {audio_seconds / value:8.1f}x real time")
        print(f"events: {len(report.events)}  top: {report.top_labels[:3]}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
