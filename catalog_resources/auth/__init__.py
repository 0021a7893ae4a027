"""Users of a shared catalog: PostgreSQL login roles, their SCRAM verifiers, and the names the catalog gives them."""
