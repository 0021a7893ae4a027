"""The three probes as Dagster resources, for technical_metadata: each is its reader in media/ with Dagster's
configuration and lifecycle on top (the readers stay importable, and testable, without Dagster)."""

from dagster import ConfigurableResource, InitResourceContext

from catalog_resources.media.exiftool import ExifToolReader
from catalog_resources.media.mediainfo import MediaInfoReader
from catalog_resources.media.pyav import PyAVReader


class PyAVProbe(ConfigurableResource, PyAVReader):
    """Resource "pyav": PyAVReader (media/pyav.py) configured per run; `probe(path)` returns its raw dict."""


class MediaInfoProbe(ConfigurableResource, MediaInfoReader):
    """Resource "mediainfo": MediaInfoReader (media/mediainfo.py); `probe(path)` returns MediaInfo's tracks."""


class ExifToolProbe(ConfigurableResource, ExifToolReader):
    """Resource "exiftool": ExifToolReader (media/exiftool.py), whose one exiftool process serves the whole
    run: started on the first file, ended when the run's resources are torn down."""

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._helper = None  # started lazily on the first file

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()
