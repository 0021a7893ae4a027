"""Speaker turns within one clip: speech found by the Silero VAD, voice vectors over 1.6 s windows, change points
inside long stretches, pieces clustered into speakers.

Why this shape:
- Speech regions come from the VAD faster-whisper bundles (the transcript's own), with short pauses kept
  (200 ms), so a turn boundary at a pause is exact to the VAD's 30 ms padding; most turns change at a pause.
- A region long enough to hold two speakers is split where the mean vectors of the windows before and after a
  point differ most, if they differ like two voices (binary segmentation): a change without a pause is found
  to within a window step or two.
- Pieces (regions or their parts) are clustered by average linkage on the cosine distance of their mean
  vectors. A piece under MIN_PIECE seconds says little about its voice, so it joins the nearest speaker the
  longer pieces found instead of founding one.
- Speakers are numbered S1, S2... by first appearance; consecutive turns of one speaker with a short pause
  between are one turn.
"""

from __future__ import annotations

import time

import numpy as np

from catalog_resources.models.speakers import SpeakerSet, SpeakerTurn, VoiceTrack
from catalog_resources.speakers.encoder import HOP, MODEL_NAME, PARTIAL_FRAMES, SAMPLE_RATE, VoiceEncoder, louder_gain

FRAMES_PER_SECOND = SAMPLE_RATE // HOP  # 100
STEP_FRAMES = 40  # 0.4 s between windows
SAME_SPEAKER = 0.80  # cosine similarity of two pieces' mean vectors from which they are one voice
CHANGE_SIMILARITY = 0.82  # a long region splits where its two sides are less alike than this
MIN_SIDE_WINDOWS = 4  # each side of a change point: 4 windows (2.8 s of audio) at least
MIN_PIECE = 2.0  # seconds: shorter pieces join the nearest speaker (a 1.6 s window is noisy)
MIN_SPEECH = 1.0  # seconds of speech in the clip below which no speaker is reported
MERGE_GAP = 1.5  # seconds: a speaker's consecutive turns this close are one turn
VAD = {"min_silence_duration_ms": 200, "speech_pad_ms": 30, "min_speech_duration_ms": 250}


VAD_CHUNK = 600 * SAMPLE_RATE  # the VAD copies its input twice over: 10 minutes at a time keeps that small


def speech_regions(samples: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) mel-frame indices of the speech the VAD hears, 10 minutes at a time (speech running across
    a chunk edge is cut there; its two turns join again when one voice speaks on)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options, regions = VadOptions(**VAD), []
    for offset in range(0, len(samples), VAD_CHUNK):
        for r in get_speech_timestamps(samples[offset:offset + VAD_CHUNK], options):
            start, end = (offset + r["start"]) // HOP, (offset + r["end"]) // HOP
            regions.append((start, max(start + 1, end)))
    return regions


