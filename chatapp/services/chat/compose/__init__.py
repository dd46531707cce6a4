"""Offline answers: which sentences of the passages answer, and how they are quoted."""
