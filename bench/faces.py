"""People: what the faces step costs per second of footage, and clustering time at 10k face tracks.

1. Faces CPU per footage second (goal <= 0.05 s on top of today's pipeline). Today's pipeline already makes the
   thumbnails and runs the face detector on them (frame_analysis); the faces step adds the frames it decodes
   around track edges (people/edges.py), the embeddings and the crops. So the clips' thumbnails and frame analysis
   are made first, untimed, as ingest makes them, and then only `find_faces` is timed, in CPU seconds of the
   process (dlib's and the detector's threads included), twice per clip in the same run: `before` on the
   thumbnails alone, `after` with the edges searched in the clip file, as the step runs. The mix: the packaged
   face clips of tests/face_media.py (every one with a face but one), longer takes of a moving face (20 s), a 60 s
   take a face enters and leaves (thumbnails 2 s apart), and the test library's synthetic clips (no faces).
2. Clustering at 10k tracks, synthetic 128-d unit vectors (identities with per-track noise of the spread
   measured on real faces: 0.03-0.16 between takes of one face): in memory (people/clustering.py) and through
   the real SQL path (store/people.py `write_faces`, pgvector) on an embedded server, one track per clip.

Measured here (2 shared cores, load 3-5): 0.0079 CPU s per footage second before, 0.0101 after, over 121 s of
footage (11 tracks, 12 faces embedded at ~80 ms each, 22 frames probed; the 60 s take's face, on screen 17.3-41.7 s,
17.8-40.8 s before and 17.2-41.6 s after). With the detector's OpenMP threads spinning (load 6-7) after was 0.052.
The thumbnails-only step on the earlier 61 s mix (load 7-9): 0.016. Clustering 10,000 tracks of 500 people: 0.16-0.25 ms a track in
memory, 6-10 ms a track through SQL (one transaction per clip), 500 people found, purity 1.0.

    .venv/bin/python bench/faces.py                 # both
    .venv/bin/python bench/faces.py --tracks 2000   # a quicker SQL figure
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog_resources.media.frame_inspector import FrameMeter  # noqa: E402
from catalog_resources.media.thumbnails import ThumbnailMaker  # noqa: E402
from catalog_resources.models.people import FaceSet, FaceTrack  # noqa: E402
from catalog_resources.people.clip_faces import find_faces  # noqa: E402
from catalog_resources.people.clustering import cluster_incrementally  # noqa: E402
from tests.face_media import CLIPS, _fit, astronaut, cameraman, no_face, side_by_side, write_clip  # noqa: E402
from tests.media import make_library  # noqa: E402


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


def _enters_and_leaves(t: float):
    """A face that comes into a 60 s take at 17.3 s and leaves at 41.7 s (thumbnails are 2 s apart here)."""
    return _fit(astronaut(), zoom=1.0 + 0.01 * t) if ENTERS <= t < LEAVES else _fit(no_face(), zoom=1.0 + 0.005 * t)


ENTERS, LEAVES = 17.3, 41.7


def footage(folder: Path) -> list[Path]:
    """The mix: the face clips, two 20 s takes of moving faces, a 60 s take a face enters and leaves, the
    synthetic library (no faces)."""
    clips = [write_clip(folder / name, frame_at, seconds) for name, (_who, frame_at, seconds) in CLIPS.items()]
    clips.append(write_clip(folder / "long_pan.mp4", lambda t: _fit(astronaut(), zoom=1.0 + 0.02 * t, shift=-100 + 10 * t), 20.0))
    clips.append(write_clip(folder / "long_two.mp4", lambda t: side_by_side(astronaut(), cameraman()) if int(t) % 6 < 4
                            else _fit(cameraman(), zoom=1.5), 20.0))
    clips.append(write_clip(folder / "long_enters.mp4", _enters_and_leaves, 60.0))
    clips += [p for p in make_library(folder / "library").values() if p.suffix in (".mp4", ".mov", ".mkv")]
    return clips


def _timed(thumbs, analysis, out: Path, clip_id: str, seconds: float, source: Path | None) -> tuple[FaceSet, float]:
    started = time.process_time()
    faces = find_faces(thumbs, analysis, out, clip_id=clip_id, duration=seconds, source=source)
    return faces, time.process_time() - started


def faces_cost(folder: Path) -> dict:
    """CPU of find_faces per footage second, in the same run: `before`, on the thumbnails alone (as the step was
    before track edges were searched), and `after`, with the edges searched in the clip file (as the step runs)."""
    thumbnailer, meter = ThumbnailMaker(), FrameMeter()
    cpu = {"before": 0.0, "after": 0.0}
    total_seconds = 0.0
    tracks = embedded = found = probed = decoded = 0
    warmed = False
    for n, clip in enumerate(footage(folder)):
        try:
            seconds = _duration(clip)
            thumbs = thumbnailer.extract(f"c{n}", clip, folder / f"media{n}" / "thumbnails")
            analysis = meter.analyze(f"c{n}", None, thumbs, duration=seconds, start=0.0, focal_35mm=None)
        except Exception as exc:  # a library clip made to fail (corrupt, audio only) is no footage here
            print(f"  skip {clip.name}: {type(exc).__name__}")
            continue
        if not warmed:  # the models load once per process: not part of either figure
            _timed(thumbs, analysis, folder / "warm", "warm", seconds, clip)
            warmed = True
        coarse, cpu_before = _timed(thumbs, analysis, folder / f"media{n}" / "coarse", f"c{n}", seconds, None)
        faces, cpu_after = _timed(thumbs, analysis, folder / f"media{n}" / "faces", f"c{n}", seconds, clip)
        cpu["before"] += cpu_before
        cpu["after"] += cpu_after
        total_seconds += seconds
        tracks += len(faces.tracks)
        embedded += sum(t.embedded for t in faces.tracks)
        found += faces.faces_found
        probed += faces.frames_probed
        decoded += faces.frames_decoded
        print(f"  {clip.name:<24} {seconds:5.1f} s  faces {faces.faces_found:3d}  tracks {len(faces.tracks)}  "
              f"embedded {sum(t.embedded for t in faces.tracks)}  probed {faces.frames_probed:2d}  "
              f"cpu {cpu_before:.3f} -> {cpu_after:.3f} s")
        if clip.name == "long_enters.mp4":
            print(f"    on screen {ENTERS}-{LEAVES} s; thumbnails only {[t.ranges for t in coarse.tracks]}, "
                  f"edges searched {[t.ranges for t in faces.tracks]}")
    per_second = {k: round(v / max(total_seconds, 1e-9), 4) for k, v in cpu.items()}
    return {"footage_seconds": round(total_seconds, 1), "faces_cpu_seconds_before": round(cpu["before"], 3),
            "faces_cpu_seconds_after": round(cpu["after"], 3), "cpu_per_footage_second_before": per_second["before"],
            "cpu_per_footage_second": per_second["after"], "faces_found": found, "tracks": tracks,
            "embedded": embedded, "frames_probed": probed, "frames_decoded_for_probes": decoded}


def synthetic(tracks: int, identities: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(identities, 128))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    who = rng.integers(0, identities, size=tracks)
    vectors = centres[who] + rng.normal(scale=0.1 / np.sqrt(128), size=(tracks, 128))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), who


def purity(found: list[int], truth: np.ndarray) -> float:
    """Share of tracks whose person is the majority identity of that person."""
    by_person: dict[int, list[int]] = {}
    for person, identity in zip(found, truth):
        by_person.setdefault(person, []).append(int(identity))
    return sum(max(np.bincount(ids)) for ids in by_person.values()) / len(found)


def clustering_memory(tracks: int, identities: int) -> dict:
    vectors, truth = synthetic(tracks, identities)
    started = time.perf_counter()
    found = cluster_incrementally(list(vectors))
    seconds = time.perf_counter() - started
    return {"tracks": tracks, "identities": identities, "people": len(set(found)), "purity": round(purity(found, truth), 4),
            "memory_seconds": round(seconds, 2), "memory_ms_per_track": round(seconds * 1000 / tracks, 3)}


def clustering_sql(tracks: int, identities: int) -> dict:
    from bench.ingest import close_app, open_warm_app

    vectors, truth = synthetic(tracks, identities)
    app = open_warm_app(Path(tempfile.mkdtemp(prefix="vc-bench-faces-")) / "home", "batch", 16)
    try:
        store = app.store
        with store.connect() as conn, conn.transaction():
            conn.execute("""INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint)
                            SELECT 'b' || n, 'b' || n, '/x/b' || n, 1, 'm', 'f', 'p' || n
                            FROM generate_series(0, %s) n""", (tracks - 1,))
        started, lap, laps = time.perf_counter(), time.perf_counter(), []
        for n, vector in enumerate(vectors):
            track = FaceTrack(track_index=0, start_seconds=0, end_seconds=1, ranges=[(0.0, 1.0)], embedding=vector.tolist())
            with store.connect() as conn, conn.transaction():
                store.write_faces(conn, FaceSet(clip_id=f"b{n}", model="bench", tracks=[track]))
            if (n + 1) % (tracks // 5) == 0:
                laps.append(round((time.perf_counter() - lap) * 1000 / (tracks // 5), 2))
                lap = time.perf_counter()
        seconds = time.perf_counter() - started
        with store.connect() as conn:
            found = [r["person_id"] for r in conn.execute("SELECT person_id FROM face_tracks ORDER BY"
                                                          " substr(clip_id, 2)::int")]
        return {"sql_seconds": round(seconds, 1), "sql_ms_per_track": round(seconds * 1000 / tracks, 2),
                "sql_ms_per_track_by_fifth": laps, "sql_people": len(set(found)),
                "sql_purity": round(purity(found, truth), 4)}
    finally:
        close_app(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--identities", type=int, default=500)
    parser.add_argument("--skip", choices=("faces", "sql"), action="append", default=[])
    args = parser.parse_args()
    result: dict = {}
    if "faces" not in args.skip:
        with tempfile.TemporaryDirectory(prefix="vc-bench-faces-") as folder:
            result["faces"] = faces_cost(Path(folder))
        print(f"faces: {result['faces']['cpu_per_footage_second_before']:.4f} CPU s per footage second on thumbnails"
              f" alone, {result['faces']['cpu_per_footage_second']:.4f} with track edges searched (goal <= 0.05)")
    result["clustering"] = clustering_memory(args.tracks, args.identities)
    print(f"clustering in memory: {json.dumps(result['clustering'])}")
    if "sql" not in args.skip:
        result["clustering"] |= clustering_sql(args.tracks, args.identities)
        print(f"clustering through SQL: {json.dumps(result['clustering'])}")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
