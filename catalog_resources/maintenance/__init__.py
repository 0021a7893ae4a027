"""Keeping the catalog true to the disk: verify the originals, relink moved drives, forget clips."""
