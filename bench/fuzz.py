"""Schemathesis over every operation of the API, with more examples than the test suite.

Prepares two workspaces (tests/utils/tenant_world.py), serves the real API under granian on
loopback (tests/utils/world_stack.py) and fuzzes each operation of /api/openapi.json with checks
`not_a_server_error` and `response_schema_conformance` (tests/utils/fuzz.py).

With --negative it also sends schemathesis' invalid requests (wrong types, missing fields, values
outside the schema), which must be refused with 4xx, never 5xx.

Usage: .venv/bin/python bench/fuzz.py [--examples 100] [--negative] [--details]
       [--database-url postgresql://postgres@127.0.0.1:5432/an_empty_database]
Prints one JSON object: per mode, operations, examples, failures, seconds (and statuses per
operation with --details). Exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.utils.fuzz import fuzz_all  # noqa: E402
from tests.utils.world_stack import world_stack  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation")
    parser.add_argument("--negative", action="store_true", help="also invalid requests")
    parser.add_argument("--details", action="store_true", help="statuses per operation")
    parser.add_argument(
        "--database-url", default=None, help="e.g. a PostgreSQL URL (default: SQLite file)"
    )
    args = parser.parse_args()
    modes = ["positive", "negative"] if args.negative else ["positive"]
    report = {"examples_per_operation": args.examples}
    with (
        tempfile.TemporaryDirectory() as data_dir,
        world_stack(Path(data_dir), args.database_url) as (
            base,
            a,
            _b,
        ),
    ):
        for mode in modes:
            report[mode] = fuzz_all(base, a, args.examples, mode)
    failed = False
    for mode in modes:
        by_operation = report[mode]["by_operation"]
        failing = {k: v["failures"] for k, v in by_operation.items() if v["failures"]}
        failed = failed or bool(failing)
        if not args.details:
            report[mode]["by_operation"] = failing
    print(json.dumps(report, indent=1 if args.details else None))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
