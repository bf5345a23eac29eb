"""Stored JSON compared exactly. `True == 1 == 1.0` in Python, so `==` alone cannot tell a
boolean from a number, nor an integer from a float: `exact` pairs every scalar with its type."""

from __future__ import annotations

from typing import Any


def exact(value: Any) -> Any:
    """`value` with each scalar replaced by (type name, scalar), nested objects and arrays kept."""
    if isinstance(value, dict):
        return {key: exact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [exact(item) for item in value]
    return (type(value).__name__, value)
