"""The vector index: vectors in the database by default, a Qdrant server to scale out."""
