"""Schemathesis over every operation of our OpenAPI schema, against a real server on loopback.

Generated cases are steered towards real data: most path ids, public bot ids, widget keys and
session ids are swapped for those of prepared workspace a (tests/utils/tenant_world.py), and
credentials are added (an owner's login token on /api/v1, the widget key on public routes, as
a bearer on the OpenAI-compatible ones, whose `model` is the bot's public id), so
the fuzzer gets past authentication into the services instead of collecting 401s and 404s.

Checks: `not_a_server_error` everywhere; `response_schema_conformance` on JSON answers. Mode
"positive" sends valid requests, "negative" invalid ones (which must be 4xx, never 5xx). Endless
event streams (`.../events`) are read for a bounded time through `world_stack.call`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from chatapp.api.app import create_api
from tests.utils.tenant_world import World
from tests.utils.world_stack import call

CHECKS = [not_a_server_error, response_schema_conformance]


def load_schema():
    return schemathesis.openapi.from_dict(create_api().openapi())


def operations(schema) -> list:
    """Every operation; DELETEs last, so they do not remove what the others are fuzzing."""
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))


def is_endless_stream(op) -> bool:
    return op.path.endswith("/events")


@dataclass
class OperationResult:
    label: str
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _real_ids(world: World, public: bool) -> dict[str, Any]:
    return {
        "workspace_id": world.workspace_id,
        "bot_id": world.public_id if public else world.bot_id,
        "source_id": world.source_id,
        "conversation_id": world.conversation_id,
        "action_id": world.lead_action_id,
        "token_id": world.api_token_id,
        "invitation_id": world.invitation_id,
        "user_id": world.user_ids["agent"],
        "message_id": world.answer_message_id,
    }


def steer(case, world: World, bearer: str, data) -> None:
    """Swap generated ids and credentials for real ones, each with high probability."""
    public = not case.operation.path.startswith("/api/v1/")
    real = _real_ids(world, public)
    for name in list(case.path_parameters or {}):
        if name in real and data.draw(st.integers(0, 9), label=f"real {name}") < 8:
            case.path_parameters[name] = real[name]
    visitor = {"bot_id": world.public_id, "api_key": world.widget_key, "key": world.widget_key}
    visitor["session_id"] = world.session_id
    visitor["model"] = world.public_id  # the OpenAI-compatible API names the bot as its model
    for container in (case.body, case.query):
        if isinstance(container, dict):
            for name, value in visitor.items():
                if name in container and data.draw(st.integers(0, 9), label=name) < 8:
                    container[name] = value
    if data.draw(st.integers(0, 9), label="credentials") < 9:
        case.headers = dict(case.headers or {})
        case.headers.pop("authorization", None)
        case.headers.pop("Authorization", None)
        if case.operation.path.startswith("/api/openai/"):  # OpenAI's clients send a bearer
            case.headers["Authorization"] = f"Bearer {world.widget_key}"
        elif public:
            case.headers["X-Widget-Key"] = world.widget_key
        else:
            case.headers["Authorization"] = f"Bearer {bearer}"


def _stream_status(case, base: str) -> tuple[int, str]:
    kwargs = case.as_transport_kwargs(base_url=base)
    method, url = kwargs.pop("method"), kwargs.pop("url")
    kwargs.pop("cookies", None)
    with httpx.Client(timeout=30) as client:
        reply = call(  # the status and first frames are what is checked; keep-alives every 0.2 s
            client,
            method,
            url,
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            stream_seconds=0.1,
        )
    return reply.status, reply.text


def _bearer(op, world: World) -> str:
    """The owner's login token, except for logout, which would revoke it: the viewer's there."""
    role = "viewer" if op.path == "/api/v1/auth/logout" else "owner"
    return world.login_tokens[role]


def fuzz_operation(
    op, base: str, world: World, max_examples: int, mode: str = "positive"
) -> OperationResult:
    """Run `max_examples` generated cases against one operation; failures are collected (one line
    each, with a curl command to reproduce), not raised, so a run reports every operation."""
    result = OperationResult(op.label)
    session = requests.Session()

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,  # stdout is the bench's JSON; failures are collected
        print_blob=False,
    )
    @given(case=op.as_strategy(generation_mode=GenerationMode(mode)), data=st.data())
    def run(case, data):
        steer(case, world, _bearer(op, world), data)
        result.examples += 1
        if is_endless_stream(op):
            status, text = _stream_status(case, base)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status >= 500:
                result.failures.append(f"{status} {text[:200]} :: {case.as_curl_command()}")
            return
        response = case.call(base_url=base, session=session, timeout=30)
        result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:
            first = str(exc).strip().splitlines()[:6]
            result.failures.append(" | ".join(first) + f" :: {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        pass  # negative mode: an operation without inputs has no invalid request to make
    finally:
        session.close()
    return result


def fuzz_all(base: str, world: World, max_examples: int, mode: str = "positive") -> dict:
    """Every operation; a JSON-ready summary."""
    schema = load_schema()
    started = time.monotonic()
    results = [fuzz_operation(op, base, world, max_examples, mode) for op in operations(schema)]
    return {
        "mode": mode,
        "operations": len(results),
        "examples": sum(r.examples for r in results),
        "failures": sum(len(r.failures) for r in results),
        "seconds": round(time.monotonic() - started, 1),
        "by_operation": {
            r.label: {"examples": r.examples, "statuses": r.statuses, "failures": r.failures}
            for r in results
        },
    }
