"""Schemathesis over the Chatbase-compatible API, from Chatbase's own v1 shapes
(tests/data/chatbase/chatbase_v1.yaml), against a real server on loopback.

Generated requests are steered towards a real chatbot and the workspace's API token (most of
the time; the rest stay as generated, so refusals are exercised too). Checks: no 5xx, answers
that match Chatbase's schema, and every refusal in Chatbase's error shape `{"message": str}`
(their schema leaves `message` optional; a client reads it, so it must be there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "chatbase" / "chatbase_v1.yaml"


@schemathesis.check
def message_on_refusals(ctx, response, case) -> bool | None:
    """A refusal carries Chatbase's `{"message": "<words>"}`."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str), response.text[:200]
    assert body["message"].strip(), "an empty message"
    return None


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
CHECKS.append(message_on_refusals)


def load_operations() -> list:
    """Every operation of the schema; the DELETE last, so it does not remove the chatbot the
    others are fuzzing."""
    schema = schemathesis.openapi.from_dict(yaml.safe_load(SCHEMA.read_text()))
    # NUL in text is refused by the API-wide guard before any route (422 {"detail"}), documented
    # in docs/API.md; the fuzzer is not to spend its examples there.
    schema.config.generation.update(allow_x00=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: (op.method.upper() == "DELETE", op.path))


@dataclass
class Outcome:
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def fuzz(op, base: str, token: str, chatbot_id: str, examples: int, mode: str) -> Outcome:
    """`examples` generated cases of `op` against `base` (Chatbase's base URL on our server)."""
    outcome = Outcome()
    http = requests.Session()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(case=op.as_strategy(generation_mode=GenerationMode(mode)), data=st.data())
    def run(case, data):
        for container in (case.body, case.query):
            real = data.draw(st.integers(0, 9), label="real chatbot") < 8
            if isinstance(container, dict) and "chatbotId" in container and real:
                container["chatbotId"] = chatbot_id
        if data.draw(st.integers(0, 9), label="credentials") < 9:
            case.headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=base, session=http, timeout=60)
        outcome.examples += 1
        outcome.statuses[response.status_code] = outcome.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:
            first = " | ".join(str(exc).strip().splitlines()[:6])
            outcome.failures.append(f"{first} :: {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        pass  # negative mode: nothing invalid to make of an operation without inputs
    finally:
        http.close()
    return outcome
