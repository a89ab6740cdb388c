"""Cross-validation (`bot.crossval`): honest folds, copies of the pack, and the verdicts."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from bot.config import Settings
from bot.context import Knowledge
from bot.crossval import (
    CrossValidation,
    Probe,
    Tally,
    Verdict,
    ask,
    make_folds,
    probes,
    verdict_of,
    without_article,
    without_questions,
)
from bot.messages import Message, Outcome, Reply
from knowledge.pack import Pack
from knowledge.text import fold
from tests.conftest import fixed_clock

FEW = ("clave-facturador", "costo-soporte", "formas-pago", "tutoriales")


@pytest.fixture
def small(knowledge: Knowledge) -> Pack:
    """Four articles of the shipped pack: fast enough to rebuild in every test."""
    return replace(knowledge.pack, articles=tuple(a for a in knowledge.pack.articles if a.id in FEW))


def test_folds_are_disjoint_cover_every_question_and_spread_each_article(knowledge: Knowledge) -> None:
    pack = knowledge.pack
    folds = make_folds(pack, 5, seed=7)
    dealt = [p for f in folds for p in f]
    assert sorted(dealt, key=repr) == sorted(probes(pack), key=repr)
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    for article in pack.articles:  # no fold strips an article of more than its share
        per_fold = Counter(i for i, f in enumerate(folds) for p in f if p.article_id == article.id)
        assert max(per_fold.values()) <= -(-len(article.questions) // 5)
    assert make_folds(pack, 5, seed=7) == folds
    assert make_folds(pack, 5, seed=8) != folds
    with pytest.raises(ValueError):
        make_folds(pack, 1, seed=7)


def test_copies_of_the_pack_leave_the_original_alone(small: Pack) -> None:
    article = small.articles[0]
    removed = [Probe(article.id, q) for q in article.questions[:2]]
    fewer = without_questions(small, removed)
    assert fewer.article(article.id).questions == article.questions[2:]
    assert small.article(article.id).questions == article.questions  # untouched
    assert [a.questions for a in fewer.articles[1:]] == [a.questions for a in small.articles[1:]]
    gone = without_article(small, article.id)
    assert [a.id for a in gone.articles] == [a.id for a in small.articles[1:]]
    assert len(small.articles) == len(FEW)


@pytest.mark.parametrize(
    ("outcome", "verdict", "listed"),
    [
        (Outcome((Reply("..."),), source="costo-soporte"), Verdict.CORRECT, False),
        (Outcome((Reply("..."),), source="tutoriales"), Verdict.WRONG, False),
        (Outcome((Reply("..."),), source="smalltalk.help"), Verdict.WRONG, False),
        (Outcome((Reply("no sé"),), fallback=True), Verdict.DECLINED, False),
        (Outcome((Reply("?"),), fallback=True, source="input.only_digits"), Verdict.DECLINED, False),
        (Outcome((Reply("1. ..."),), True, "clarify", meta={"candidates": ["costo-soporte"]}), Verdict.CLARIFIED, True),
        (Outcome((Reply("1. ..."),), True, "clarify", meta={"candidates": ["tutoriales"]}), Verdict.CLARIFIED, False),
    ],
)
def test_verdicts(outcome: Outcome, verdict: Verdict, listed: bool) -> None:
    asked = verdict_of(Probe("costo-soporte", "cuanto cuesta la hora"), outcome)
    assert (asked.verdict, asked.menu_had_it) == (verdict, listed)


async def test_each_fold_is_asked_against_knowledge_that_never_saw_it(settings: Settings, small: Pack) -> None:
    validation = CrossValidation(settings, fixed_clock, pack=small)
    seen: list[set[str]] = []  # the example questions each fold's engine indexed
    build = validation.engine_for

    def spy(pack: Pack):  # type: ignore[no-untyped-def]
        engine = build(pack)
        indexed = {fold(q) for a in engine.router.knowledge.pack.articles for q in a.questions}
        seen.append(indexed)
        return engine

    validation.engine_for = spy  # type: ignore[method-assign]
    report = await validation.k_fold(3, seed=1)
    assert len(report.folds) == 3 and len(seen) == 3
    for indexed, tally in zip(seen, report.folds, strict=True):
        asked = {fold(a.probe.question) for a in tally.asked}
        assert asked and not asked & indexed
    total = report.total
    assert len(total.asked) == len(probes(small))
    assert sum(total.count(v) for v in Verdict) == len(total.asked)
    assert total.count(Verdict.CORRECT) > len(total.asked) / 3  # the questions still teach something
    assert set(report.by_article()) == set(FEW)


async def test_a_left_out_article_is_never_answered_with_itself(settings: Settings, small: Pack) -> None:
    validation = CrossValidation(settings, fixed_clock, pack=small)
    report = await validation.leave_one_article_out(["costo-soporte"])
    tally = report.articles["costo-soporte"]
    assert len(tally.asked) == len(small.article("costo-soporte").questions)
    assert tally.count(Verdict.CORRECT) == 0
    assert report.wrongly_answered == tally.share(Verdict.WRONG)


async def test_a_handler_that_needs_a_removed_article_counts_as_a_wrong_answer() -> None:
    class Broken:
        async def handle(self, message: Message) -> Outcome:
            raise KeyError("cancelacion")

    tally = await ask(Broken(), [Probe("cancelacion", "quiero cancelar mi plan")])  # type: ignore[arg-type]
    assert [(a.verdict, a.source) for a in tally.asked] == [(Verdict.WRONG, "error: no article 'cancelacion'")]
    assert Tally(()).share(Verdict.CORRECT) == 0.0
