"""Loading a knowledge pack from disk.

A pack is a folder:

    facts.yaml       business numbers and names, referenced as {{ section.key }}
    lexicon.yaml     chat slang and stopwords for the matcher
    intents.yaml     example phrases of the non-question intents (greetings, account, ...)
    articles/*.md    one answer per file: YAML front matter (id, title, questions, links)
                     then the answer text in Spanish

Adding an article is dropping a file into `articles/`. Every placeholder must name a fact:
an unknown one stops the load, so a typo never reaches a customer as "{{ suport.rate }}".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.text import fold

PACKS_DIR = Path(__file__).resolve().parent
_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
_ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class PackError(ValueError):
    """A pack file is missing, malformed or refers to a fact that does not exist."""


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    questions: tuple[str, ...]
    body: str
    links: tuple[str, ...] = ()
    # Short answers to follow-ups about this topic ("¿y cuánto cuesta?", "¿y para cambiarla?"),
    # by facet (price, time, change, next, ...; the facets are the keys of the lexicon's
    # `followups`). A follow-up about a facet the topic lacks is never answered from another
    # article's facts.
    followups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lexicon:
    slang: Mapping[str, str] = field(default_factory=dict)
    stopwords: frozenset[str] = frozenset()
    # Folded phrases by role (greeting, courtesy, filler, venting, thanks, goodbye, yes, no,
    # leave): what wraps a question rather than being one (bot/understanding).
    discourse: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Folded cue phrases of each follow-up facet ("cuanto cuesta" -> price).
    followups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Pack:
    name: str
    articles: tuple[Article, ...]
    intents: Mapping[str, tuple[str, ...]]
    lexicon: Lexicon
    facts: Mapping[str, Any]

    def article(self, article_id: str) -> Article:
        for article in self.articles:
            if article.id == article_id:
                return article
        raise KeyError(article_id)


def resolve_pack_dir(name_or_path: str) -> Path:
    """A shipped pack by name (`perseo`) or any folder path."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        return candidate
    shipped = PACKS_DIR / name_or_path
    if shipped.is_dir():
        return shipped
    raise PackError(
        f"knowledge pack {name_or_path!r} not found: give a shipped pack name "
        f"({', '.join(p.name for p in PACKS_DIR.iterdir() if (p / 'facts.yaml').exists())}) "
        "or the path of a folder with facts.yaml and articles/"
    )


def read_facts(pack_dir: Path) -> dict[str, Any]:
    """The raw facts file, as YAML gives it (the billing engine reads this too)."""
    return _read_yaml(pack_dir / "facts.yaml")


def lookup(facts: Mapping[str, Any], dotted: str) -> Any:
    value: Any = facts
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(dotted)
        value = value[part]
    return value


def render(template: str, facts: Mapping[str, Any], *, where: str = "text") -> str:
    """Fill {{ dotted.name }} placeholders from the facts."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            value = lookup(facts, name)
        except KeyError:
            raise PackError(f"{where}: unknown fact {{{{ {name} }}}}") from None
        if isinstance(value, (Mapping, list)):
            raise PackError(f"{where}: {{{{ {name} }}}} is a group of facts, not a value")
        return str(value)

    return _PLACEHOLDER.sub(substitute, template)


def load_pack(pack_dir: Path, facts: Mapping[str, Any]) -> Pack:
    """Read a pack and render its articles with `facts` (raw facts plus derived values)."""
    raw_lexicon = _read_yaml(pack_dir / "lexicon.yaml")
    lexicon = Lexicon(
        slang={str(k): str(v) for k, v in (raw_lexicon.get("slang") or {}).items()},
        stopwords=_word_set(raw_lexicon.get("stopwords")),
        discourse=_phrase_groups(raw_lexicon.get("discourse")),
        followups=_phrase_groups(raw_lexicon.get("followups")),
    )
    articles = tuple(_load_article(path, facts) for path in sorted((pack_dir / "articles").glob("*.md")))
    if not articles:
        raise PackError(f"{pack_dir}/articles has no .md files")
    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            raise PackError(f"article id {article.id!r} is used twice")
        seen.add(article.id)

    raw_intents = _read_yaml(pack_dir / "intents.yaml")
    intents = {name: tuple(str(p) for p in phrases) for name, phrases in raw_intents.items()}
    for article in articles:
        unknown = sorted(set(article.followups) - set(lexicon.followups))
        if unknown:
            raise PackError(
                f"article {article.id!r}: follow-up facet(s) {', '.join(unknown)} are not in lexicon.yaml "
                f"followups ({', '.join(lexicon.followups) or 'none'})"
            )
    return Pack(pack_dir.name, articles, intents, lexicon, facts)


def _load_article(path: Path, facts: Mapping[str, Any]) -> Article:
    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    if not match:
        raise PackError(f"{path}: must start with front matter between '---' lines")
    try:
        meta = yaml.safe_load(render(match.group(1), facts, where=str(path))) or {}
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: front matter is not valid YAML: {exc}") from None
    for key in ("id", "title", "questions"):
        if not meta.get(key):
            raise PackError(f"{path}: front matter needs '{key}'")
    if not _ARTICLE_ID.match(str(meta["id"])):
        raise PackError(f"{path}: id must be lowercase letters, digits and dashes")
    body = render(match.group(2).strip(), facts, where=str(path))
    followups = meta.get("followups") or {}
    if not isinstance(followups, Mapping) or not all(isinstance(v, str) and v.strip() for v in followups.values()):
        raise PackError(f"{path}: followups must map a facet to a non-empty text")
    return Article(
        id=str(meta["id"]),
        title=str(meta["title"]),
        questions=tuple(str(q) for q in meta["questions"]),
        body=body,
        links=tuple(str(link) for link in meta.get("links") or ()),
        followups={str(k): str(v).strip() for k, v in followups.items()},
    )


def _word_set(value: Any) -> frozenset[str]:
    """Whitespace-separated words, or a mapping of named groups of them."""
    if isinstance(value, Mapping):
        return frozenset(w for group in value.values() for w in str(group or "").split())
    return frozenset(str(value or "").split())


def _phrase_groups(value: Any) -> dict[str, tuple[str, ...]]:
    """`{role: "a | b c | d"}` -> `{role: ("a", "b c", "d")}`, folded, longest first."""
    if not value:
        return {}
    if not isinstance(value, Mapping):
        raise PackError("lexicon.yaml: discourse and followups must map a name to phrases separated by '|'")
    groups: dict[str, tuple[str, ...]] = {}
    for name, phrases in value.items():
        items = phrases if isinstance(phrases, list) else str(phrases or "").split("|")
        folded = {fold(str(p)) for p in items} - {""}
        groups[str(name)] = tuple(sorted(folded, key=lambda p: (-len(p.split()), p)))
    return groups


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise PackError(f"{path} is missing")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise PackError(f"{path} must be a mapping")
    return data
