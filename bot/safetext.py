"""Text that can always be stored, logged and sent back.

PostgreSQL's text and JSONB refuse NUL, and no encoder takes a lone UTF-16 surrogate (a str
like "\\ud800" that JSON and `bytes.decode("surrogateescape")` can produce). Outside input
passes through here before it is kept.
"""

from __future__ import annotations

import re
from typing import Any

SURROGATE = re.compile("[\ud800-\udfff]")  # after json.loads joined the pairs, only lone ones remain


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str, limit: int = 200) -> str:
    """`text` safe to log, store or answer: no NUL, lone surrogates as U+FFFD, cut to `limit`."""
    text = text[:limit].replace("\x00", "")
    return text if encodable(text) else SURROGATE.sub("\ufffd", text)


def storable(text: str) -> str:
    """Text for a database column: NUL and lone surrogates become a visible U+FFFD marker
    instead of failing the write (and losing the message)."""
    text = text.replace("\x00", "\ufffd")
    return text if encodable(text) else SURROGATE.sub("\ufffd", text)


def clean(value: Any) -> Any:
    """`value` with every string storable (PostgreSQL's text and JSONB refuse NUL, every
    encoder refuses lone surrogates): NUL dropped, lone surrogates replaced by U+FFFD."""
    if isinstance(value, str):
        return printable(value, len(value)) if "\x00" in value or not encodable(value) else value
    if isinstance(value, dict):
        return {clean(str(key)): clean(child) for key, child in value.items()}
    if isinstance(value, list):
        return [clean(child) for child in value]
    return value
