"""Hostile input for the whole pipeline: broken, lying and oddly named media, special files and bad links,
made by ffmpeg and Python at test time, each with the outcome an ingest must report for it.

Also the means to make a path unreadable when the tests run as root (they do here): root overrides file
permissions, so `without_root_override` runs a command inside a user namespace in which root keeps its
powers over every file except those owned by LOCKED_UID.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

# A uid outside the namespace's map (0..65535): root inside that namespace cannot override its files.
LOCKED_UID = 70000
MAPPED_IDS = "0 0 65536\n"


def lock_out(path: Path) -> Path:
    """Make path unreadable to a command run through `without_root_override` (mode 0; as root, also owned by
    LOCKED_UID so that root in the namespace has no override either)."""
    if os.geteuid() == 0:
        os.chown(path, LOCKED_UID, LOCKED_UID, follow_symlinks=False)
    path.chmod(0)
    return path


def without_root_override(argv: list[str], *, env: dict[str, str] | None = None,
                          timeout: float = 300) -> subprocess.CompletedProcess:
    """Run argv so that file permissions apply to it. As a normal user, plainly. As root, in a new user
    namespace mapping uids and gids 0..65535 onto themselves: the catalog home and the database socket
    (owned by root and the server's user) work as before, files of LOCKED_UID are denied.

    `unshare` cannot write a map of many ids without newuidmap, so root outside writes it: the command
    waits on stdin until the map is in place."""
    if os.geteuid() != 0:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    proc = subprocess.Popen(
        ["unshare", "--user", "sh", "-c", 'read go && exec "$@"', "sh", *argv],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    mine = os.readlink("/proc/self/ns/user")
    deadline = time.monotonic() + 10
    while os.readlink(f"/proc/{proc.pid}/ns/user") == mine:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"unshare --user did not start: {proc.communicate()[1]}")
        time.sleep(0.005)
    for name in ("uid_map", "gid_map"):
        Path(f"/proc/{proc.pid}/{name}").write_text(MAPPED_IDS)
    stdout, stderr = proc.communicate("go\n", timeout=timeout)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


def make_fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def make_socket(path: Path) -> Path:
    """A Unix socket file left behind (bound, then closed): stat says socket, open fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return path


# ------------------------------------------------------------------------------------------------ the corpus
# Expected outcome per file, as `ingest --json` must report it: "complete" (a new clip with every default step),
# "metadata-only" (a new clip cataloged by its metadata, with the reason), or "<bucket>: <reason substring>" for a
# file named in the `not_video` or `failed` bucket. Decided by what the file is, not by what the code does today.
COMPLETE, METADATA_ONLY = "complete", "metadata-only"
NAMED_CLIPS = {  # odd names, each a clip of its own content (so none is a duplicate of another)
    "unicode Ünïcödé 日本語 🎬.mp4": 1,
    "quotes it's \"quoted\".mp4": 2,
    "-leading-dash.mp4": 3,
    "new\nline.mp4": 4,
    "escape \x1b[31mred\x1b[0m.mp4": 5,
    "markup [/] [bold]x[/bold].mp4": 6,
    ":smile: folder/clip :abc:.mp4": 7,
}
DEEP = "/".join(f"d{n:02d}" for n in range(1, 51)) + "/deep.mp4"  # a clip 50 folders down
EXPECTED: dict[str, str] = {
    "zero-byte.mp4": "not_video: empty file",
    "front-index-cut-30pc.mp4": COMPLETE,  # 28 of 100 frames: cataloged as what decodes (item 6)
    "moov-missing.mp4": "failed: corrupt or truncated",  # cut before its index: damaged footage, not "not video"
    "random-bytes.mp4": "not_video: has a video extension but is not video",
    "text.mkv": "not_video: has a video extension but is not video",
    "png-image.mp4": "not_video: has a video extension but is not video",
    "audio-only.m4a": "not_video: audio only",
    "audio-only.mp4": "not_video: has a video extension but is not video",
    "one-frame.mp4": COMPLETE,
    "zero-duration.mp4": COMPLETE,
    "huge-duration.mkv": COMPLETE,
    "twenty-audio-tracks.mp4": COMPLETE,
    **{name: COMPLETE for name in NAMED_CLIPS},
    DEEP: COMPLETE,
    "dated.mp4": COMPLETE,
    "iphone-tags.mov": COMPLETE,
    "no-decoder.mov": METADATA_ONLY,
    "loop": "not_video: symlink loop",
    "dangling.mp4": "failed: dangling symlink",
    "fifo.mp4": "not_video: FIFO (named pipe), not a regular file",
    "device.mov": "not_video: character device, not a regular file",
}
RECORDED = "2024-05-03T10:11:12Z"


class HostileCorpus(BaseModel):
    """The corpus folder, each file's path by its name relative to it, and the outcome an ingest must report."""

    root: Path
    files: dict[str, Path]
    expected: dict[str, str]


def _ff(*args: str) -> None:
    from catalog_resources.media.samples import require_ffmpeg

    subprocess.run([require_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, stdin=subprocess.DEVNULL)


def _picture(n: int, seconds: float = 1.0) -> list[str]:
    """A small test picture whose hue depends on n, so clips made from it differ in content."""
    return ["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=10:duration={seconds},hue=h={n * 37}"]


def _tone(seconds: float = 1.0) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]


H264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]


