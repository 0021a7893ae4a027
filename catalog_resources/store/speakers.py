"""SQL for speakers (sql/013): a mixin of CatalogQueries (which provides `connect`).

write_speakers replaces a clip's voice tracks and speaker_change segments (the `speakers` asset, through the IO
manager) and gives each voice a person: the person whose voice is nearest (within VOICE_DISTANCE), else the one
person whose face was on screen while it spoke (speakers/link.py) if that person has no voice yet, else a new
person with only a voice. As with faces, people outlive their tracks, so a name survives re-analysis.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import psycopg

from catalog_resources.models.speakers import SpeakerSet
from catalog_resources.people.match import person_condition
from catalog_resources.speakers.link import linked_face
from catalog_resources.store.analysis import replace_segments
from catalog_resources.store.people import _vector
from catalog_resources.store.search import _with_vectors

# Voice vector to a person's voice centroid (unit vectors, L2). The same synthetic voice saying other words in
# another clip lies at 0.37-0.45 (cosine 0.90-0.93), two different voices at 0.82 or more (cosine <= 0.66).
VOICE_DISTANCE = 0.6
CANDIDATES = 5
_SEARCH = "SELECT set_config('hnsw.ef_search', '200', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"


def _refresh_voices(conn: psycopg.Connection, person_ids: set[int]) -> None:
    """Each person's voice centroid and voice track count; one left with none keeps the centroid (so a name
    given to a voice finds it again after a re-analysis)."""
    if person_ids:
        conn.execute("""UPDATE people p SET voice_track_count = s.n, voice_centroid = COALESCE(s.c, p.voice_centroid)
                        FROM (SELECT q.id, count(v.track_id) AS n, avg(v.embedding) AS c FROM unnest(%s::bigint[]) q(id)
                              LEFT JOIN voice_tracks v ON v.person_id = q.id GROUP BY q.id) s
                        WHERE p.person_id = s.id""", (sorted(person_ids),))


def _nearest_voice(conn: psycopg.Connection, vector: np.ndarray, taken: set[int]) -> int | None:
    conn.execute(_SEARCH)
    rows = conn.execute("""SELECT person_id, voice_centroid <-> %s AS distance FROM people
                           WHERE voice_centroid IS NOT NULL ORDER BY voice_centroid <-> %s LIMIT %s""",
                        (vector, vector, CANDIDATES + len(taken))).fetchall()
    for row in rows:
        if row["person_id"] not in taken:
            return row["person_id"] if row["distance"] < VOICE_DISTANCE else None
    return None


def _clip_faces(conn: psycopg.Connection, clip_id: str) -> dict[int, list[list[float]]]:
    """Each face person's on-screen ranges in the clip (the faces step ran before this one)."""
    faces: dict[int, list[list[float]]] = {}
    for row in conn.execute("SELECT person_id, ranges FROM face_tracks WHERE clip_id = %s AND person_id IS NOT NULL",
                            (clip_id,)).fetchall():
        faces.setdefault(row["person_id"], []).extend(row["ranges"])
    return faces


class SpeakerQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    @staticmethod
    def write_speakers(conn: psycopg.Connection, speakers: SpeakerSet) -> int:
        """The clip's voice tracks and speaker_change segments replaced by these, each voice given a person."""
        _with_vectors(conn)
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('video_catalog.people'))")  # as write_faces
        touched = {r["person_id"] for r in conn.execute(
            "DELETE FROM voice_tracks WHERE clip_id = %s RETURNING person_id", (speakers.clip_id,)).fetchall()
            if r["person_id"] is not None}
        _refresh_voices(conn, touched)
        replace_segments(conn, speakers.clip_id, "speaker_change", [
            {"start_seconds": t.start_seconds, "end_seconds": t.end_seconds, "text": t.label} for t in speakers.turns])
        faces = _clip_faces(conn, speakers.clip_id) if speakers.tracks else {}
        taken: set[int] = set()
        for track in speakers.tracks:
            vector = _vector(track.embedding)
            face, share, won = linked_face(track.turns, faces)
            person = _nearest_voice(conn, vector, taken)
            if person is None and face is not None and face not in taken:
                has_voice = conn.execute("SELECT voice_centroid IS NOT NULL AS v FROM people WHERE person_id = %s",
                                         (face,)).fetchone()["v"]
                person = None if has_voice else face
            if person is None:
                person = conn.execute("INSERT INTO people DEFAULT VALUES RETURNING person_id").fetchone()["person_id"]
            taken.add(person)
            conn.execute(
                """INSERT INTO voice_tracks (clip_id, speaker_index, person_id, start_seconds, end_seconds, turns,
                   speech_seconds, model, embedding, face_person_id, face_agreement, face_turns)
                   VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
                (speakers.clip_id, track.speaker_index, person, track.turns[0][0], track.turns[-1][1],
                 json.dumps(track.turns), track.speech_seconds, speakers.model, vector, face,
                 share if won else None, won))
            _refresh_voices(conn, {person})
        return len(speakers.tracks)

    # ---- reads ------------------------------------------------------------------------------------------

    def clip_speakers(self, clip_id: str) -> list[dict[str, Any]]:
        """One clip's voices: label (S1...), person and name, turns, speech seconds, and the linked face."""
        with self.connect() as conn:
            return list(conn.execute(
                """SELECT v.speaker_index, 'S' || (v.speaker_index + 1) AS label, v.person_id, p.name, v.turns,
                          v.speech_seconds, v.face_person_id, v.face_agreement, v.face_turns
                   FROM voice_tracks v LEFT JOIN people p USING (person_id) WHERE v.clip_id = %s
                   ORDER BY v.speaker_index""", (clip_id,)))

    def person_voices(self, person_id: int) -> list[dict[str, Any]]:
        """A person's voice in each clip (`people show`): clip, label, turns, speech seconds, distance from their
        voice centroid, and the face the voice was seen with."""
        with self.connect() as conn:
            return list(conn.execute(
                """SELECT v.track_id, v.clip_id, c.file_name, 'S' || (v.speaker_index + 1) AS label, v.turns,
                          v.speech_seconds, v.embedding <-> p.voice_centroid AS distance, v.face_person_id,
                          v.face_agreement, v.face_turns
                   FROM voice_tracks v JOIN people p USING (person_id) JOIN clips c USING (clip_id)
                   WHERE v.person_id = %s ORDER BY c.file_name, v.start_seconds""", (person_id,)))

    def speaker_turns(self, speaker: str, clip_ids: list[str] | None = None) -> dict[str, list[tuple[float, float]]]:
        """The turns of the voices of people matching `speaker` (a number or a part of a name), per clip."""
        where, params = person_condition(speaker)
        clips = "AND v.clip_id = ANY(%(clips)s)" if clip_ids is not None else ""
        with self.connect() as conn:
            rows = conn.execute(f"""SELECT v.clip_id, v.turns FROM voice_tracks v JOIN people p USING (person_id)
                                    WHERE {where} {clips} ORDER BY v.clip_id, v.start_seconds""",
                                {**params, "clips": clip_ids}).fetchall()
        found: dict[str, list[tuple[float, float]]] = {}
        for r in rows:
            found.setdefault(r["clip_id"], []).extend((float(a), float(b)) for a, b in r["turns"])
        return {clip: sorted(turns) for clip, turns in found.items()}
