"""Chatapp: a self-hosted AI chatbot platform."""

__version__ = "0.1.0"
