"""Run a state's event handler under pytest as Reflex would: sync, async, generator or not."""

from __future__ import annotations

import asyncio
import inspect


def run(result) -> list:
    """Run a handler's result to its end; what it returned or yielded, as a list."""
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    if inspect.isasyncgen(result):
        result = asyncio.run(_drain(result))
    if result is None:
        return []
    if isinstance(result, list):
        return [event for event in result if event is not None]
    if hasattr(result, "__next__"):
        return [event for event in result if event is not None]
    return [result]


async def _drain(agen) -> list:
    return [event async for event in agen if event is not None]
