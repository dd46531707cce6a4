"""Ingestion: turn a source (file, text, URL, site) into clean text and chunks."""
