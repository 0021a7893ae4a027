"""The media steps' Dagster resources: each is its engine in media/ with Dagster's configuration on top (the
engines stay importable, and testable, without Dagster)."""

from collections.abc import Callable, Sequence
from typing import TypeVar

from dagster import ConfigurableResource

from catalog_resources.media.ffmpeg import FFmpegTranscoder
from catalog_resources.media.folders import MediaFolders
from catalog_resources.media.frame_inspector import FrameMeter
from catalog_resources.media.thumbnails import ThumbnailMaker
from catalog_resources.work.clip_pool import clip_workers, map_clips

T = TypeVar("T")


class MediaStore(ConfigurableResource, MediaFolders):
    """Resource "media": MediaFolders (media/folders.py); `clip_dir(clip_id)` is where a clip's products go."""


class FFmpegRunner(ConfigurableResource, FFmpegTranscoder):
    """Resource "ffmpeg": FFmpegTranscoder (media/ffmpeg.py); `derive(...)` makes the proxy, audio and analysis
    stream in one decode."""


class Thumbnailer(ConfigurableResource, ThumbnailMaker):
    """Resource "thumbnailer": ThumbnailMaker (media/thumbnails.py); `extract(...)` writes the thumbnails and
    contact sheet."""


class FrameInspector(ConfigurableResource, FrameMeter):
    """Resource "frame_inspector": FrameMeter (media/frame_inspector.py); `analyze(...)` measures exposure,
    blur, noise and scene cuts."""


class ClipPool(ConfigurableResource):
    """Resource "clip_pool": how many clips of a batch a step works on at once (work/clip_pool.py);
    `workers` 0 means the cores this process may use."""

    workers: int = 0

    def map(self, work: Callable[[str], T], clip_ids: Sequence[str]) -> dict[str, T]:
        """{clip_id: work(clip_id)} in the batch's order, clips side by side."""
        return map_clips(work, list(clip_ids), clip_workers(self.workers))
