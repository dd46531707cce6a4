"""How the suite splits across pytest-xdist workers (scripts/test.sh runs `-n 4`).

A unit of work is a test module (its module-scoped servers start once; the fuzz module is two
units, one per database), except for groups that must stay on one worker: the browser tests of
each dashboard app (`app_server`: two apps of one production build, each group's tests in one
app, the first-run tests before the rest of theirs) and the tests on the machine's shared Redis,
whose pub/sub channels are global. The controller
only sees test ids, so the groups are named by module path here; each worker checks, as it
collects, that the paths match the fixtures and markers the tests really use, so a new module
cannot silently run beside its group.

Units start longest first (`UNIT_SECONDS`): xdist's default order, by number of tests, left the
few long browser and fault tests for last, where one worker ran on alone for minutes.
"""

from __future__ import annotations

import pytest

DASHBOARD_APP = "dashboard_app"
DASHBOARD_APP_2 = "dashboard_app_2"
SHARED_REDIS = "shared_redis"
# Browser modules that use the shared app, besides tests/e2e/*.py (all of which do).
DASHBOARD_APP_MODULES = (
    "tests/e2e/widget/test_widget_actions.py",
    "tests/e2e/widget/test_widget_real_app.py",
)
# The browser modules the second dashboard app runs (the others run in the first): chosen so the
# two groups take about as long.
DASHBOARD_APP_2_MODULES = (
    "tests/e2e/test_sources_page.py",
    "tests/e2e/test_analytics_page.py",
    "tests/e2e/test_settings_page.py",
    "tests/e2e/test_connect_page.py",
    "tests/e2e/test_contacts_page.py",
    "tests/e2e/test_activity_page.py",
)
SHARED_REDIS_MODULES = (
    "tests/api/test_live_two_workers.py",
    "tests/api/test_several_processes.py",
    "tests/services/chat/test_chat_limits.py",
    "tests/services/live/test_live.py",
)


FUZZ_MODULE = "tests/api/test_fuzz.py"
# Seconds of work per unit, summed from `--durations=0` of a 4-worker run on the 2-core machine
# (2026-12-07, 1,976 tests; each dashboard app's group includes the build it makes or awaits);
# a unit not listed counts DEFAULT_TEST_SECONDS per test. Only the order uses them.
UNIT_SECONDS = {
    "dashboard_app_2": 315,
    "dashboard_app": 287,
    "shared_redis": 164,
    "tests/services/contacts/test_contacts.py": 109,
    FUZZ_MODULE + "::postgres": 104,
    "tests/faults/test_kill_ingest.py": 86,
    FUZZ_MODULE + "::sqlite": 82,
    "tests/e2e/widget/test_widget_live.py": 78,
    "tests/services/chat/test_chat.py": 76,
    "tests/api/test_live_api.py": 60,
    "tests/state/test_state_isolation.py": 60,
    "tests/e2e/widget/test_widget_chat.py": 59,
    "tests/bench/test_load_sessions.py": 49,
    "tests/services/chat/test_chat_llm.py": 48,
    "tests/deploy/test_run_leaves_tree_clean.py": 45,
    "tests/faults/test_llm_faults.py": 44,
    "tests/faults/test_redis_down.py": 43,
    "tests/api/test_public_api.py": 42,
    "tests/api/test_tenant_matrix.py": 37,
    "tests/e2e/widget/test_widget_pages.py": 37,
    "tests/api/test_sources_api.py": 34,
    "tests/services/bots/test_routing.py": 31,
    "tests/api/test_chatbase_compat.py": 30,  # measured alone (one server, ~15 s of it setup)
    "tests/services/accounts/test_isolation.py": 26,
    "tests/api/test_schema_limits.py": 25,
    "tests/faults/test_postgres_restart.py": 25,
    "tests/services/ops/test_backup.py": 23,
    "tests/api/test_observability_process.py": 22,
    "tests/services/actions/test_in_chat.py": 22,
    "tests/faults/test_kill_stream.py": 22,
    "tests/services/knowledge/test_sources.py": 19,
    "tests/services/knowledge/index/test_embedded_index.py": 18,
    "tests/api/test_sqlite_concurrency.py": 17,
    "tests/api/test_admin_api.py": 16,
}
DEFAULT_TEST_SECONDS = 0.3


def group_of(nodeid: str) -> str:
    """The unit of work a test belongs to, from its id alone."""
    module = nodeid.split("::")[0]
    if module == FUZZ_MODULE:  # the module-scoped stack is per database: two independent halves
        return f"{module}::{'postgres' if '[postgres-' in nodeid else 'sqlite'}"
    if module in DASHBOARD_APP_2_MODULES:
        return DASHBOARD_APP_2
    top_level_browser = module.startswith("tests/e2e/") and module.count("/") == 2
    if top_level_browser or module in DASHBOARD_APP_MODULES:
        return DASHBOARD_APP
    if module in SHARED_REDIS_MODULES:
        return SHARED_REDIS
    return module


def uses_shared_app(item: pytest.Item) -> bool:
    """Whether the test uses tests/e2e/conftest.py's dashboard apps (a module may define an
    `app_server` of its own, with other settings: that one can run on any worker)."""
    definitions = item._fixtureinfo.name2fixturedefs.get("app_server")
    return bool(definitions) and definitions[-1].baseid == "tests/e2e"


def longest_first(items: list[pytest.Item]) -> None:
    """Order the items by their unit's expected seconds, longest first; a unit's own order (the
    first-run browser tests first, say) is kept."""
    counts: dict[str, int] = {}
    for item in items:
        unit = group_of(item.nodeid)
        counts[unit] = counts.get(unit, 0) + 1

    def seconds(unit: str) -> float:
        return UNIT_SECONDS.get(unit, counts[unit] * DEFAULT_TEST_SECONDS)

    items.sort(key=lambda item: -seconds(group_of(item.nodeid)))


def check_groups(items: list[pytest.Item]) -> None:
    """Fail the collection when a test's group does not match what it uses."""
    wrong = []
    for item in items:
        group = group_of(item.nodeid)
        if uses_shared_app(item) and group not in (DASHBOARD_APP, DASHBOARD_APP_2):
            wrong.append(f"{item.nodeid} uses app_server: add its module to DASHBOARD_APP_MODULES")
        if item.get_closest_marker("shared_redis") and group != SHARED_REDIS:
            wrong.append(f"{item.nodeid} is marked shared_redis: add it to SHARED_REDIS_MODULES")
        if group == SHARED_REDIS and not item.get_closest_marker("shared_redis"):
            wrong.append(f"{item.nodeid} is in SHARED_REDIS_MODULES but not marked shared_redis")
    if wrong:
        raise pytest.UsageError("tests/utils/parallel.py:\n" + "\n".join(wrong))


def scheduler(config, log):
    """xdist's scope scheduler with our units of work, in the order collected (longest first)."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # xdist would reorder by number of tests

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return GroupScheduling(config, log)
