"""A bot's knowledge: sources in, chunks and vectors stored, passages out."""
