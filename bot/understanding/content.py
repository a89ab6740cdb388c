"""Separating what a message asks from how it is wrapped.

Customers greet, apologise, dictate letters ("De mi consideración: ..."), fill ("ok otra
cosa", "solo pregunto nomás"), vent ("¡¿nadie me responde?!") and thank in slang ("gracias
ñaño", "bacán"). None of that is a topic, yet it dilutes a question's score. The phrases
come from the pack (`lexicon.yaml`, `discourse:`), not from code.

A message is cut into clauses (at ? ! . ; and line breaks, and at commas between long
parts); each clause loses its wrapping phrases at both ends, and multi-word courtesy and
venting phrases anywhere. What is left is the content; the roles found (thanks, greeting,
leave, ...) are reported next to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from knowledge.text import fold

# Roles that wrap the content at a clause's ends.
EDGE_ROLES = ("greeting", "courtesy", "filler", "venting", "thanks", "goodbye", "leave")
# Roles whose multi-word phrases are removed wherever they appear.
ANYWHERE_ROLES = ("courtesy", "venting")
_CLAUSE_BREAK = re.compile(r"[?!¿¡.;:\n]+|,\s+(?=(?:y|e|pero|ademas|además|otra cosa|entonces|tambien|también)\b)")
# "¿cuál es la clave y en qué página entro?": a second question after "y"
_SECOND_QUESTION = re.compile(
    r"\s+y\s+(?=(?:en |a |de |hasta |para |por |con )?(?:que|q|qué|donde|dónde|como|cómo|cuando|cuándo|cual|cuál|"
    r"cuanto|cuánto|cuantas|cuántas|cuantos|cuántos|quien|quién)\b)",
    re.IGNORECASE,
)
_COMMA = re.compile(r",\s*")
_NEGATION = frozenset({"no", "nada", "ninguno", "ninguna", "nunca"})


@dataclass(frozen=True)
class Content:
    clauses: tuple[str, ...]  # folded clauses that still say something
    roles: frozenset[str]  # the discourse roles found around them

    @property
    def text(self) -> str:
        return " ".join(self.clauses)

    @property
    def empty(self) -> bool:
        return not self.clauses


def extract(text: str, discourse: Mapping[str, tuple[str, ...]]) -> Content:
    roles: set[str] = set()
    clauses: list[str] = []
    for piece in _pieces(text):
        folded = fold(piece)
        if not folded:
            continue
        whole = _whole_role(folded, discourse)
        if whole is not None:
            roles.add(whole)
            continue
        stripped = _strip(folded, discourse, roles)
        if not stripped:
            continue
        if "leave" in roles and _NEGATION & set(stripped.split()):
            continue  # "mejor no, no cancelo nada": the negated rest is part of leaving
        clauses.append(stripped)
    return Content(tuple(clauses), frozenset(roles))


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    for part in _CLAUSE_BREAK.split(text):
        # A comma separates clauses only between long parts ("ok, y cuánto vale" stays one).
        parts = _COMMA.split(part)
        current = ""
        for sub in parts:
            if current and len(fold(current).split()) >= 4 and len(fold(sub).split()) >= 4:
                pieces.append(current)
                current = sub
            else:
                current = f"{current}, {sub}" if current else sub
        if current:
            pieces.append(current)
    return [half for piece in pieces for half in _questions(piece)]


def _questions(piece: str) -> list[str]:
    halves = _SECOND_QUESTION.split(piece, maxsplit=1)
    if len(halves) == 2 and all(len(h.split()) >= 3 for h in halves):
        return halves
    return [piece]


def _whole_role(folded: str, discourse: Mapping[str, tuple[str, ...]]) -> str | None:
    index = phrase_index(discourse)
    for role in ("thanks", "goodbye", "greeting", "leave", "venting", "courtesy", "filler"):
        if folded in index.whole.get(role, ()):
            return role
    return None


@dataclass(frozen=True)
class PhraseIndex:
    """The discourse phrases as word tuples, by their first and last word (built once per pack)."""

    whole: dict[str, frozenset[str]]
    by_first: dict[str, dict[str, tuple[tuple[str, ...], ...]]]
    by_last: dict[str, dict[str, tuple[tuple[str, ...], ...]]]


_INDEXES: dict[int, tuple[Mapping[str, tuple[str, ...]], PhraseIndex]] = {}


def phrase_index(discourse: Mapping[str, tuple[str, ...]]) -> PhraseIndex:
    cached = _INDEXES.get(id(discourse))
    if cached is not None and cached[0] is discourse:
        return cached[1]
    whole: dict[str, frozenset[str]] = {}
    by_first: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {}
    by_last: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {}
    for role, phrases in discourse.items():
        whole[role] = frozenset(phrases)
        firsts: dict[str, list[tuple[str, ...]]] = {}
        lasts: dict[str, list[tuple[str, ...]]] = {}
        for phrase in phrases:  # longest first, as the lexicon gives them
            words = tuple(phrase.split())
            firsts.setdefault(words[0], []).append(words)
            lasts.setdefault(words[-1], []).append(words)
        by_first[role] = {w: tuple(p) for w, p in firsts.items()}
        by_last[role] = {w: tuple(p) for w, p in lasts.items()}
    index = PhraseIndex(whole, by_first, by_last)
    _INDEXES[id(discourse)] = (discourse, index)
    return index


def _strip(folded: str, discourse: Mapping[str, tuple[str, ...]], roles: set[str]) -> str:
    index = phrase_index(discourse)
    words = folded.split()
    for role in ANYWHERE_ROLES:
        starts = index.by_first.get(role, {})
        i = 0
        while i < len(words):
            for phrase in starts.get(words[i], ()):
                size = len(phrase)
                if size >= 2 and tuple(words[i : i + size]) == phrase:
                    del words[i : i + size]
                    roles.add(role)
                    break
            else:
                i += 1
    changed = True
    while changed and words:
        changed = False
        for role in EDGE_ROLES:
            for phrase in index.by_first.get(role, {}).get(words[0], ()):
                size = len(phrase)
                if tuple(words[:size]) == phrase:
                    del words[:size]
                    roles.add(role)
                    changed = True
                    break
            if changed or not words:
                break
            for phrase in index.by_last.get(role, {}).get(words[-1], ()):
                size = len(phrase)
                if size <= len(words) and tuple(words[-size:]) == phrase:
                    del words[-size:]
                    roles.add(role)
                    changed = True
                    break
            if changed:
                break
    return " ".join(words)
