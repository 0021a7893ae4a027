"""The media store as the web catalog reads it: a clip's proxy, thumbnails and contact sheet, found by clip id.

No request parameter ever becomes a filesystem path. The clip id must be one the catalog knows (checked by the
caller against the database) and is one folder name under <home>/media; which files may be served is read from
the clip's own sidecars (proxy.json, thumbnails.json), and a requested image name is only a key into that list.
Every file is resolved (symlinks followed) and must still lie inside the clip's folder in the media store, so
a symlink planted in the store that leads out of it is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


PRODUCT_FOLDERS = frozenset({"thumbnails", "faces"})  # subfolders of a clip's folder that products are written into


class MediaStore:
    def __init__(self, media_dir: Path) -> None:
        self.root = Path(media_dir)

    def _folder(self, clip_id: str) -> Path | None:
        """The clip's folder, resolved, when it lies directly inside the (resolved) media store."""
        root = self.root.resolve()
        folder = (root / clip_id).resolve()
        return folder if folder.parent == root and folder.is_dir() else None

    def sidecar(self, clip_id: str, product: str) -> dict[str, Any] | None:
        """A product's JSON sidecar (proxy, thumbnails), or None when the step has not run (or it is unreadable)."""
        folder = self._folder(clip_id)
        if folder is None:
            return None
        try:
            return json.loads(self._inside(folder, f"{product}.json").read_text())  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            return None

    @staticmethod
    def _inside(folder: Path, recorded: str) -> Path | None:
        """The file a sidecar names, looked up by its place in the clip's folder (its name, under a product's
        subfolder such as thumbnails/; the store may have moved since the sidecar was written), when it is a
        regular file that resolves to inside that folder."""
        parts = Path(recorded).parts
        if not parts or parts[-1] in (".", "..", "/"):
            return None
        relative = Path(*parts[-2:]) if len(parts) >= 2 and parts[-2] in PRODUCT_FOLDERS else Path(parts[-1])
        real = (folder / relative).resolve()
        return real if real.is_relative_to(folder) and real != folder and real.is_file() else None

    def proxy(self, clip_id: str) -> Path | None:
        folder, made = self._folder(clip_id), self.sidecar(clip_id, "proxy")
        if folder is None or not made or not made.get("proxy_path"):
            return None
        return self._inside(folder, made["proxy_path"])

    def image_names(self, clip_id: str) -> dict[str, str]:
        """{file name: the path the sidecar recorded} of every image the thumbnails step made for the clip: each
        thumbnail size, the poster and the contact sheet. Keyframes of scenes are thumbnails too."""
        made = self.sidecar(clip_id, "thumbnails") or {}
        names: dict[str, str] = {}
        for thumb in made.get("thumbnails") or []:
            for path in (thumb.get("paths") or {}).values():
                names[Path(path).name] = path
        for key in ("poster_path", "contact_sheet_path"):
            if made.get(key):
                names[Path(made[key]).name] = made[key]
        return names

    def image(self, clip_id: str, name: str) -> Path | None:
        """The image called `name` when the clip's thumbnails sidecar lists it (the name is only a key into that
        list); else None."""
        folder = self._folder(clip_id)
        recorded = self.image_names(clip_id).get(name) if folder is not None else None
        return self._inside(folder, recorded) if recorded else None

    def small_image(self, clip_id: str, name: str) -> Path | None:
        """The smallest size of the thumbnail one of whose sizes is called `name` (the grid's posters); the
        contact sheet or an unlisted name as `image` answers."""
        made = self.sidecar(clip_id, "thumbnails") or {}
        for thumb in made.get("thumbnails") or []:
            paths = thumb.get("paths") or {}
            if name in {Path(p).name for p in paths.values()}:
                label = min(paths, key=lambda s: int(s) if str(s).isdigit() else 10**6)
                return self.image(clip_id, Path(paths[label]).name)
        return self.image(clip_id, name)

    def face(self, clip_id: str, recorded: str) -> Path | None:
        """A face crop of the clip, when the clip's own faces.json lists it (the faces step made it and `people
        forget` has not removed it); `recorded` is the path the catalog holds, matched against that list."""
        folder = self._folder(clip_id)
        made = self.sidecar(clip_id, "faces") or {}
        listed = {Path(t["crop_path"]).name for t in made.get("tracks") or [] if t.get("crop_path")}
        if folder is None or Path(recorded).name not in listed:
            return None
        return self._inside(folder, str(Path("faces") / Path(recorded).name))

    def thumbnails(self, clip_id: str) -> dict[str, Any]:
        """Names for the pages: the poster, the contact sheet, and the thumbnails (small size) in time order."""
        made = self.sidecar(clip_id, "thumbnails") or {}
        small = []
        for thumb in sorted(made.get("thumbnails") or [], key=lambda t: t.get("pts_seconds") or 0):
            paths = thumb.get("paths") or {}
            label = min(paths, key=lambda s: int(s) if str(s).isdigit() else 10**6) if paths else None
            if label:
                small.append({"name": Path(paths[label]).name, "seconds": thumb.get("pts_seconds") or 0.0})
        return {"poster": Path(made["poster_path"]).name if made.get("poster_path") else None,
                "contact_sheet": Path(made["contact_sheet_path"]).name if made.get("contact_sheet_path") else None,
                "thumbnails": small}


def image_name(recorded: str | None) -> str | None:
    """The name under which a recorded thumbnail or keyframe path is served (/media/<clip>/image/<name>)."""
    return Path(recorded).name if recorded else None
