"""Cross-validation over the pack's own example questions: the honest accuracy figure.

The dev sets are few and fixed, and whoever tunes the understanding reads them. The pack's
example questions are many, but scoring them against an index that contains them measures
memory, not understanding. So:

- k-fold: the questions of every article are split into k folds (stratified: each fold takes
  about 1/k of every article's questions). For each fold the knowledge is rebuilt from a copy
  of the pack without that fold's questions, and the removed questions are asked through the
  real engine, each in a fresh conversation. Correct = answered with the article the question
  came from. A clarification menu or an "I don't know" is a miss, reported apart from an answer
  with the wrong article (or another handler).
- leave-one-article-out: the knowledge is rebuilt without one whole article; its questions
  now have no answer, so the bot should decline them (or at most offer a menu). The share it
  answers anyway is the share a customer would get a confidently wrong answer on a topic the
  pack does not cover.

Both rebuild through `bot.bootstrap.knowledge_from_pack`, the same path the server uses, from
`dataclasses.replace`d copies of the loaded `Pack`: no files are written.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.messages import Message, Outcome

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import Knowledge
    from bot.engine import Clock, Engine
    from knowledge.pack import Pack

CLARIFY_SOURCE = "clarify"  # bot.flows.clarify.NAME; not imported: this module must not need the router


class Verdict(StrEnum):
    CORRECT = "correct"  # answered with the article the question came from
    CLARIFIED = "clarified"  # a menu of topics instead of an answer
    DECLINED = "declined"  # "I don't know" (any fallback other than a menu)
    WRONG = "wrong"  # answered with another article or handler


@dataclass(frozen=True)
class Probe:
    article_id: str
    question: str


@dataclass(frozen=True)
class Asked:
    probe: Probe
    verdict: Verdict
    source: str | None  # what answered (article id, handler), None for a plain "I don't know"
    menu_had_it: bool = False  # a clarification menu that listed the right article


@dataclass(frozen=True)
class Tally:
    asked: tuple[Asked, ...]

    def count(self, verdict: Verdict) -> int:
        return sum(a.verdict == verdict for a in self.asked)

    def share(self, verdict: Verdict) -> float:
        return self.count(verdict) / len(self.asked) if self.asked else 0.0

    @property
    def menus_with_the_article(self) -> int:
        return sum(a.menu_had_it for a in self.asked)

    def wrong_sources(self) -> Counter[str]:
        return Counter(str(a.source) for a in self.asked if a.verdict == Verdict.WRONG)

    def as_json(self) -> dict[str, object]:
        figures: dict[str, object] = {"questions": len(self.asked)}
        for verdict in Verdict:
            figures[verdict.value] = self.count(verdict)
            figures[f"{verdict.value}_rate"] = self.share(verdict)
        figures["menus_with_the_article"] = self.menus_with_the_article
        return figures


@dataclass(frozen=True)
class KFoldReport:
    folds: tuple[Tally, ...]
    seed: int

    @property
    def total(self) -> Tally:
        return Tally(tuple(a for fold in self.folds for a in fold.asked))

    def by_article(self) -> dict[str, Tally]:
        grouped: dict[str, list[Asked]] = {}
        for asked in self.total.asked:
            grouped.setdefault(asked.probe.article_id, []).append(asked)
        return {article_id: Tally(tuple(asked)) for article_id, asked in grouped.items()}


@dataclass(frozen=True)
class LeaveOutReport:
    articles: dict[str, Tally]  # article id -> its questions asked without it

    @property
    def total(self) -> Tally:
        return Tally(tuple(a for tally in self.articles.values() for a in tally.asked))

    @property
    def wrongly_answered(self) -> float:
        """The share of questions about a missing topic that still got an answer."""
        return self.total.share(Verdict.WRONG)


def probes(pack: Pack) -> list[Probe]:
    return [Probe(a.id, q) for a in pack.articles for q in a.questions]


def make_folds(pack: Pack, k: int, seed: int) -> list[list[Probe]]:
    """k disjoint folds covering every example question; each article's questions are
    shuffled and dealt round-robin, continuing where the previous article stopped, so folds
    differ in size by at most one and every article keeps about (k-1)/k of its questions."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    rng = random.Random(seed)
    folds: list[list[Probe]] = [[] for _ in range(k)]
    dealt = 0
    for article in pack.articles:
        questions = list(article.questions)
        rng.shuffle(questions)
        for question in questions:
            folds[dealt % k].append(Probe(article.id, question))
            dealt += 1
    return folds


