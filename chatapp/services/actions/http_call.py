"""The HTTP action's call: parameters checked against the owner's JSON schema, the URL template
filled, then one request through the same SSRF guard as URL ingestion.

* `check_url` refuses internal addresses before connecting, and the guarded transport checks the
  address again at connect time (DNS rebinding); redirects are not followed.
* `timeout_seconds` bounds connecting and every read, and the whole call as a deadline;
  `max_response_bytes` refuses (never truncates) a bigger answer.
* secret header values are decrypted only here, for the request.
* the answer: JSON (optionally a field of it by `response_path`) or plain text, as a short text.
Failures raise `ActionFailed` (the service misbehaved) or `ActionRefused` (not allowed, bad
parameters), each with a sentence the owner understands.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from jsonschema import Draft202012Validator

from chatapp.core import security
from chatapp.core.errors import ServiceError, ValidationFailed
from chatapp.services.actions.common import ActionFailed, ActionRefused
from chatapp.services.actions.template_http import PLACEHOLDER, strip_extensions
from chatapp.services.knowledge.ingest.fetch import USER_AGENT, GuardedTransport
from chatapp.services.knowledge.ingest.urlguard import check_url

MAX_RESULT_CHARS = 2000
BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class HttpResult:
    status: int
    result: str  # what the answer and the model are given
    url: str  # the address called (no secrets in it: headers carry those)


def check_parameters(schema: dict[str, Any], params: dict[str, Any]) -> None:
    """Refuse parameters the schema does not accept, naming the first problems."""
    if not isinstance(params, dict):
        raise ActionRefused("The parameters must be a JSON object.")
    validator = Draft202012Validator(strip_extensions(schema or {}))
    problems = []
    for error in sorted(validator.iter_errors(params), key=lambda e: list(e.path))[:3]:
        where = ".".join(str(p) for p in error.path)
        problems.append(f"'{where}' {error.message}" if where else error.message)
    if problems:
        raise ActionRefused("The parameters are not valid: " + "; ".join(problems) + ".")


def render_url(template: str, params: dict[str, Any]) -> str:
    """The URL template with each `{name}` replaced by its value, escaped for a URL."""

    def fill(found) -> str:
        name = found.group(1)
        if name not in params:
            raise ActionRefused(f"The parameter '{name}' is needed for the address.")
        return quote(str(params[name]), safe="")

    return PLACEHOLDER.sub(fill, template)


def call(config: dict[str, Any], params: dict[str, Any]) -> HttpResult:
    """Make the configured request with these parameters; the result as text."""
    schema = config.get("parameters") or {}
    check_parameters(schema, params)
    method = config.get("method", "GET")
    url = render_url(config["url"], params)
    in_url = set(PLACEHOLDER.findall(config["url"]))
    rest = {k: v for k, v in params.items() if k not in in_url}
    try:
        url = check_url(url)
    except ValidationFailed as exc:
        raise ActionRefused(exc.message) from exc
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/plain;q=0.9"}
    headers["Accept-Encoding"] = "identity"
    for header in config.get("headers") or ():
        if header.get("secret"):
            headers[header["name"]] = security.decrypt_secret(header["value_encrypted"])
        else:
            headers[header["name"]] = header.get("value", "")
    timeout = float(config.get("timeout_seconds") or 10)
    limit = int(config.get("max_response_bytes") or 100_000)
    request: dict[str, Any] = {"headers": headers}
    if method in BODY_METHODS:
        request["json"] = rest
    elif rest:
        request["params"] = {k: str(v) for k, v in rest.items()}
    status, body, content_type = _send(method, url, request, timeout, limit)
    result = _result(body, content_type, config.get("response_path") or "")
    return HttpResult(status=status, result=result, url=url)


def _send(method: str, url: str, request: dict, timeout: float, limit: int):
    deadline = time.monotonic() + timeout
    too_slow = f"The service took longer than {timeout:g} seconds to answer."
    try:
        with (
            httpx.Client(
                transport=GuardedTransport(),
                follow_redirects=False,
                trust_env=False,
                timeout=httpx.Timeout(timeout),
            ) as client,
            client.stream(method, url, **request) as response,
        ):
            if not 200 <= response.status_code < 300:
                raise ActionFailed(
                    f"The service answered with an error (HTTP {response.status_code})."
                )
            declared = response.headers.get("content-length", "").strip()
            if declared.isdigit() and int(declared) > limit:
                raise ActionFailed(_too_big(limit))
            parts, total = [], 0
            for chunk in response.iter_raw():
                total += len(chunk)
                if total > limit:
                    raise ActionFailed(_too_big(limit))
                if time.monotonic() > deadline:
                    raise ActionFailed(too_slow)
                parts.append(chunk)
            return response.status_code, b"".join(parts), response.headers.get("content-type", "")
    except ServiceError as exc:
        if isinstance(exc, ValidationFailed):  # the guard refused at connect time
            raise ActionRefused(exc.message) from exc
        raise
    except httpx.TimeoutException as exc:
        raise ActionFailed(too_slow) from exc
    except httpx.ConnectError as exc:
        raise ActionFailed("Could not connect to the service at this address.") from exc
    except (httpx.HTTPError, OSError) as exc:
        raise ActionFailed("The call to the service failed before its answer arrived.") from exc


def _too_big(limit: int) -> str:
    return f"The answer was larger than {limit:,} bytes, the limit set for this action."


def _result(body: bytes, content_type: str, path: str) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        value: Any = json.loads(text) if text else None
        is_json = bool(text)
    except ValueError:
        value, is_json = text, False
    if path:
        if not is_json:
            raise ActionFailed(
                f"The service did not answer with JSON, so '{path}' cannot be read from it."
            )
        value = dig(value, path)
    if isinstance(value, str):
        result = value
    elif value is None and not is_json:
        result = ""
    else:
        result = json.dumps(value, ensure_ascii=False)
    return result[:MAX_RESULT_CHARS]


def dig(value: Any, path: str) -> Any:
    """`a.b.0.c` inside a JSON value; ActionFailed naming the path when it is not there."""
    current = value
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise ActionFailed(f"The answer has no '{path}'.")
    return current


def fill_template(template: str, values: dict[str, Any]) -> str:
    """`Order {order_id}: {result}` with the values; unknown names are left as written."""

    def fill(found) -> str:
        name = found.group(1)
        return str(values[name]) if name in values else found.group(0)

    return PLACEHOLDER.sub(fill, template)
