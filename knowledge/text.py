"""Text normalisation shared by indexing and querying.

Customers write without accents, with repeated letters and chat abbreviations; the articles
are written properly. Both sides go through the same folding so they meet in the middle.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
_LONG_RUNS = re.compile(r"([a-z])\1{2,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    """Remove control characters (keeping newlines and tabs) that some clients paste in."""
    return _CONTROL.sub("", text)


def fold(text: str) -> str:
    """Lowercase, drop accents (ñ -> n), turn punctuation into spaces and squeeze letter runs.

    "¿Cuál es la CLAVEEE?" -> "cual es la clave". Runs of three or more of the same letter
    become one letter; doubled letters are left to typo correction because Spanish has real
    ones ("llave", "carro", "leer").
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = _NON_WORD.sub(" ", ascii_only)
    return _LONG_RUNS.sub(r"\1", spaced).strip()


def words(text: str) -> list[str]:
    """The folded words of a text."""
    return fold(text).split()


def has_letters_or_digits(text: str) -> bool:
    """True when the text has something to read once emojis and symbols are ignored."""
    return any(ch.isalnum() for ch in text)
