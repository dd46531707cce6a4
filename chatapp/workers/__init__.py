"""Background work that runs beside the servers: ingestion (and retention's sweep)."""