def without_questions(pack: Pack, removed: Iterable[Probe]) -> Pack:
    """A copy of the pack whose articles lack the removed example questions."""
    gone: dict[str, set[str]] = {}
    for probe in removed:
        gone.setdefault(probe.article_id, set()).add(probe.question)
    articles = tuple(
        replace(a, questions=tuple(q for q in a.questions if q not in gone.get(a.id, set()))) for a in pack.articles
    )
    return replace(pack, articles=articles)


def without_article(pack: Pack, article_id: str) -> Pack:
    return replace(pack, articles=tuple(a for a in pack.articles if a.id != article_id))


def verdict_of(probe: Probe, outcome: Outcome) -> Asked:
    if outcome.source == CLARIFY_SOURCE:
        candidates = outcome.meta.get("candidates") or ()
        return Asked(probe, Verdict.CLARIFIED, outcome.source, probe.article_id in candidates)
    if outcome.fallback:
        return Asked(probe, Verdict.DECLINED, outcome.source)
    verdict = Verdict.CORRECT if outcome.source == probe.article_id else Verdict.WRONG
    return Asked(probe, verdict, outcome.source)


async def ask(engine: Engine, questions: list[Probe]) -> Tally:
    """Each question in a fresh conversation of its own, through the whole engine."""
    run = uuid.uuid4().hex[:8]
    asked = []
    for number, probe in enumerate(questions):
        message = Message("cv", f"cv-{run}-{number}", probe.question, dt.datetime.now(dt.UTC))
        try:
            outcome = await engine.handle(message)
        except KeyError as missing:  # a handler that needs an article this copy of the pack lacks
            asked.append(Asked(probe, Verdict.WRONG, f"error: no article {missing}"))
            continue
        asked.append(verdict_of(probe, outcome))
    return Tally(tuple(asked))


class CrossValidation:
    """Builds engines from changed copies of the configured pack and asks the left-out questions."""

    def __init__(self, settings: Settings, clock: Clock | None = None, pack: Pack | None = None) -> None:
        """`pack`: validate this pack instead of the configured one (e.g. a few of its articles)."""
        from bot.bootstrap import build_knowledge, system_clock
        from knowledge.pack import resolve_pack_dir

        self.settings = settings
        self.clock = clock or system_clock
        self.pack_dir = resolve_pack_dir(settings.knowledge_pack)
        self.pack = pack or build_knowledge(settings, self.clock).pack

    def engine_for(self, pack: Pack) -> Engine:
        from bot.bootstrap import knowledge_from_pack
        from bot.evaluation import evaluation_engine

        knowledge: Knowledge = knowledge_from_pack(pack, self.pack_dir)
        return evaluation_engine(self.settings, knowledge, self.clock)

    async def k_fold(self, k: int = 5, seed: int = 2026) -> KFoldReport:
        tallies = []
        for fold in make_folds(self.pack, k, seed):
            engine = self.engine_for(without_questions(self.pack, fold))
            tallies.append(await ask(engine, fold))
        return KFoldReport(tuple(tallies), seed)

    async def leave_one_article_out(self, article_ids: Iterable[str] | None = None) -> LeaveOutReport:
        chosen = list(article_ids) if article_ids is not None else [a.id for a in self.pack.articles]
        articles = {}
        for article_id in chosen:
            engine = self.engine_for(without_article(self.pack, article_id))
            questions = [Probe(article_id, q) for q in self.pack.article(article_id).questions]
            articles[article_id] = await ask(engine, questions)
        return LeaveOutReport(articles)
