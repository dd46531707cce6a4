"""Schemathesis over every operation of the API, with more examples than the test suite.

Prepares two workspaces (tests/utils/tenant_world.py), serves the real API under granian on
loopback (tests/utils/world_stack.py) and fuzzes each operation of /api/openapi.json with checks
`not_a_server_error` and `response_schema_conformance` (tests/utils/fuzz.py).

Usage: .venv/bin/python bench/fuzz.py [--examples 100] [--details]
Prints one JSON object: operations, examples, failures, seconds (and per operation with
--details). Exits 1 when a check failed.
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
    parser.add_argument("--details", action="store_true", help="statuses per operation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, world_stack(Path(data_dir)) as (base, a, _b):
        summary = fuzz_all(base, a, args.examples)
    failing = {k: v["failures"] for k, v in summary["by_operation"].items() if v["failures"]}
    if not args.details:
        summary["by_operation"] = failing
    summary["examples_per_operation"] = args.examples
    print(json.dumps(summary, indent=None if not args.details else 1))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
