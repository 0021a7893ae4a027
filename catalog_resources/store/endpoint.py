"""Which Postgres the catalog and Dagster use: the embedded server by default, or an external URL."""

from __future__ import annotations

from pydantic import BaseModel

from catalog_resources.store.embedded_server import CATALOG_DB, DAGSTER_DB, EmbeddedPostgres
from catalog_resources.settings import CatalogSettings, open_private_home


class DatabaseEndpoint(BaseModel):
    catalog_url: str
    dagster_url: str  # always postgresql+psycopg2://: a bare postgresql:// makes SQLAlchemy pick psycopg 3
    embedded: bool
    session: str | None = None  # the e-mail of the login session (`auth login`) the catalog URL acts for


def _for_libpq(url: str) -> str:
    """SQLAlchemy writes a space in the query as `+`, which libpq takes literally (`options=-c+role=...`); a `+` of
    the value itself it writes as %2B, so every `+` there is a space."""
    head, mark, query = url.partition("?")
    return head + mark + query.replace("+", "%20")


def embedded_server(settings: CatalogSettings) -> EmbeddedPostgres:
    return EmbeddedPostgres(settings.pg_dir, settings.pg_runtime_root, listen=settings.db_listen)


def resolve_database(settings: CatalogSettings, *, start: bool = True) -> DatabaseEndpoint:
    """The URLs to use; with the embedded server, start it first when `start` (milliseconds if it runs).

    Every process that works on a catalog comes through here (CLI, Dagster's code server and run workers via
    the definitions), so this is where the home is opened private (umask 077, home narrowed to 0700).
    """
    open_private_home(settings.home)
    if not settings.database_url:
        from catalog_resources.auth.session import load

        session = load()  # logged in to a shared catalog (`auth login`): that catalog, as that user
        if session is not None:
            # the runs of this machine are this machine's: Dagster's storage is the local embedded server's (the
            # shared catalog's Dagster storage stays its admin's); the catalog rows go to the shared catalog
            server = embedded_server(settings)
            if start:
                server.ensure_running()
            return DatabaseEndpoint(catalog_url=session.url(), embedded=False, session=session.email,
                                    dagster_url=server.url(DAGSTER_DB, driver="psycopg2"))
    if settings.database_url:
        from sqlalchemy.engine import make_url  # only here: importing SQLAlchemy costs a fifth of a second

        url = make_url(settings.database_url)
        dagster = (
            make_url(settings.dagster_database_url)
            if settings.dagster_database_url
            else url.set(database=DAGSTER_DB)
        ).set(drivername="postgresql+psycopg2")
        catalog = url.set(drivername="postgresql")
        return DatabaseEndpoint(
            catalog_url=_for_libpq(catalog.render_as_string(hide_password=False)),
            dagster_url=dagster.render_as_string(hide_password=False),
            embedded=False,
        )
    server = embedded_server(settings)
    if start:
        server.ensure_running()
    return DatabaseEndpoint(
        catalog_url=server.url(CATALOG_DB), dagster_url=server.url(DAGSTER_DB, driver="psycopg2"), embedded=True
    )
