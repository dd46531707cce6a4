"""Schemathesis over every operation of /api/openapi.json against the API under granian: no 5xx,
answers that match the schema. `bench/fuzz.py` runs the same with more examples per operation."""

from __future__ import annotations

import pytest

from chatapp.api.app import create_api
from tests.utils.databases import postgres_database
from tests.utils.fuzz import fuzz_operation, load_schema, operations
from tests.utils.world_stack import api_routes, world_stack

pytestmark = pytest.mark.fuzz

# Per operation, mode and database: the whole file stays around two minutes on 2 cores.
EXAMPLES = {"positive": 10, "negative": 5}
OPERATIONS = operations(load_schema())
REACHED: dict[str, dict[int, int]] = {}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(request, tmp_path_factory):
    """PostgreSQL too: it refuses what SQLite takes (NUL in text, ids beyond 32 bits)."""
    data_dir = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    if request.param == "sqlite":
        with world_stack(data_dir) as served:
            yield served
        return
    with postgres_database() as url, world_stack(data_dir, url) as served:
        yield served


def test_the_schema_lists_every_route():
    """A route hidden from the schema would escape the fuzzer: only the docs page may be."""
    served = {
        (m, path)
        for path, methods, route in api_routes(create_api())
        if getattr(route, "include_in_schema", True)
        for m in methods - {"HEAD"}
    }
    fuzzed = {(op.method.upper(), op.path) for op in OPERATIONS}
    assert served == fuzzed


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_operation_survives_fuzzing(stack, op):
    base, a, _b = stack
    result = fuzz_operation(op, base, a, EXAMPLES["positive"])
    for status, count in result.statuses.items():
        REACHED.setdefault(op.label, {}).setdefault(status, 0)
        REACHED[op.label][status] += count
    assert result.examples > 0
    invalid = fuzz_operation(op, base, a, EXAMPLES["negative"], mode="negative")
    assert not result.failures + invalid.failures, "\n".join(result.failures + invalid.failures)


def test_fuzzing_got_past_authentication():
    """Steering must work: 70 % of operations answered 2xx at least once (real ids and keys;
    some cannot: login with a guessed password, random avatar names, DELETEs of deleted rows),
    otherwise the fuzzer only exercised the 401/404 paths."""
    if len(REACHED) < len(OPERATIONS):
        pytest.skip("runs after the whole fuzz (run the file, not one case)")
    succeeded = [
        label
        for label, statuses in REACHED.items()
        if any(200 <= s < 300 or s == 303 for s in statuses)  # 303: the cookie routes' success
    ]
    assert len(succeeded) >= 0.7 * len(OPERATIONS), sorted(set(REACHED) - set(succeeded))
