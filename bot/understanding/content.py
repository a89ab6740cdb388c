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
    for role in ("thanks", "goodbye", "greeting", "leave", "venting", "courtesy", "filler"):
        if folded in discourse.get(role, ()):
            return role
    return None


def _strip(folded: str, discourse: Mapping[str, tuple[str, ...]], roles: set[str]) -> str:
    words = folded.split()
    for role in ANYWHERE_ROLES:
        for phrase in discourse.get(role, ()):
            size = len(phrase.split())
            if size < 2:
                continue
            i = _find(words, phrase.split())
            while i >= 0:
                del words[i : i + size]
                roles.add(role)
                i = _find(words, phrase.split())
    changed = True
    while changed and words:
        changed = False
        for role in EDGE_ROLES:
            for phrase in discourse.get(role, ()):
                target = phrase.split()
                size = len(target)
                if size <= len(words) and words[:size] == target:
                    del words[:size]
                    roles.add(role)
                    changed = True
                    break
                if size <= len(words) and words[-size:] == target:
                    del words[-size:]
                    roles.add(role)
                    changed = True
                    break
            if changed:
                break
    return " ".join(words)


def _find(words: list[str], target: list[str]) -> int:
    size = len(target)
    for i in range(len(words) - size + 1):
        if words[i : i + size] == target:
            return i
    return -1
