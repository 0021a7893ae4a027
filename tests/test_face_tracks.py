"""Face track edges between sparse thumbnails (issue 21, "more where faces are present"): a real face photograph
(scikit-image's astronaut) on screen from 3.0 s to 7.5 s of a 12 s clip made with ffmpeg, with four thumbnails
3 s apart, gives a track whose start and end are within a second of the truth once the edges are searched in the
original file; without the file the track is only as fine as the thumbnails. The pure edge finding first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_resources.media.frame_inspector import FrameMeter
from catalog_resources.media.thumbnails import ThumbnailMaker
from catalog_resources.models.media import Face
from catalog_resources.models.people import FaceSet
from catalog_resources.people.clip_faces import find_faces
from catalog_resources.people.edges import MAX_PROBES_PER_EDGE, RESOLUTION, chain_edges, probe_size
from catalog_resources.people.tracks import Frame, chain_by_position
from tests.face_media import _fit, astronaut, no_face, write_clip

ON, OFF, SECONDS = 3.0, 7.5, 12.0


def test_only_gaps_wider_than_the_resolution_at_chain_edges_are_searched():
    face = Face(x=0.4, y=0.2, width=0.2, height=0.4, confidence=90)
    frames = [Frame(0, 1.0, []), Frame(1, 4.0, [face]), Frame(2, 4.5, [face]), Frame(3, 9.0, [])]
    edges = chain_edges(frames, 0.0, 10.0)
    assert [(e.seen, e.unseen, e.smallest) for e in edges] == [(4.0, 1.0, 0.4), (4.5, 9.0, 0.4)]
    assert [(e.seen, e.unseen) for e in chain_edges(frames, 0.0, 10.0, cuts=[3.8, 5.2])] == []  # cuts bound gaps
    assert [(e.seen, e.unseen) for e in chain_edges(frames, 0.0, 10.0, cuts=[6.0])] == [(4.0, 1.0), (4.5, 6.0)]
    far = Face(x=0.1, y=0.1, width=0.05, height=0.08, confidence=90)  # someone small stays on across the gap
    with_far = [Frame(0, 1.0, [far]), Frame(1, 4.0, [face, far]), Frame(2, 4.5, [face, far]), Frame(3, 9.0, [far])]
    assert {e.smallest for e in chain_edges(with_far, 0.0, 10.0) if e.face == face} == {0.08}
    whole = [Frame(0, 0.5, [face]), Frame(1, 9.5, [face])]
    assert chain_edges(whole, 0.0, 10.0) == []  # seen from the first thumbnail to the last: nothing to search


def test_a_tracks_vector_and_crop_come_from_a_thumbnail_and_probes_are_decoded_small():
    big = Face(x=0.3, y=0.1, width=0.3, height=0.5, confidence=95)
    small = Face(x=0.32, y=0.12, width=0.28, height=0.45, confidence=90)
    (chain,) = chain_by_position([Frame(0, 1.0, [small]), Frame(1, 1.5, [big], probe=True)])
    assert chain.best({0})[0] == 0 and chain.best()[0] == 1  # a thumbnail's face, though the probe's is larger
    sizes = [probe_size(Face(x=0, y=0, width=h, height=h, confidence=90)) for h in (0.6, 0.2, 0.1, 0.01)]
    assert sizes == sorted(sizes) and sizes[0] == 160 and sizes[-1] == 640 and 300 < sizes[1] < 400


def _frame_at(t: float):
    return _fit(astronaut(), zoom=1.0 + 0.02 * t) if ON <= t < OFF else _fit(no_face(), zoom=1.0 + 0.01 * t)


@pytest.fixture(scope="module")
def sparse(tmp_path_factory) -> tuple[Path, object, object, Path]:
    """(clip, its four thumbnails, their frame analysis, media dir)."""
    folder = tmp_path_factory.mktemp("edges")
    clip = write_clip(folder / "enters.mp4", _frame_at, SECONDS)
    thumbs = ThumbnailMaker(count=4).extract("c", clip, folder / "media" / "thumbnails")
    analysis = FrameMeter().analyze("c", None, thumbs, duration=SECONDS, start=0.0, focal_35mm=None)
    assert max(b.pts_seconds - a.pts_seconds for a, b in zip(thumbs.thumbnails, thumbs.thumbnails[1:])) >= 2.5
    return clip, thumbs, analysis, folder / "media"


def test_a_face_between_sparse_thumbnails_gets_its_times_to_about_a_second(sparse):
    clip, thumbs, analysis, media = sparse
    coarse = find_faces(thumbs, analysis, media / "coarse", clip_id="c", duration=SECONDS)
    fine = find_faces(thumbs, analysis, media / "faces", clip_id="c", duration=SECONDS, source=clip)
    (before,), (after,) = coarse.tracks, fine.tracks
    assert abs(after.start_seconds - ON) <= RESOLUTION and abs(after.end_seconds - OFF) <= RESOLUTION
    assert len(after.ranges) == 1 and after.embedded == 1  # one face, embedded once
    errors = abs(before.start_seconds - ON) + abs(before.end_seconds - OFF)
    assert abs(after.start_seconds - ON) + abs(after.end_seconds - OFF) < errors
    assert 0 < fine.frames_probed <= 2 * MAX_PROBES_PER_EDGE and coarse.frames_probed == 0
    assert Path(after.crop_path).is_file()
    assert FaceSet.model_validate_json(fine.model_dump_json()).frames_probed == fine.frames_probed


def test_a_clip_file_that_cannot_be_read_keeps_the_thumbnails_ranges(sparse, tmp_path):
    _clip, thumbs, analysis, _media = sparse
    gone = find_faces(thumbs, analysis, tmp_path / "faces", clip_id="c", duration=SECONDS, source=tmp_path / "gone.mp4")
    coarse = find_faces(thumbs, analysis, tmp_path / "coarse", clip_id="c", duration=SECONDS)
    assert [t.ranges for t in gone.tracks] == [t.ranges for t in coarse.tracks] and gone.frames_probed == 0
