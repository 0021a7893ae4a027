"""Speaker benchmark: CPU per second of speech of the speakers step's diarizer, and how right its turns are.

Makes espeak-ng dialogues with known turn times (tests/speaker_media.py: two voices taking turns, with pauses;
the same without pauses; one voice), diarizes each --rounds times in one process after one untimed warm-up (the
first call opens the ONNX encoder, exporting it first on a machine that has not yet: that load is printed apart),
and prints per clip the speech seconds, CPU seconds per speech second (the issue's budget: 0.05), wall seconds,
speakers found and the largest turn-boundary error against the truth; then one JSON line prefixed "RESULT ".

    .venv/bin/python bench/speakers.py
    .venv/bin/python bench/speakers.py --rounds 5
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

from catalog_resources.analysis.local.audio import read_pcm16k  # noqa: E402
from catalog_resources.settings import load_settings  # noqa: E402
from catalog_resources.speakers.diarize import diarize as diarize_with  # noqa: E402
from catalog_resources.speakers.encoder import VoiceEncoder  # noqa: E402
from tests.speaker_media import INTERVIEW, VOICE_B, VOICE_C, make_dialogue_wav  # noqa: E402

ENCODER = VoiceEncoder(load_settings().models_dir)


def diarize(samples, name: str):
    return diarize_with(samples, name, ENCODER)


MONOLOGUE = [(VOICE_B, "The harbour master opens the gates at six, and the first boats leave soon after that."),
             (VOICE_B, "In winter the work is harder, but the prices at the market are better.")]


def _dialogues(folder: Path) -> dict[str, tuple[Path, list]]:
    pitched = [(VOICE_C if voice == VOICE_B else voice, text) for voice, text in INTERVIEW]
    made = {}
    for name, lines, pause in (("interview", INTERVIEW, 0.4), ("interview_pitched", pitched, 0.4),
                               ("interview_no_pauses", INTERVIEW, 0.0), ("monologue", MONOLOGUE, 0.4),
                               ("long_interview", INTERVIEW * 4, 0.4)):
        path = folder / f"{name}.wav"
        made[name] = (path, make_dialogue_wav(path, lines, pause=pause))
    return made


def _boundary_error(found, truth) -> float | None:
    """The largest |found - true| over turn starts and ends, when the turns pair up one to one; None otherwise."""
    merged = []
    for line in truth:  # lines of one voice in a row are one turn
        if merged and merged[-1][0] == line.voice:
            merged[-1][2] = line.end
        else:
            merged.append([line.voice, line.start, line.end])
    if len(found.turns) != len(merged):
        return None
    return round(max(max(abs(t.start_seconds - m[1]), abs(t.end_seconds - m[2])) for t, m in zip(found.turns, merged)), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-speakers-") as tmp:
        clips = _dialogues(Path(tmp))
        samples = {name: read_pcm16k(path, sample_format="s16") for name, (path, _t) in clips.items()}
        cpu, wall = time.process_time(), time.perf_counter()
        diarize(samples["monologue"], "warm-up")
        load = {"cpu_seconds": round(time.process_time() - cpu, 3), "wall_seconds": round(time.perf_counter() - wall, 3)}
        print(f"first call (loads the ONNX encoder): {load['cpu_seconds']} CPU s, {load['wall_seconds']} s")
        rows = {}
        print(f"{'clip':<22}{'speech s':>9}{'CPU s/speech s':>16}{'wall s':>8}{'speakers':>9}{'turns':>6}{'max boundary err s':>20}")
        for name, (_path, truth) in clips.items():
            runs = [diarize(samples[name], name) for _ in range(args.rounds)]
            per = statistics.median(r.cpu_seconds / r.speech_seconds for r in runs)
            rows[name] = {"speech_seconds": runs[0].speech_seconds, "cpu_per_speech_second": round(per, 4),
                          "wall_seconds": round(statistics.median(r.seconds for r in runs), 3),
                          "speakers": len(runs[0].tracks), "turns": len(runs[0].turns),
                          "true_speakers": len({line.voice for line in truth}),
                          "max_boundary_error": _boundary_error(runs[0], truth)}
            r = rows[name]
            print(f"{name:<22}{r['speech_seconds']:>9.1f}{per:>16.4f}{r['wall_seconds']:>8.2f}"
                  f"{r['speakers']:>5} of {r['true_speakers']}{r['turns']:>6}{str(r['max_boundary_error']):>20}")
        total_speech = sum(r["speech_seconds"] for r in rows.values())
        overall = sum(r["cpu_per_speech_second"] * r["speech_seconds"] for r in rows.values()) / total_speech
        print(f"all clips: {overall:.4f} CPU s per second of speech (budget 0.05)")
        print("RESULT " + json.dumps({"load": load, "clips": rows, "cpu_per_speech_second": round(overall, 4)}))


if __name__ == "__main__":
    main()
