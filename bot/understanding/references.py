"""Resolving a reference to something the bot just offered: "la primera", "la segunda opción",
"el 2", "esa", "la de mañana", "la del jueves", "la de nómina".

The options of the last reply are in the memory (their labels, in order). A reference picks
one label, which the router then treats exactly like a tap on that option.
"""

from __future__ import annotations

import datetime as dt
import re

from knowledge.text import fold

_ORDINALS = {
    "primera": 0, "primero": 0, "primer": 0, "1ra": 0, "1era": 0, "uno": 0, "una": 0,
    "segunda": 1, "segundo": 1, "2da": 1, "dos": 1,
    "tercera": 2, "tercero": 2, "tercer": 2, "3ra": 2, "3era": 2, "tres": 2,
    "cuarta": 3, "cuarto": 3, "cuatro": 3,
    "quinta": 4, "quinto": 4, "cinco": 4,
    "sexta": 5, "sexto": 5, "seis": 5,
}  # fmt: skip
_LAST = frozenset({"ultima", "ultimo"})
_POINTING = frozenset({"esa", "ese", "eso", "esta", "este", "aquella", "aquel"})
_WEEKDAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
_SHORT_DAYS = ("lun", "mar", "mie", "jue", "vie", "sab", "dom")
# Words that say "I mean one of those" (an option by its day, topic or position).
_MARKERS = re.compile(
    r"\b(la|el|las|los)\s+(de|del)\b|\bopcion\b|\bnumero\b|\b(esa|ese|esta|este|aquella|aquel)\b|"
    r"\b(primera|primero|primer|segunda|segundo|tercera|tercero|cuarta|cuarto|quinta|quinto|sexta|ultima|ultimo)\b"
)
_SIGN_UP = re.compile(
    r"\b(inscrib\w*|anot\w*|apunt\w*|reserv\w*|registr\w*|quiero|elijo|escojo|prefiero|me quedo con)\b"
)
_FILLER = frozenset(
    str.split(
        "la el las los de del a al en y me mi por favor porfa opcion numero esa ese esta este quiero elijo escojo "
        "prefiero quedo con inscribame inscribeme anoteme apunteme apunto anoto reservame registrame una uno que "
        "sesion capacitacion clase"
    )
)


def resolve(text: str, options: tuple[str, ...], today: dt.date) -> str | None:
    """The option the text points at, or None (no reference, or it fits several)."""
    if not options:
        return None
    folded = fold(text)
    words = folded.split()
    if not words:
        return None
    if folded.isdigit():
        index = int(folded) - 1
        return options[index] if 0 <= index < len(options) else None
    if len(words) > 9 or not (_MARKERS.search(folded) or _SIGN_UP.search(folded)):
        return None
    for i, word in enumerate(words):
        previous = words[i - 1] if i else ""
        if word in _ORDINALS and (
            word not in ("una", "uno", "dos", "tres", "cinco", "seis") or previous in ("la", "el", "opcion", "numero")
        ):
            index = _ORDINALS[word]
            return options[index] if index < len(options) else None
        if word in _LAST:
            return options[-1]
        if word.isdigit() and previous in ("la", "el", "opcion", "numero") and 1 <= int(word) <= len(options):
            return options[int(word) - 1]
    named = _by_name(words, options, today)
    if named is not None:
        return named
    if _POINTING & set(words) and len(options) == 1:
        return options[0]
    if _SIGN_UP.search(folded) and len(options) == 1 and not _content_words(words):
        return options[0]
    return None


def _by_name(words: list[str], options: tuple[str, ...], today: dt.date) -> str | None:
    """'la de mañana', 'la del jueves', 'la de nómina': the one option that fits every clue."""
    clues = _content_words(words)
    if not clues:
        return None
    folded_options = [fold(o) for o in options]
    fitting = []
    for option, label in zip(options, folded_options, strict=True):
        label_words = set(label.split())
        if all(_fits(clue, label, label_words, today) for clue in clues):
            fitting.append(option)
    return fitting[0] if len(fitting) == 1 else None


def _fits(clue: str, label: str, label_words: set[str], today: dt.date) -> bool:
    if clue in _WEEKDAYS:
        short = _SHORT_DAYS[_WEEKDAYS.index(clue)]
        return clue in label_words or short in label_words
    if clue in ("manana", "hoy", "pasado"):
        day = today + dt.timedelta(days={"hoy": 0, "manana": 1, "pasado": 2}[clue])
        short = _SHORT_DAYS[day.weekday()]
        return (
            f" {day.day} {day.month} " in f" {label} "
            or _WEEKDAYS[day.weekday()] in label_words
            or (short in label_words and f" {day.day} " in f" {label} ")
        )
    if len(clue) < 4:
        return clue in label_words
    return any(w.startswith(clue[:5]) for w in label_words)


def _content_words(words: list[str]) -> list[str]:
    return [w for w in words if w not in _FILLER and w not in _ORDINALS and not w.isdigit()]
