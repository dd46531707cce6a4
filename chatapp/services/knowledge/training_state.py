"""A bot's training in one word, for lists of bots (an API's list, the whole workspace at once):
`training` while any of its sources is queued or being processed, `failed` when it has sources
and none was trained but some failed, `ready` otherwise (a bot without sources included).

One grouped count over the workspace's sources, whatever the number of bots.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.services.accounts.tenancy import Actor, Permission
from chatapp.services.models import Source, SourceStatus

TRAINING, READY, FAILED = "training", "ready", "failed"


def training_states(session: Session, actor: Actor, bot_ids: list[int]) -> dict[int, str]:
    """Each of `bot_ids` (of the actor's workspace) with its state in one word."""
    actor.require(Permission.READ)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if bot_ids:
        rows = session.exec(
            select(Source.bot_id, Source.status, func.count())
            .where(Source.workspace_id == actor.workspace_id, col(Source.bot_id).in_(bot_ids))
            .group_by(col(Source.bot_id), col(Source.status))
        )
        for bot_id, status, count in rows:
            counts[bot_id][status] = count
    return {bot_id: _state(counts.get(bot_id, {})) for bot_id in bot_ids}


def _state(by_status: dict[str, int]) -> str:
    if by_status.get(SourceStatus.QUEUED) or by_status.get(SourceStatus.PROCESSING):
        return TRAINING
    if by_status.get(SourceStatus.ERROR) and not by_status.get(SourceStatus.READY):
        return FAILED
    return READY
