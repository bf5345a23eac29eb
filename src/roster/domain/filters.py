"""People filters (docs/api.md §4): the one parser of the filter grammar that the App API's
people search, the exports and the test plugin share.

    F = {"and": [F, …]} | {"or": [F, …]} | {"not": F}
      | {"attribute": {"field": name, "operator": "eq" | "exists", "value"?: scalar}}

The fields `id`, `email` and `cio_id` mean the person's identifiers; any other field is an
attribute. `eq` compares string forms, as Customer.io's segments do: 5, 5.0 and "5" are equal,
and so are true and "true" (docs/decisions.md). A filter holds at most MAX_NODES objects; every
refusal is an InvalidInput whose message names the path of the offending part, e.g.
`filter.and[1].attribute.operator: unknown operator 'gt' (use eq or exists)`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from roster.domain.errors import InvalidInput
from roster.domain.identifiers import fold_email
from roster.domain.limits import ATTRIBUTE_NAME_MAX_BYTES

MAX_NODES = 100  # objects in one filter: enough for any segment a person writes by hand
IDENTIFIER_FIELDS = frozenset({"id", "email", "cio_id"})
OPERATORS = ("eq", "exists")
_ATTRIBUTE_KEYS = frozenset({"field", "operator", "value"})
_LARGEST_EXACT_INT = 2**63 - 1  # beyond this neither database keeps a JSON integer exactly

Scalar = str | int | float | bool
Operator = Literal["eq", "exists"]


@dataclass(frozen=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    part: Filter


@dataclass(frozen=True)
class Attribute:
    field: str
    operator: Operator
    value: Scalar | None = None  # None exactly when operator is "exists"

    @property
    def is_identifier(self) -> bool:
        return self.field in IDENTIFIER_FIELDS


Filter = And | Or | Not | Attribute


def parse(raw: Any, path: str = "filter") -> Filter:
    """The filter a JSON value describes, or an InvalidInput naming what is wrong and where."""
    return _Parser().node(raw, path)


def everyone() -> Filter:
    """A filter every person matches (an empty `and`, which the wire grammar does not allow)."""
    return And(())


class _Parser:
    def __init__(self) -> None:
        self.nodes = 0

    def node(self, raw: Any, path: str) -> Filter:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _refused(path, f"a filter can hold at most {MAX_NODES} conditions")
        if not isinstance(raw, dict):
            raise _refused(
                path, f"must be an object with one of and, or, not, attribute, not {_kind(raw)}"
            )
        if len(raw) != 1:
            keys = ", ".join(sorted(raw)) or "none"
            raise _refused(
                path, f"must have exactly one of and, or, not, attribute (found: {keys})"
            )
        ((key, inner),) = raw.items()
        here = f"{path}.{key}"
        if key in ("and", "or"):
            if not isinstance(inner, list) or not inner:
                raise _refused(here, "must be a non-empty array of filters")
            parts = tuple(self.node(part, f"{here}[{i}]") for i, part in enumerate(inner))
            return And(parts) if key == "and" else Or(parts)
        if key == "not":
            return Not(self.node(inner, here))
        if key == "attribute":
            return _attribute(inner, here)
        raise _refused(path, f"unknown key '{_shown(key)}' (use and, or, not or attribute)")


def _attribute(raw: Any, path: str) -> Attribute:
    if not isinstance(raw, dict):
        raise _refused(path, f"must be an object with field and operator, not {_kind(raw)}")
    unknown = sorted(key for key in raw if key not in _ATTRIBUTE_KEYS)
    if unknown:
        raise _refused(path, f"unknown key '{_shown(unknown[0])}' (use field, operator and value)")
    field = raw.get("field")
    if not isinstance(field, str) or not field:
        raise _refused(f"{path}.field", "must be a non-empty string")
    if "\x00" in field:
        raise _refused(f"{path}.field", "cannot contain a NUL character")
    if len(field.encode()) > ATTRIBUTE_NAME_MAX_BYTES:
        raise _refused(f"{path}.field", f"cannot be longer than {ATTRIBUTE_NAME_MAX_BYTES} bytes")
    operator = raw.get("operator")
    if operator not in OPERATORS:
        if "operator" not in raw:
            raise _refused(f"{path}.operator", "is required (use eq or exists)")
        raise _refused(
            f"{path}.operator",
            f"unknown operator '{_shown(operator)}' (use eq or exists)",
        )
    if operator == "exists":
        if "value" in raw:
            raise _refused(f"{path}.value", "exists takes no value")
        return Attribute(field, "exists")
    if "value" not in raw:
        raise _refused(f"{path}.value", "eq needs a value")
    value = raw["value"]
    if isinstance(value, float) and not math.isfinite(value):  # pragma: no cover - not JSON
        raise _refused(f"{path}.value", "must be a finite number")
    if not isinstance(value, str | int | float):  # bool is an int
        raise _refused(
            f"{path}.value",
            f"must be a string, number or boolean, not {_kind(value)} "
            "(use not with exists for a missing attribute)",
        )
    if isinstance(value, str) and "\x00" in value:
        raise _refused(f"{path}.value", "cannot contain a NUL character")
    return Attribute(field, "eq", value)


def string_form(value: Any) -> str:
    """How Customer.io shows a stored value (the App API answers every attribute as a string):
    booleans as true/false, whole floats without a fraction, JSON values as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return orjson.dumps(value).decode()


