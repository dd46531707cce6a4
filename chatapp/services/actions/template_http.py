"""Validation of the HTTP action's config: method, URL template, headers, parameters schema.

Addresses the server will call (the HTTP action's URL, the lead form's webhook) go through the
URL sources' SSRF guard when they are saved (`outgoing_url`: same rules, same settings, same
words; a host name is resolved), so an internal address is refused while the owner is at the
form. The guard runs again at every call (`http_call`): settings and DNS answers change.
Secret header values are encrypted.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, SchemaError

from chatapp.core import security
from chatapp.core.errors import ValidationFailed
from chatapp.services.actions.common import Problems, as_bool, as_int, text
from chatapp.services.knowledge.ingest.urlguard import check_url

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
FORBIDDEN_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "cookie"}
MAX_HEADERS = 20
MAX_PARAMETERS = 20
MAX_TIMEOUT_SECONDS = 30
MAX_RESPONSE_BYTES = 1_000_000
# The template's example address (a reserved domain): saved as shipped, it is only checked when
# called, so that "add an HTTP action" works before the owner types their API's address.
EXAMPLE_URL = "https://api.example.com/orders/{order_id}"
NOT_A_URL = "Enter a full web address starting with https:// or http://."
HOST_PLACEHOLDER = "Placeholders can fill the path or the query, not the host: write it in full."


def plain_url(problems: Problems, raw: dict[str, Any], key: str, *, required: bool = False) -> str:
    """An http(s) address (no placeholders), or "" when optional and empty."""
    value = text(problems, raw, key, 2048, required=required)
    if value and not _looks_like_url(value):
        problems.add(key, NOT_A_URL)
    return value


def outgoing_url(problems: Problems, raw: dict[str, Any], key: str) -> str:
    """An optional address the server will call (a webhook): its form, then the SSRF guard."""
    value = plain_url(problems, raw, key)
    if value and key not in problems.errors:
        guard(problems, key, value)
    return value


def guard(problems: Problems, key: str, url: str) -> None:
    """The URL sources' SSRF guard on an address the server will call (placeholders in the path
    or query stand for any value: only the scheme, host and port are judged)."""
    if PLACEHOLDER.search(urlsplit(url).netloc):
        problems.add(key, HOST_PLACEHOLDER)
        return
    try:
        check_url(PLACEHOLDER.sub("x", url))
    except ValidationFailed as error:
        problems.add(key, error.message)


def _looks_like_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def clean(problems: Problems, raw: dict[str, Any], previous: list[dict]) -> dict[str, Any]:
    method = str(raw.get("method") or "").strip().upper()
    if method not in METHODS:
        problems.add("method", f"Choose one of: {', '.join(METHODS)}.")
    parameters = _parameters(problems, raw.get("parameters"))
    url = text(problems, raw, "url", 2048, required=True)
    if url:
        names = set(PLACEHOLDER.findall(url))
        unknown = sorted(names - set(parameters.get("properties", {})))
        if unknown:
            problems.add("url", f"Define {', '.join(unknown)} under parameters, or remove it.")
        if not _looks_like_url(PLACEHOLDER.sub("x", url)):
            problems.add("url", NOT_A_URL)
        elif url != EXAMPLE_URL and "url" not in problems.errors:
            guard(problems, "url", url)
    return {
        "method": method,
        "url": url,
        "headers": _headers(problems, raw.get("headers"), previous),
        "parameters": parameters,
        "timeout_seconds": as_int(problems, raw, "timeout_seconds", 1, MAX_TIMEOUT_SECONDS),
        "max_response_bytes": as_int(problems, raw, "max_response_bytes", 1, MAX_RESPONSE_BYTES),
        "response_path": _response_path(problems, raw),
        "answer_template": text(problems, raw, "answer_template", 1000, required=True),
    }


def _response_path(problems: Problems, raw: dict[str, Any]) -> str:
    path = text(problems, raw, "response_path", 200)
    if path and not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", path):
        problems.add("response_path", "Write a dotted path like data.status or items.0.name.")
    return path


def _parameters(problems: Problems, value: Any) -> dict[str, Any]:
    if value in (None, "", {}):
        return {"type": "object", "properties": {}}
    if not isinstance(value, dict):
        problems.add("parameters", "Give the parameters as a JSON schema object.")
        return {"type": "object", "properties": {}}
    schema = dict(value)
    schema.setdefault("type", "object")
    if schema["type"] != "object":
        problems.add("parameters", 'The parameters schema must have "type": "object".')
    properties = schema.setdefault("properties", {})
    if not isinstance(properties, dict):
        problems.add("parameters", '"properties" must be an object of parameter schemas.')
        schema["properties"] = {}
        return schema
    if len(properties) > MAX_PARAMETERS:
        problems.add("parameters", f"Use at most {MAX_PARAMETERS} parameters.")
    for name, prop in properties.items():
        if not PARAM_NAME.match(name):
            problems.add("parameters", f"'{name}': use letters, digits and _ (a letter first).")
        if not isinstance(prop, dict):
            problems.add("parameters", f"'{name}' must be a schema object.")
            continue
        pattern = prop.get("x-pattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                problems.add("parameters", f"'{name}': x-pattern is not valid ({exc}).")
    required = schema.get("required", [])
    if not isinstance(required, list) or any(r not in properties for r in required):
        problems.add("parameters", '"required" must list names defined under "properties".')
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        problems.add("parameters", f"Not a valid JSON schema: {exc.message}")
    return schema


def _headers(problems: Problems, value: Any, previous: list[dict]) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        problems.add("headers", "Give headers as a list of {name, value, secret}.")
        return []
    if len(value) > MAX_HEADERS:
        problems.add("headers", f"Use at most {MAX_HEADERS} headers.")
    stored = {str(h.get("name", "")).lower(): h for h in previous if isinstance(h, dict)}
    out = []
    for item in value[:MAX_HEADERS]:
        item = item if isinstance(item, dict) else {}
        name = str(item.get("name", "")).strip()
        plain = str(item.get("value") or "")
        if not name and not plain:
            continue  # an empty row of the form
        if not HEADER_NAME.match(name) or name.lower() in FORBIDDEN_HEADERS:
            problems.add("headers", f"'{name}' cannot be used as a header name.")
            continue
        if any(ch in plain for ch in "\r\n") or len(plain) > 4000:
            problems.add("headers", f"The value of '{name}' is not allowed (one line, < 4000).")
            continue
        if not as_bool(item.get("secret")):
            out.append({"name": name, "value": plain, "secret": False})
            continue
        if plain:
            encrypted = security.encrypt_secret(plain)
        elif stored.get(name.lower(), {}).get("value_encrypted"):
            encrypted = stored[name.lower()]["value_encrypted"]  # kept: secrets are not shown
        else:
            problems.add("headers", f"Enter the secret value of '{name}'.")
            continue
        out.append({"name": name, "value": "", "secret": True, "value_encrypted": encrypted})
    return out


def public_header(header: dict[str, Any]) -> dict[str, Any]:
    secret = bool(header.get("secret"))
    return {
        "name": header.get("name", ""),
        "value": "" if secret else header.get("value", ""),
        "secret": secret,
        "has_value": bool(header.get("value_encrypted")) if secret else True,
    }


def strip_extensions(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema without our `x-` keys (what a model is shown as a tool's parameters)."""
    if isinstance(schema, dict):
        return {k: strip_extensions(v) for k, v in schema.items() if not str(k).startswith("x-")}
    if isinstance(schema, list):
        return [strip_extensions(v) for v in schema]
    return schema