def _window_starts(start: int, end: int, total: int) -> list[int]:
    """Window starts covering frames [start, end); one window centred on a region shorter than a window."""
    if end - start <= PARTIAL_FRAMES:
        centre = (start + end) // 2
        return [max(0, min(centre - PARTIAL_FRAMES // 2, total - PARTIAL_FRAMES))]
    starts = list(range(start, end - PARTIAL_FRAMES + 1, STEP_FRAMES))
    if end - PARTIAL_FRAMES - starts[-1] > STEP_FRAMES // 2:
        starts.append(end - PARTIAL_FRAMES)
    return starts


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def _split(start: int, end: int, starts: list[int], vectors: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """The region as pieces (start, end, window vectors), cut where its two sides sound like two voices."""
    n = len(vectors)
    if n < 2 * MIN_SIDE_WINDOWS:
        return [(start, end, vectors)]
    best, cut = 1.0, None
    for k in range(MIN_SIDE_WINDOWS, n - MIN_SIDE_WINDOWS + 1):
        similarity = float(_unit(vectors[:k].mean(0)) @ _unit(vectors[k:].mean(0)))
        if similarity < best:
            best, cut = similarity, k
    if cut is None or best >= CHANGE_SIMILARITY:
        return [(start, end, vectors)]
    # the change lies between the last left window's centre and the first right window's centre
    boundary = (starts[cut - 1] + starts[cut]) // 2 + PARTIAL_FRAMES // 2
    return (_split(start, boundary, starts[:cut], vectors[:cut])
            + _split(boundary, end, starts[cut:], vectors[cut:]))


def _cluster(pieces: list[tuple[int, int, np.ndarray]]) -> list[int]:
    """A speaker number per piece, numbered by first appearance."""
    means = np.array([_unit(v.mean(0)) for _s, _e, v in pieces])
    long = [i for i, (s, e, _v) in enumerate(pieces) if (e - s) / FRAMES_PER_SECOND >= MIN_PIECE] or list(range(len(pieces)))
    if len(long) == 1:
        raw = {long[0]: 0}
    else:
        from scipy.cluster.hierarchy import fcluster, linkage

        tree = linkage(means[long], method="average", metric="cosine")
        raw = dict(zip(long, (int(c) for c in fcluster(tree, 1 - SAME_SPEAKER, criterion="distance")), strict=True))
    centroids = {c: _unit(means[[i for i in long if raw[i] == c]].mean(0)) for c in set(raw.values())}
    labels = []
    for i in range(len(pieces)):
        labels.append(raw[i] if i in raw else max(centroids, key=lambda c: float(centroids[c] @ means[i])))
    order: dict[int, int] = {}
    for label in labels:
        order.setdefault(label, len(order))
    return [order[label] for label in labels]


def _turns(pieces: list[tuple[int, int, np.ndarray]], labels: list[int]) -> list[SpeakerTurn]:
    turns: list[SpeakerTurn] = []
    for (start, end, _v), speaker in sorted(zip(pieces, labels, strict=True), key=lambda p: p[0][0]):
        a, b = start / FRAMES_PER_SECOND, end / FRAMES_PER_SECOND
        if turns and turns[-1].speaker_index == speaker and a - turns[-1].end_seconds <= MERGE_GAP:
            turns[-1].end_seconds = round(b, 3)
        else:
            turns.append(SpeakerTurn(speaker_index=speaker, start_seconds=round(a, 3), end_seconds=round(b, 3)))
    return turns


def diarize(samples: np.ndarray | None, clip_id: str, encoder: VoiceEncoder, offset: float = 0.0) -> SpeakerSet:
    """The clip's speakers and their turns from 16 kHz mono samples (None: no audio stream). `offset` is added
    to every time (the clip's start PTS, when the audio file's zero is not the clip's)."""
    started, cpu = time.monotonic(), time.process_time()
    result = SpeakerSet(clip_id=clip_id, model=MODEL_NAME)
    if samples is None or samples.size < SAMPLE_RATE // 2:
        return _finished(result, started, cpu)
    regions = speech_regions(samples)
    result.speech_seconds = round(sum(e - s for s, e in regions) / FRAMES_PER_SECOND, 3)
    if result.speech_seconds < MIN_SPEECH:
        return _finished(result, started, cpu)
    mel = encoder.mel_frames(samples, louder_gain(samples))
    if mel.shape[0] < PARTIAL_FRAMES:
        mel = np.pad(mel, ((0, PARTIAL_FRAMES - mel.shape[0]), (0, 0)))
    per_region = [_window_starts(s, min(e, mel.shape[0]), mel.shape[0]) for s, e in regions]
    flat = [w for starts in per_region for w in starts]
    vectors = encoder.embed_windows(mel, flat)
    result.windows = len(flat)
    pieces, at = [], 0
    for (start, end), starts in zip(regions, per_region, strict=True):
        pieces += _split(start, end, starts, vectors[at:at + len(starts)])
        at += len(starts)
    labels = _cluster(pieces)
    result.turns = [t.model_copy(update={"start_seconds": round(t.start_seconds + offset, 3),
                                         "end_seconds": round(t.end_seconds + offset, 3)}) for t in _turns(pieces, labels)]
    result.tracks = _tracks(pieces, labels, result.turns)
    return _finished(result, started, cpu)


def _tracks(pieces: list[tuple[int, int, np.ndarray]], labels: list[int], turns: list[SpeakerTurn]) -> list[VoiceTrack]:
    tracks = []
    for speaker in sorted(set(labels)):
        windows = np.concatenate([v for (_s, _e, v), label in zip(pieces, labels, strict=True) if label == speaker])
        own = [(t.start_seconds, t.end_seconds) for t in turns if t.speaker_index == speaker]
        tracks.append(VoiceTrack(
            speaker_index=speaker, turns=own, windows=len(windows),
            speech_seconds=round(sum((e - s) / FRAMES_PER_SECOND for (s, e, _v), label in zip(pieces, labels, strict=True)
                                     if label == speaker), 3),
            embedding=[round(float(x), 6) for x in _unit(windows.mean(0))],
        ))
    return tracks


def _finished(result: SpeakerSet, started: float, cpu: float) -> SpeakerSet:
    result.seconds = round(time.monotonic() - started, 3)
    result.cpu_seconds = round(time.process_time() - cpu, 3)
    return result
