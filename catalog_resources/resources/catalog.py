"""The catalog as a Dagster resource: the same queries as CatalogDB, configured by URL."""

from dagster import ConfigurableResource

from catalog_resources.store.catalog import CatalogQueries


class CatalogResource(ConfigurableResource, CatalogQueries):
    """The Dagster resource: CatalogQueries for assets, checks, the IO manager and the sensor."""

    database_url: str
