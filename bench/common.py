"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port free on loopback at this moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
