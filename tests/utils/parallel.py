"""How the suite splits across pytest-xdist workers (scripts/test.sh runs `-n 4`).

A unit of work is a test module (its module-scoped servers start once), except for two groups
that must stay on one worker: the browser tests of the shared production app (`app_server`: one
app, one build, first-run tests before the rest) and the tests on the machine's shared Redis,
whose pub/sub channels are global. The controller only sees test ids, so the groups are named by
module path here; each worker checks, as it collects, that the paths match the fixtures and
markers the tests really use, so a new module cannot silently run beside its group.
"""

from __future__ import annotations

import pytest

DASHBOARD_APP = "dashboard_app"
SHARED_REDIS = "shared_redis"
# Browser modules that use the shared app, besides tests/e2e/*.py (all of which do).
DASHBOARD_APP_MODULES = (
    "tests/e2e/widget/test_widget_actions.py",
    "tests/e2e/widget/test_widget_real_app.py",
)
SHARED_REDIS_MODULES = (
    "tests/api/test_live_two_workers.py",
    "tests/api/test_several_processes.py",
    "tests/services/chat/test_chat_limits.py",
    "tests/services/live/test_live.py",
)


def group_of(nodeid: str) -> str:
    """The unit of work a test belongs to, from its id alone."""
    module = nodeid.split("::")[0]
    top_level_browser = module.startswith("tests/e2e/") and module.count("/") == 2
    if top_level_browser or module in DASHBOARD_APP_MODULES:
        return DASHBOARD_APP
    if module in SHARED_REDIS_MODULES:
        return SHARED_REDIS
    return module


def uses_shared_app(item: pytest.Item) -> bool:
    """Whether the test uses tests/e2e/conftest.py's session-wide app (a module may define an
    `app_server` of its own, with other settings: that one can run on any worker)."""
    definitions = item._fixtureinfo.name2fixturedefs.get("app_server")
    return bool(definitions) and definitions[-1].scope == "session"


def check_groups(items: list[pytest.Item]) -> None:
    """Fail the collection when a test's group does not match what it uses."""
    wrong = []
    for item in items:
        group = group_of(item.nodeid)
        if uses_shared_app(item) and group != DASHBOARD_APP:
            wrong.append(f"{item.nodeid} uses app_server: add its module to DASHBOARD_APP_MODULES")
        if item.get_closest_marker("shared_redis") and group != SHARED_REDIS:
            wrong.append(f"{item.nodeid} is marked shared_redis: add it to SHARED_REDIS_MODULES")
        if group == SHARED_REDIS and not item.get_closest_marker("shared_redis"):
            wrong.append(f"{item.nodeid} is in SHARED_REDIS_MODULES but not marked shared_redis")
    if wrong:
        raise pytest.UsageError("tests/utils/parallel.py:\n" + "\n".join(wrong))


def scheduler(config, log):
    """xdist's scope scheduler with our units of work (the shared app's group is collected
    first: it is the longest, so it starts first)."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return GroupScheduling(config, log)
