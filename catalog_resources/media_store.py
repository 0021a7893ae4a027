"""Where a clip's binary products live: <home>/media/<clip id>/ (never next to the originals)."""

from pathlib import Path

from dagster import ConfigurableResource


class MediaStore(ConfigurableResource):
    media_dir: str

    def clip_dir(self, clip_id: str) -> Path:
        path = Path(self.media_dir) / clip_id
        path.mkdir(parents=True, exist_ok=True)
        return path
