"""The media steps' Dagster resources: each is its engine in media/ with Dagster's configuration on top (the
engines stay importable, and testable, without Dagster)."""

from dagster import ConfigurableResource

from catalog_resources.media.ffmpeg import FFmpegTranscoder
from catalog_resources.media.folders import MediaFolders
from catalog_resources.media.frame_inspector import FrameMeter
from catalog_resources.media.thumbnails import ThumbnailMaker


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
