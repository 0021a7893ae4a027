"""Speech benchmark: Whisper base model join + load time and real-time factor on ~30 s of espeak-ng speech.

Real-time factor (RTF) = seconds of processing per second of audio (lower is better; 0.25 means an hour of
audio takes 15 minutes). Wall-clock RTF depends on what else the machine runs, so the CPU seconds the process
used per audio second are printed too (with 2 threads, uncontended wall RTF is about half of that). Whisper pads every window to 30 s, so short clips have a worse RTF than long ones;
the ~30 s clip here is one full window. Each beam size is timed --rounds times; the best and median are
printed, plus one JSON line prefixed "RESULT ".

    .venv/bin/python bench/speech.py
    .venv/bin/python bench/speech.py --beams 1 2 --threads 2 --rounds 3

Needs espeak-ng and ffmpeg (Debian: apt-get install espeak-ng ffmpeg).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_resources.analysis.local import speech  # noqa: E402
from tests.speech_media import make_speech_wav  # noqa: E402

SENTENCES = [
    "The quarterly budget meeting starts at nine in the morning in Berlin.",
    "Please send the final report to the marketing team before Friday afternoon.",
    "The camera crew filmed the harbour at sunrise while the fishing boats came home.",
    "After lunch we will review the footage and choose the best shots for the trailer.",
    "Remember to charge the batteries and copy the memory cards every evening.",
    "The interview with the architect was recorded in the old library downtown.",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-speech-") as tmp:
        root = Path(tmp)
        wav = root / "speech.wav"
        speech_start, speech_end = make_speech_wav(wav, " ".join(SENTENCES), lead_silence=0.5, tail_silence=0.5)

        started = time.perf_counter()
        model_dir = speech.whisper_model_dir(root / "cache")
        join_s = time.perf_counter() - started
        started = time.perf_counter()
        speech.whisper_model_dir(root / "cache")
        reuse_ms = (time.perf_counter() - started) * 1000

        result: dict[str, object] = {"join_s": round(join_s, 3), "reuse_ms": round(reuse_ms, 3)}
        print(f"model dir       {model_dir}")
        print(f"join (first)    {join_s:.2f} s      reuse {reuse_ms:.2f} ms")

        for beam in args.beams:
            transcriber = speech.SpeechTranscriber(root / "cache", cpu_threads=args.threads, beam_size=beam)
            if "load_s" not in result:
                started = time.perf_counter()
                transcriber.load()
                result["load_s"] = round(time.perf_counter() - started, 3)
                print(f"model load      {result['load_s']:.2f} s  (int8, {args.threads} threads)")
            times, cpu, transcript = [], [], None
            for _ in range(args.rounds):
                cpu_start = time.process_time()
                transcript = transcriber.transcribe(wav)
                cpu.append(time.process_time() - cpu_start)
                times.append(transcript.seconds_taken)
            assert transcript is not None
            rtf_best, rtf_median = min(times) / transcript.duration, statistics.median(times) / transcript.duration
            result[f"beam{beam}"] = {
                "audio_s": round(transcript.duration, 2), "best_s": round(min(times), 3),
                "rtf_best": round(rtf_best, 3), "rtf_median": round(rtf_median, 3),
                "cpu_s_per_audio_s": round(min(cpu) / transcript.duration, 3),
                "segments": len(transcript.segments), "language": transcript.language,
            }
            print(f"beam {beam}: audio {transcript.duration:.1f} s (speech {speech_start:.1f}-{speech_end:.1f}), "
                  f"best {min(times):.2f} s, RTF best {rtf_best:.3f} median {rtf_median:.3f}, "
                  f"CPU {min(cpu) / transcript.duration:.3f} CPU-s per audio s, "
                  f"{len(transcript.segments)} segments, language {transcript.language} "
                  f"({transcript.language_probability:.2f})")
            print(f"  text: {transcript.text}")
        print(f"load average    {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
