"""Scoring the bot against a case file in the format of `shared/eval/kb_dev.yaml`.

Each case runs in a fresh anonymous conversation. The reply is matched lowercased with
accents stripped:
  expect:   every regex matches, and the reply is not a fallback
  any:      at least one regex matches
  forbid:   no regex matches
  fallback: true -> the bot must say it does not know (Outcome.fallback)
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.messages import Message, Outcome

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.context import Knowledge
    from bot.engine import Clock, Engine


@dataclass(frozen=True)
class Case:
    q: str
    expect: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    fallback: bool = False


@dataclass
class Result:
    case: Case
    outcome: Outcome
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def patterns(value: Any) -> tuple[str, ...]:
    """A check's regexes: a list, or one regex written without brackets."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw: list[dict[str, Any]] = data.get("cases") or []
    cases = []
    for i, item in enumerate(raw, start=1):
        if "q" not in item:
            raise ValueError(f"{path}: case {i} has no 'q'")
        cases.append(
            Case(
                q=str(item["q"]),
                expect=patterns(item.get("expect")),
                any=patterns(item.get("any")),
                forbid=patterns(item.get("forbid")),
                fallback=bool(item.get("fallback", False)),
            )
        )
    return cases


def plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def reply_text(outcome: Outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


def check(case: Case, outcome: Outcome) -> list[str]:
    """What is wrong with the reply to a case; empty when it passes. The dialogue turns of
    `bot.dialogue_eval` are checked by this same rule."""
    reply = plain(reply_text(outcome))
    problems = []
    if case.fallback:
        if not outcome.fallback:
            problems.append("expected a fallback, got an answer")
    elif outcome.fallback and (case.expect or case.any):
        problems.append("expected an answer, got a fallback")
    bad: set[str] = set()
    problems += [f"missing /{p}/" for p in case.expect if not _search(p, reply, bad)]
    if case.any and not any([_search(p, reply, bad) for p in case.any]):
        problems.append("none of /" + "/, /".join(case.any) + "/")
    problems += [f"forbidden /{p}/ present" for p in case.forbid if _search(p, reply, bad)]
    return problems + sorted(bad)


def _search(pattern: str, text: str, bad: set[str]) -> bool:
    """A malformed regex in a case file fails its case with the reason, not the whole run."""
    try:
        return re.search(pattern, text) is not None
    except re.error as exc:
        bad.add(f"bad regex /{pattern}/: {exc}")
        return False


def evaluation_engine(settings: Settings, knowledge: Knowledge | None = None, clock: Clock | None = None) -> Engine:
    """The engine `kb eval`, the tests and the bench score: the real router on the in-memory
    store, with the pack's training calendar (as `ask` has it) where a chat can also sign up
    (kept in memory), so dialogues that tap a training are scored as the server answers them."""
    from bot.bootstrap import build_calendar, build_engine, system_clock
    from bot.store import InMemoryConversationStore
    from bot.trainings import CalendarSignUps

    trainings = CalendarSignUps(build_calendar(settings), settings.reminder_minutes())
    store = InMemoryConversationStore(trainings=lambda: trainings)
    return build_engine(settings, store, knowledge=knowledge, clock=clock or system_clock)


async def evaluate(engine: Engine, cases: list[Case]) -> list[Result]:
    """Run every case in its own fresh conversation."""
    results = []
    for number, case in enumerate(cases):
        message = Message("eval", f"case-{number}", case.q, dt.datetime.now(dt.UTC))
        outcome = await engine.handle(message)
        results.append(Result(case, outcome, check(case, outcome)))
    return results


async def calibrate(settings: Settings, cases: list[Case]) -> list[tuple[float, int]]:
    """Pass counts for answer thresholds 0.05..0.60: a case passes at threshold t when it is
    out of scope and scores below t, or when answering its best match passes and it scores
    at or above t."""
    import dataclasses

    from bot.bootstrap import build_engine, build_knowledge
    from bot.store import InMemoryConversationStore

    knowledge = build_knowledge(settings)
    retriever = knowledge.retriever
    retriever.thresholds = dataclasses.replace(retriever.thresholds, answer=0.0, suggest=0.0)
    engine = build_engine(settings, InMemoryConversationStore(), knowledge=knowledge)
    scored = []
    for result in await evaluate(engine, cases):
        best = retriever.search(result.case.q).best
        scored.append((best.score if best else 0.0, result.case.fallback, result.passed))
    rows = []
    for step in range(5, 61):
        threshold = step / 100
        passed = sum(
            1
            for score, out_of_scope, answer_passes in scored
            if (out_of_scope and score < threshold) or (not out_of_scope and answer_passes and score >= threshold)
        )
        rows.append((threshold, passed))
    return rows
