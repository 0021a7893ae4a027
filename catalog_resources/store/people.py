"""SQL for people across footage (sql/010): a mixin of CatalogQueries (which provides `connect`).

write_faces replaces a clip's face tracks (the `faces` asset, through the IO manager) and gives each track a
person incrementally (people/clustering.py: the nearest centroid by pgvector, rejections respected). People
rows outlive their tracks, so names survive re-analysis. The rest are the `people` commands' reads and edits.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import psycopg

from catalog_resources.errors import UsageError
from catalog_resources.models.people import FaceSet, PersonAppearance, PersonSummary
from catalog_resources.people.clustering import CANDIDATES, REJECTED_DISTANCE, Candidate, choose_person
from catalog_resources.people.match import person_condition
from catalog_resources.store.search import _with_vectors


class PersonNotFound(UsageError):
    """A person reference that names no one, or more than one."""


def _vector(values: Any) -> np.ndarray:
    """A vector as numpy, whether pgvector's loader gave an array or its Vector type (binary results)."""
    return np.asarray(values.to_numpy() if hasattr(values, "to_numpy") else values, dtype=np.float32)


def _refresh_centroids(conn: psycopg.Connection, person_ids: set[int]) -> None:
    """Each person's centroid and track count from their tracks; one left with none keeps its centroid."""
    if person_ids:
        conn.execute("""UPDATE people p SET track_count = s.n, centroid = COALESCE(s.c, p.centroid)
                        FROM (SELECT q.id, count(t.track_id) AS n, avg(t.embedding) AS c FROM unnest(%s::bigint[]) q(id)
                              LEFT JOIN face_tracks t ON t.person_id = q.id GROUP BY q.id) s
                        WHERE p.person_id = s.id""", (sorted(person_ids),))


def _refresh_voice_centroid(conn: psycopg.Connection, person_id: int) -> None:
    """The person's voice centroid from their voice tracks (sql/013), after a merge."""
    conn.execute("""UPDATE people p SET voice_track_count = s.n, voice_centroid = COALESCE(s.c, p.voice_centroid)
                    FROM (SELECT count(*) AS n, avg(embedding) AS c FROM voice_tracks WHERE person_id = %s) s
                    WHERE p.person_id = %s""", (person_id, person_id))


# Centroids move with every track a person gets, so the HNSW index holds many dead entries between vacuums; the
# default search (ef_search 40, no iterative scan) then missed the nearest person for 14 of 500 people at 10k tracks
# (bench/faces.py). A wider, iterative search finds them.
_SEARCH = ("SELECT set_config('hnsw.ef_search', '200', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)")


def _candidates(conn: psycopg.Connection, vector: np.ndarray, taken: set[int]) -> list[Candidate]:
    conn.execute(_SEARCH)
    rows = conn.execute("""SELECT person_id, centroid <-> %s AS distance FROM people WHERE centroid IS NOT NULL
                           ORDER BY centroid <-> %s LIMIT %s""", (vector, vector, CANDIDATES + len(taken))).fetchall()
    rows = [r for r in rows if r["person_id"] not in taken]
    rejected: dict[int, list[np.ndarray]] = {r["person_id"]: [] for r in rows}
    if rows:
        for r in conn.execute("SELECT person_id, embedding FROM face_track_rejections WHERE person_id = ANY(%s)",
                              (list(rejected),)).fetchall():
            rejected[r["person_id"]].append(_vector(r["embedding"]))
    return [Candidate(r["person_id"], float(r["distance"]), rejected[r["person_id"]]) for r in rows]


