"""The machine a catalog runs on, checked without loading a model or Dagster: tools, model files, disk, database.

Used by `video-catalog system status` and `system healthchecks`; the Dagster half (instance, daemon, sensor, runs)
is in catalog_assets/system_tasks.py, where Dagster may be imported.
"""
