"""`video-catalog web`: the catalog in a browser (catalog_cli/web/), served by uvicorn on 127.0.0.1:8700.

The command resolves the catalog once (starting the embedded server and migrating, as `list` does), checks the
port, warns when it listens beyond this machine, warms the query embedder in the background so the first search
does not wait for the model, and serves until Ctrl-C.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from typing import Annotated

import typer

from catalog_cli.common import catalog_db, cli_settings, handles_errors
from catalog_cli.errors import CliFault
from catalog_cli.render import err
from catalog_cli.render.text import literal

DEFAULT_PORT = 8700


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Bind once, as uvicorn will: a port in use is one line naming it and the fix, before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliFault(f"port {port} on {host} is already in use (another `video-catalog web`?); stop that "
                               f"program or choose another port, e.g. video-catalog web --port {port + 1 if port < 65535 else DEFAULT_PORT}") from None
            raise CliFault(f"cannot listen on {host} port {port}: {exc.strerror}") from None


def login_server(settings, endpoint) -> str:
    """HOST:PORT where a shared catalog's server checks the web catalog's logins: the session's server on a
    colleague's machine, else this machine's embedded server on its TCP address (`db start --listen`)."""
    if endpoint.session is not None:
        from catalog_resources.auth.session import load

        session = load()
        return f"{session.host}:{session.port}"
    if settings.db_listen and not settings.database_url:
        from catalog_resources.store.embedded_server import parse_listen

        listen_host, listen_port = parse_listen(settings.db_listen)
        return f"{'127.0.0.1' if listen_host in ('*', '0.0.0.0', '::') else listen_host}:{listen_port}"
    if settings.database_url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.database_url)
        return f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    raise CliFault("this catalog is shared, so the web catalog asks each person to log in, and the server checks "
                   "passwords over TCP: start it with `video-catalog db start --listen 127.0.0.1:5433` (or any "
                   "address), then run `video-catalog web` again")


def _warm(embedder) -> None:
    """Load the query model now, off the request path (a failure shows on the first search instead)."""
    try:
        embedder.embed_query("warm up")
    except Exception:  # noqa: BLE001 - the search page reports a model problem itself
        pass


@handles_errors
def web(
    host: Annotated[str, typer.Option(help="Address to listen on; the default serves this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = DEFAULT_PORT,
) -> None:
    """Browse, search and play the catalog in a web browser: search, library and clip pages, and a JSON API.

    Pages: / (search, with the filters of `list` and the inline query syntax), /library (`list`, sorted and paged),
    /clip/<id>?t=<seconds> (the proxy from that moment, transcript, scenes, metadata, people, similar clips;
    tags and collections can be changed there), /people (who the faces step found; name them), /api/docs.
    A shared catalog (`auth init`) asks each person to log in at /login; they see their own clips only.

    Examples:
      video-catalog web                     # then open http://127.0.0.1:8700
      video-catalog web --port 9000
    """
    import uvicorn

    from catalog_cli.web.app import create_app
    from catalog_resources.search.session import query_embedder

    check_port(host, port)
    settings = cli_settings()
    endpoint, db, _applied = catalog_db()
    embedder = query_embedder(settings, check=False)
    logins = None
    if db.team_state()["team"]:
        from catalog_cli.web.logins import Logins

        logins = Logins(login_server(settings, endpoint), embedder)
    app = create_app(endpoint.catalog_url, settings.media_dir, embedder, settings.home / "web.secret", logins)
    threading.Thread(target=_warm, args=(embedder,), daemon=True, name="warm-embedder").start()
    if logins is not None:
        err.print(f"A shared catalog: each person logs in (at /login, checked by the server at {literal(logins.server)}) "
                  "and sees their own clips.", highlight=False, soft_wrap=True)
    elif not is_loopback(host):
        err.print(f"[bold yellow]warning:[/] listening on {literal(host)}: anyone who can reach this machine can see "
                  "and play the whole catalog (a single-user catalog asks for no login; `auth init` makes it shared, "
                  "with logins). Use --host 127.0.0.1 to keep it private.", highlight=False, soft_wrap=True)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"Web catalog on http://{literal(shown)}:{port} (catalog {literal(str(settings.home))}); Ctrl-C stops it.",
              highlight=False, soft_wrap=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