class PeopleQueries:
    def connect(self) -> AbstractContextManager[psycopg.Connection]:  # provided by CatalogQueries
        raise NotImplementedError

    @staticmethod
    def write_faces(conn: psycopg.Connection, faces: FaceSet) -> int:
        """The clip's tracks replaced by these, each given to the nearest person (else a new one). Two tracks
        of one clip are two people (tracks.py keeps apart faces seen together), so they never share one."""
        _with_vectors(conn)
        # one writer at a time gives tracks people (till the transaction ends): two ingest processes seeing the
        # same new face at once would otherwise each start a person for it
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('video_catalog.people'))")
        touched = {r["person_id"] for r in conn.execute(
            "DELETE FROM face_tracks WHERE clip_id = %s RETURNING person_id", (faces.clip_id,)).fetchall()
            if r["person_id"] is not None}
        _refresh_centroids(conn, touched)
        taken: set[int] = set()
        for track in faces.tracks:
            vector = _vector(track.embedding)
            person = choose_person(vector, _candidates(conn, vector, taken))
            if person is None:
                person = conn.execute("INSERT INTO people (centroid) VALUES (%s) RETURNING person_id",
                                      (vector,)).fetchone()["person_id"]
            taken.add(person)
            conn.execute(
                """INSERT INTO face_tracks (clip_id, track_index, person_id, start_seconds, end_seconds, ranges,
                   screen_seconds, sightings, crop_path, model, embedding) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)""",
                (faces.clip_id, track.track_index, person, track.start_seconds, track.end_seconds,
                 json.dumps(track.ranges), track.screen_seconds, len(track.sightings), track.crop_path, faces.model,
                 vector))
            _refresh_centroids(conn, {person})
        return len(faces.tracks)

    # ---- reads ------------------------------------------------------------------------------------------

    # a person with a face, a voice or both (sql/013): their clips, face tracks and screen time, voice tracks and
    # speech time, and their best face crop
    _SUMMARY = """SELECT p.person_id, p.name, f.tracks, f.screen_seconds, f.crop_path, v.voice_tracks, v.speech_seconds,
                         (SELECT count(*) FROM (SELECT clip_id FROM face_tracks WHERE person_id = p.person_id UNION
                                                SELECT clip_id FROM voice_tracks WHERE person_id = p.person_id) u) AS clips
                  FROM people p
                  CROSS JOIN LATERAL (SELECT count(*) AS tracks, COALESCE(sum(screen_seconds), 0) AS screen_seconds,
                                             (array_agg(crop_path ORDER BY sightings DESC, track_id))[1] AS crop_path
                                      FROM face_tracks WHERE person_id = p.person_id) f
                  CROSS JOIN LATERAL (SELECT count(*) AS voice_tracks, COALESCE(sum(speech_seconds), 0) AS speech_seconds
                                      FROM voice_tracks WHERE person_id = p.person_id) v
                  WHERE (f.tracks > 0 OR v.voice_tracks > 0)"""

    def people_summaries(self) -> list[PersonSummary]:
        """Everyone with at least one track, most screen time first."""
        with self.connect() as conn:
            rows = conn.execute(f"{self._SUMMARY} ORDER BY f.screen_seconds + v.speech_seconds DESC, p.person_id").fetchall()
        return [PersonSummary(**r) for r in rows]

    def find_person(self, ref: str) -> PersonSummary:
        """A person by number (`3`, `P3`) or by name (case aside; a unique part of one will do)."""
        text = ref.strip()
        number = text[1:] if text[:1] in "pP" and text[1:].isdigit() else text
        with self.connect() as conn:
            if number.isdigit():
                rows = conn.execute(f"{self._SUMMARY} AND p.person_id = %s", (int(number),)).fetchall()
            else:
                rows = conn.execute(f"{self._SUMMARY} AND lower(p.name) = lower(%s)", (text,)).fetchall()
                if not rows:
                    rows = conn.execute(f"{self._SUMMARY} AND p.name ILIKE %s",
                                        (f"%{text}%",)).fetchall()
        if not rows:
            raise PersonNotFound(f"no person {ref!r}; `video-catalog people list` shows who there is")
        if len(rows) > 1:
            names = ", ".join(f"{r['person_id']} ({r['name']})" for r in rows)
            raise PersonNotFound(f"{ref!r} names {len(rows)} people: {names}; give the number")
        return PersonSummary(**rows[0])

    def person_appearances(self, person_id: int) -> list[PersonAppearance]:
        with self.connect() as conn:
            rows = conn.execute(
                """SELECT t.track_id, t.clip_id, c.file_name, c.path, t.start_seconds, t.end_seconds, t.ranges,
                          t.crop_path, t.embedding <-> p.centroid AS distance
                   FROM face_tracks t JOIN people p USING (person_id) JOIN clips c USING (clip_id)
                   WHERE t.person_id = %s ORDER BY c.file_name, t.start_seconds""", (person_id,)).fetchall()
        return [PersonAppearance(**r) for r in rows]

    def clip_people(self, clip_id: str) -> list[dict[str, Any]]:
        """Who is in one clip (`show`): each face track with its person, name, times on screen and face crop."""
        with self.connect() as conn:
            return list(conn.execute(
                """SELECT t.track_id, t.person_id, p.name, t.start_seconds, t.end_seconds, t.ranges, t.crop_path
                   FROM face_tracks t LEFT JOIN people p USING (person_id) WHERE t.clip_id = %s
                   ORDER BY t.start_seconds, t.track_index""", (clip_id,)))

    def person_ranges(self, person: str, clip_ids: list[str]) -> dict[str, list[tuple[float, float]]]:
        """The time ranges people matching `person` (as the --person filter matches) are on screen, per clip."""
        where, params = person_condition(person)
        with self.connect() as conn:
            rows = conn.execute(f"""SELECT ft.clip_id, ft.ranges FROM face_tracks ft JOIN people p USING (person_id)
                                    WHERE ft.clip_id = ANY(%(clips)s) AND {where} ORDER BY ft.start_seconds""",
                                {**params, "clips": clip_ids}).fetchall()
        found: dict[str, list[tuple[float, float]]] = {}
        for r in rows:
            found.setdefault(r["clip_id"], []).extend((float(a), float(b)) for a, b in r["ranges"])
        return {clip: sorted(ranges) for clip, ranges in found.items()}

    # ---- edits ------------------------------------------------------------------------------------------

    def name_person(self, person_id: int, name: str | None) -> None:
        with self.connect() as conn:
            conn.execute("UPDATE people SET name = %s, named_at = now() WHERE person_id = %s", (name, person_id))

    def merge_people(self, keep: int, other: int) -> None:
        """`other`'s tracks and rejections go to `keep`, which keeps its name (or takes other's); other is gone."""
        with self.connect() as conn, conn.transaction():
            conn.execute("UPDATE face_tracks SET person_id = %s WHERE person_id = %s", (keep, other))
            conn.execute("UPDATE face_track_rejections SET person_id = %s WHERE person_id = %s", (keep, other))
            conn.execute("UPDATE voice_tracks SET person_id = %s WHERE person_id = %s", (keep, other))
            conn.execute("UPDATE voice_tracks SET face_person_id = %s WHERE face_person_id = %s", (keep, other))
            conn.execute("""UPDATE people SET name = COALESCE(name, (SELECT name FROM people WHERE person_id = %s))
                            WHERE person_id = %s""", (other, keep))
            conn.execute("DELETE FROM people WHERE person_id = %s", (other,))
            # a face rejected from one of them that is like a track of the merged person is theirs after all
            conn.execute("""DELETE FROM face_track_rejections r WHERE r.person_id = %s AND EXISTS (
                                SELECT 1 FROM face_tracks t WHERE t.person_id = %s AND t.embedding <-> r.embedding < %s)""",
                         (keep, keep, REJECTED_DISTANCE))
            _refresh_centroids(conn, {keep})
            _refresh_voice_centroid(conn, keep)

    def split_person(self, person_id: int, track_ids: list[int]) -> int:
        """These tracks of the person become a new person; their faces are rejected from the old one for good."""
        with self.connect() as conn, conn.transaction():
            _with_vectors(conn)
            rows = conn.execute("SELECT track_id, clip_id, embedding FROM face_tracks WHERE person_id = %s"
                                " AND track_id = ANY(%s)", (person_id, track_ids)).fetchall()
            missing = sorted(set(track_ids) - {r["track_id"] for r in rows})
            if missing:
                raise PersonNotFound(f"track {missing[0]} is not person {person_id}'s; `people show {person_id}` lists them")
            new = conn.execute("INSERT INTO people DEFAULT VALUES RETURNING person_id").fetchone()["person_id"]
            conn.execute("UPDATE face_tracks SET person_id = %s WHERE track_id = ANY(%s)", (new, track_ids))
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO face_track_rejections (person_id, embedding, clip_id) VALUES (%s, %s, %s)",
                                [(person_id, r["embedding"], r["clip_id"]) for r in rows])
            _refresh_centroids(conn, {person_id, new})
            return new

    def forget_person(self, person_id: int) -> list[dict[str, Any]]:
        """Delete the person: their face and voice tracks, vectors, rejections and name. Returns the deleted face
        tracks (clip_id, track_index, crop_path) and voice tracks (clip_id, speaker_index) so their crops and
        sidecar entries go too (people/forget.py)."""
        with self.connect() as conn, conn.transaction():
            gone = conn.execute("DELETE FROM face_tracks WHERE person_id = %s RETURNING clip_id, track_index, crop_path",
                                (person_id,)).fetchall()
            voices = conn.execute("DELETE FROM voice_tracks WHERE person_id = %s RETURNING clip_id, speaker_index",
                                  (person_id,)).fetchall()  # their voice vectors too (sql/013)
            conn.execute("DELETE FROM people WHERE person_id = %s", (person_id,))
        return [dict(r) for r in gone] + [dict(r) for r in voices]
