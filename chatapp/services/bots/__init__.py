"""Bots and their settings: fields, avatars, audiences, routing, quota, LLM provider."""
