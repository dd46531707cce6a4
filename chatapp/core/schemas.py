"""Building blocks of the shared schemas (`services/<area>/schemas.py`).

A limit is a named constant, checked by one validator that says what is wrong in words. The API
uses the schema as its request model (FastAPI answers 422 `{detail: "field: words"}`), the service
validates its arguments with `parse()` (a `FieldInvalid` carrying the same words and the field, so
a dashboard form shows it beside that field), and the dashboard reads the same constants for its
hints. So at each limit the API and the dashboard accept and refuse alike, in the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError

from chatapp.core.errors import FieldInvalid

M = TypeVar("M", bound=BaseModel)


def _none_as_blank(value: Any) -> Any:
    return "" if value is None else value


def limited_text(
    max_chars: int | Callable[[], int], too_long: str, *, blank: str = "", strip: bool = True
) -> Any:
    """A string type: stripped (unless `strip=False`), refused when longer than `max_chars` (a
    number, or a function for a limit that is a setting) with `too_long` formatted with `limit`
    and `length`, and refused when empty with `blank` (when given)."""

    def check(value: str) -> str:
        value = value.strip() if strip else value
        if blank and not value.strip():
            raise ValueError(blank)
        limit = max_chars() if callable(max_chars) else max_chars
        if len(value) > limit:
            raise ValueError(too_long.format(limit=limit, length=len(value)))
        return value

    documented: dict[str, Any] = {} if callable(max_chars) else {"maxLength": max_chars}
    return Annotated[
        str,
        BeforeValidator(_none_as_blank),
        AfterValidator(check),
        Field(json_schema_extra=documented or None),
    ]


def message_of(error: Mapping[str, Any]) -> str:
    """The words of one pydantic error (a validator's own sentence, without pydantic's prefix)."""
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def parse(schema: type[M], error: type[FieldInvalid] = FieldInvalid, /, **data: Any) -> M:
    """`schema` validated from keyword arguments; the first problem raised as `error` (a
    `FieldInvalid`) with the validator's words and the field's name."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else ""
        raise error(message_of(first), field) from None


def field_errors(schema: type[BaseModel], /, **data: Any) -> dict[str, str]:
    """Every field's problem in words (the first per field; empty when `data` is valid), for a
    form that shows each beside its field."""
    try:
        schema.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error.get("loc") else ""
            errors.setdefault(field, message_of(error))
        return errors
    return {}
