"""Where a clip's binary products live: <home>/media/<clip id>/ (never next to the originals)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from catalog_resources.settings import PRIVATE_UMASK


class MediaFolders(BaseModel):
    media_dir: str

    def clip_dir(self, clip_id: str) -> Path:
        """The clip's folder, 0700; the products written into it (by us, PIL or ffmpeg, which inherits the
        umask) come out 0600, whichever process made this object."""
        os.umask(PRIVATE_UMASK)
        path = Path(self.media_dir) / clip_id
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path
