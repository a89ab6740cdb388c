"""The knowledge base against the development set (copied from shared/eval) and our additions."""

import pytest

from bot.engine import Engine
from bot.evaluation import evaluate, load_cases
from tests.conftest import DATA


@pytest.mark.parametrize("files", [["kb_dev.yaml"], ["kb_dev.yaml", "kb_extra.yaml"]])
async def test_pass_rate_is_at_least_95_percent(engine: Engine, files: list[str]) -> None:
    cases = [case for name in files for case in load_cases(DATA / name)]
    results = await evaluate(engine, cases)
    failures = [(r.case.q, r.problems) for r in results if not r.passed]
    rate = 1 - len(failures) / len(results)
    assert rate >= 0.95, failures


async def test_out_of_scope_questions_are_never_answered(engine: Engine) -> None:
    cases = [c for name in ("kb_dev.yaml", "kb_extra.yaml") for c in load_cases(DATA / name) if c.fallback]
    assert len(cases) >= 20
    results = await evaluate(engine, cases)
    invented = [(r.case.q, r.outcome.source) for r in results if not r.outcome.fallback]
    assert invented == []


def test_the_dev_set_is_the_shared_one() -> None:
    from pathlib import Path

    shared = Path(__file__).resolve().parents[2] / "shared" / "eval" / "kb_dev.yaml"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert load_cases(shared) == load_cases(DATA / "kb_dev.yaml")


def test_no_evaluation_question_is_an_example_of_the_pack(engine: Engine) -> None:
    """The eval sets measure understanding: none of their sentences may be copied into the pack."""
    from knowledge.text import fold

    pack = engine.router.knowledge.pack
    examples = {fold(q) for a in pack.articles for q in (a.title, *a.questions)}
    examples |= {fold(p) for phrases in pack.intents.values() for p in phrases}
    copied = [
        c.q for name in ("kb_dev.yaml", "kb_extra.yaml") for c in load_cases(DATA / name) if fold(c.q) in examples
    ]
    assert copied == []
