"""`video-catalog web`: the catalog in a browser. A FastAPI app (app.py) with server-rendered Jinja2 pages
(pages.py), a JSON API under /api/ (api.py) and media served by clip id (media_routes.py), all reading the
catalog through service.py, which calls the same search, list and show functions as the CLI. No Typer or Rich
here: the command (catalog_cli/commands/web.py) starts uvicorn on the app this package makes."""
