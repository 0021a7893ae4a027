"""The commands, one module per family: `ingest`, `clips` (list, show, open, transcript), `search` (search,
similar), `pipeline` (refresh, steps), `prompt`, `db`, `ui`. `catalog_cli.main` registers them on the app.

A command body imports the heavy layers it needs (Dagster, the embedding model) inside itself, so that
importing every command module to build the app stays cheap and read-only commands start fast."""