def _clip(out: Path, n: int, *more: str, seconds: float = 1.0, fmt: str = "mp4") -> None:
    _ff(*_picture(n, seconds), *H264, *more, "-f", fmt, str(out))


def _moov_missing(out: Path, scratch: Path) -> None:
    """Recorded with the index at the end (as cameras write it) and cut at 70%: the moov never made it."""
    full = scratch / "moov-at-end.mp4"
    _ff(*_picture(20, 4.0), *H264, "-f", "mp4", str(full))
    data = full.read_bytes()
    cut = int(len(data) * 0.7)
    assert data.find(b"mdat") < data.find(b"moov") and data.find(b"moov") > cut, "needs the moov at the end"
    out.write_bytes(data[:cut])


def _twenty_audio_tracks(out: Path) -> None:
    maps = [arg for i in range(20) for arg in ("-map", "1:a")]
    _ff(*_picture(21), *_tone(), "-map", "0:v", *maps, *H264, "-c:a", "aac", "-b:a", "32k", "-f", "mp4", str(out))


def _iphone_tags(out: Path) -> None:
    """QuickTime as a phone writes it: Apple make/model/location/date in the Keys atom."""
    tags = {
        "com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15 Pro",
        "com.apple.quicktime.software": "17.4.1",
        "com.apple.quicktime.location.ISO6709": "+48.8584+002.2945+035.000/",
        "com.apple.quicktime.creationdate": "2024-05-03T12:11:12+0200", "creation_time": RECORDED,
    }
    metadata = [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]
    _ff(*_picture(23), *_tone(), *H264, "-c:a", "aac", *metadata, "-movflags", "use_metadata_tags",
        "-f", "mov", str(out))


def _build_file(name: str, out: Path, scratch: Path, lying: dict[str, Path]) -> None:
    """One regular file of the corpus, written to out."""
    from_lying = {"front-index-cut-30pc.mp4": "front_index_cut.mp4", "one-frame.mp4": "one_frame.mp4",
                  "zero-duration.mp4": "zero_duration.mp4", "huge-duration.mkv": "huge_duration.mkv",
                  "no-decoder.mov": "no_decoder.mov"}
    if name in from_lying:
        out.write_bytes(lying[from_lying[name]].read_bytes())
    elif name == "zero-byte.mp4":
        out.write_bytes(b"")
    elif name == "moov-missing.mp4":
        _moov_missing(out, scratch)
    elif name == "random-bytes.mp4":
        out.write_bytes(random.Random(8).randbytes(200_000))
    elif name == "text.mkv":
        out.write_text("shot list\n1. wide\n2. close-up\n")
    elif name == "png-image.mp4":
        _ff("-f", "lavfi", "-i", "testsrc2=size=64x64", "-frames:v", "1", "-c:v", "png", "-f", "image2pipe", str(out))
    elif name.startswith("audio-only"):
        _ff(*_tone(), "-c:a", "aac", "-f", "ipod" if name.endswith(".m4a") else "mp4", str(out))
    elif name == "twenty-audio-tracks.mp4":
        _twenty_audio_tracks(out)
    elif name in NAMED_CLIPS:
        _clip(out, NAMED_CLIPS[name])
    elif name == DEEP:
        _clip(out, 22)
    elif name == "dated.mp4":
        _clip(out, 24, "-metadata", f"creation_time={RECORDED}")
    elif name == "iphone-tags.mov":
        _iphone_tags(out)
    else:
        raise KeyError(name)


def _make_special(name: str, path: Path, root: Path) -> None:
    if name == "loop":
        path.symlink_to(root, target_is_directory=True)
    elif name == "dangling.mp4":
        path.symlink_to(root.parent / "unmounted card" / "A001.mp4")
    elif name == "fifo.mp4":
        make_fifo(path)
    elif name == "device.mov":
        path.symlink_to("/dev/null")
    else:
        raise KeyError(name)


SPECIAL = ("loop", "dangling.mp4", "fifo.mp4", "device.mov")


def make_hostile_corpus(folder: Path) -> HostileCorpus:
    """Every EXPECTED entry under folder/corpus (made once per folder; the lying media come from
    tests/tech_media.py's make_lying_media)."""
    from tests.tech_media import make_lying_media

    root = folder / "corpus"
    lying = make_lying_media(folder / "lying")
    files: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
        for name in EXPECTED:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if not os.path.lexists(path):
                if name in SPECIAL:
                    _make_special(name, path, root)
                else:
                    _build_file(name, path, Path(scratch), lying)
            files[name] = path
    return HostileCorpus(root=root, files=files, expected=dict(EXPECTED))