def equal_values(value: Scalar) -> tuple[Scalar, ...]:
    """Every stored JSON scalar whose string form is the string form of `value`: the values an
    attribute `eq` matches. "5" gives ("5", 5); "true" gives ("true", True); "5.0" only "5.0",
    since a stored 5.0 shows as "5"."""
    text = string_form(value)
    found: list[Scalar] = [text]
    if text in ("true", "false"):
        found.append(text == "true")
        return tuple(found)
    try:
        number: int | float = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return tuple(found)
    if isinstance(number, int) and abs(number) > _LARGEST_EXACT_INT:
        return tuple(found)
    if isinstance(number, float) and not math.isfinite(number):
        return tuple(found)
    if string_form(number) == text:
        found.append(number)
    return tuple(found)


def identifier_value(field: str, value: Scalar) -> str:
    """The stored form an identifier `eq` compares with: emails case-folded and trimmed (I1),
    ids and cio_ids as their string form (a `cio_` prefix on a cio_id is allowed)."""
    text = string_form(value)
    if field == "email":
        return fold_email(text)
    if field == "cio_id" and text.startswith("cio_"):
        return text[4:]
    return text


def matches(f: Filter, identifiers: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """Whether a person (identifiers `id`, `email`, `cio_id`; attributes) matches: the meaning
    the database queries compile, for tests and for people already in memory."""
    if isinstance(f, And):
        return all(matches(part, identifiers, attributes) for part in f.parts)
    if isinstance(f, Or):
        return any(matches(part, identifiers, attributes) for part in f.parts)
    if isinstance(f, Not):
        return not matches(f.part, identifiers, attributes)
    if f.is_identifier:
        held = identifiers.get(f.field)
        if f.operator == "exists":
            return held is not None
        assert f.value is not None
        if held is None:
            return False
        stored = fold_email(held) if f.field == "email" else held
        return bool(stored == identifier_value(f.field, f.value))
    if f.operator == "exists":
        return f.field in attributes
    assert f.value is not None
    stored = attributes.get(f.field)
    if stored is None or isinstance(stored, dict | list):
        return False
    return string_form(stored) == string_form(f.value)


def _refused(path: str, problem: str) -> InvalidInput:
    root = path.split(".", 1)[0].split("[", 1)[0]  # "filter", or "filters" for exports
    return InvalidInput(f"{path}: {problem}", field=root)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _shown(value: Any) -> str:
    """A client's key or operator in a message: short, and as JSON when not a plain string."""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= 40 else f"{text[:40]}…"
