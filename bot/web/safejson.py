"""Reading JSON that strangers send (the chat API, the console API, the webhooks).

`json.loads` accepts more than JSON: NaN, Infinity and 1e999 (which become floats no JSON
encoder will write back, so even the 422 answer about them failed), integers of thousands of
digits, nesting deep enough to exhaust the stack, and "\\ud800" (a lone surrogate: a str
that cannot be encoded as UTF-8, so neither the database nor the response can hold it).
`loads` refuses all of them with a reason; `clean` makes a parsed value storable when it
must be kept rather than refused (a platform's update: it is acknowledged, never refused).
"""

from __future__ import annotations

import json
import math
from typing import Any

from bot.safetext import clean, encodable, printable

__all__ = ["MAX_DEPTH", "BadJson", "clean", "encodable", "loads", "lone_surrogate_at", "printable"]

MAX_DEPTH = 32  # Telegram and WhatsApp payloads nest about 8 levels; our APIs 2
MAX_INT_DIGITS = 40  # every id fits in 19 digits; nothing legitimate needs more


class BadJson(ValueError):
    """The body is not JSON we accept; `reason` says why (shown to the client)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"number out of range: {text[:40]}")
    return value


def _int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise BadJson(f"integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


def loads(body: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse strictly: no NaN/Infinity, finite numbers, bounded integers and depth."""
    try:
        value = json.loads(body, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson(f"JSON nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise BadJson("the body is not UTF-8 text") from None
    except ValueError as exc:  # JSONDecodeError and its relatives
        raise BadJson(f"not valid JSON: {str(exc)[:200]}") from None
    if _depth_over(value, max_depth):
        raise BadJson(f"JSON nested deeper than {max_depth} levels")
    return value


def _depth_over(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return False


def _strings(value: Any) -> list[tuple[str, str]]:
    """Every string in `value` (keys too) with where it is, e.g. ("attachment.filename", ...)."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            found.append((path or "body", item))
        elif isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}.{key}" if path else str(key)
                found.append((where, key))
                stack.append((child, where))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return found


def lone_surrogate_at(value: Any) -> str | None:
    """The place of the first string holding a lone surrogate (an API refuses it), or None."""
    for where, text in _strings(value):
        if not encodable(text):
            return printable(where)
    return None
