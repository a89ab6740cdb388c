"""Scoring the bot on multi-turn dialogues (the format of `shared/eval/dialogues_dev.yaml`).

A file is a dialogue file when it has `scenarios:`. Each scenario runs, turn by turn, in one
fresh conversation through the real engine, so follow-ups ("y si no pago?"), options just
listed ("la primera") and flows in progress are measured as a customer meets them.

A turn is `say: TEXT` (the customer writes it) or `pick: OPTION` (the customer taps an option
the previous reply offered). A pick that is a number N is the N-th option; any other text is
the first option equal to it, else starting with it, else containing it as a word, else
containing it at all (accents and case ignored). What is sent is the option's text, or its
number when the previous reply's text listed the options numbered ("1. ...", "2) ...") —
exactly what `shared/eval/run_dialogues.py` sends to a running server, so the two agree.
A pick that matches no option fails its turn and is sent as typed, so the scenario goes on.

Each turn is checked like a single-question case (`bot.evaluation.check`); a scenario passes
only when all its turns pass.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.evaluation import Case, check, patterns, plain, reply_text
from bot.messages import Message, Outcome

if TYPE_CHECKING:
    from bot.engine import Engine

CHANNEL = "eval"


@dataclass(frozen=True)
class DialogueTurn:
    checks: Case  # `q` is what the file says: the text to write, or the option to pick
    pick: bool = False
    malformed: str | None = None  # why the file's turn cannot be run as written

    @property
    def written(self) -> str:
        return self.checks.q


@dataclass(frozen=True)
class Scenario:
    name: str
    turns: tuple[DialogueTurn, ...]


@dataclass
class TurnResult:
    number: int  # 1-based, as a person counts the file's turns
    turn: DialogueTurn
    sent: str
    outcome: Outcome | None  # None when nothing could be sent
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def reply(self) -> str:
        return reply_text(self.outcome) if self.outcome is not None else ""


@dataclass
class ScenarioResult:
    scenario: Scenario
    turns: list[TurnResult]

    @property
    def passed(self) -> bool:
        return bool(self.turns) and all(t.passed for t in self.turns)


@dataclass(frozen=True)
class DialogueReport:
    results: list[ScenarioResult]

    @property
    def turns_total(self) -> int:
        return sum(len(r.turns) for r in self.results)

    @property
    def turns_passed(self) -> int:
        return sum(t.passed for r in self.results for t in r.turns)

    @property
    def scenarios_passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def turn_rate(self) -> float:
        return self.turns_passed / self.turns_total if self.turns_total else 0.0

    @property
    def scenario_rate(self) -> float:
        return self.scenarios_passed / len(self.results) if self.results else 0.0

    def failures(self) -> list[tuple[ScenarioResult, TurnResult]]:
        return [(r, t) for r in self.results for t in r.turns if not t.passed]


def read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: must be a mapping with 'cases:' or 'scenarios:'")
    return data


def is_dialogue_file(path: Path) -> bool:
    return "scenarios" in read_yaml(path)


def load_scenarios(path: Path) -> list[Scenario]:
    raw = read_yaml(path).get("scenarios")
    if not isinstance(raw, list):
        raise ValueError(f"{path}: 'scenarios:' must be a list")
    scenarios = []
    for number, item in enumerate(raw, start=1):
        item = item if isinstance(item, dict) else {}
        name = str(item.get("name") or f"scenario {number}")
        turns = item.get("turns") or []
        if not isinstance(turns, list):
            raise ValueError(f"{path}: scenario {name!r}: 'turns:' must be a list")
        scenarios.append(Scenario(name, tuple(_turn(t) for t in turns)))
    return scenarios


def _turn(item: Any) -> DialogueTurn:
    if not isinstance(item, dict):
        return DialogueTurn(Case(""), malformed="a turn must be a mapping with say or pick")
    malformed = None if ("say" in item) != ("pick" in item) else "a turn needs exactly one of say/pick"
    pick = "pick" in item and "say" not in item
    written = str(item["pick"]).strip() if pick else str(item.get("say", ""))
    checks = Case(
        q=written,
        expect=patterns(item.get("expect")),
        any=patterns(item.get("any")),
        forbid=patterns(item.get("forbid")),
        fallback=bool(item.get("fallback", False)),
    )
    return DialogueTurn(checks, pick=pick, malformed=malformed)


def options_of(outcome: Outcome | None) -> list[str]:
    return [option for reply in outcome.replies for option in reply.options] if outcome else []


def resolve_pick(pick: str, previous: Outcome | None) -> tuple[str, str | None]:
    """(the text to send, a problem or None) for tapping `pick` on the previous reply."""
    options = options_of(previous)
    index: int | None = None
    if re.fullmatch(r"\d{1,2}", pick):
        if 1 <= int(pick) <= len(options):
            index = int(pick) - 1
    else:
        wanted = plain(pick)
        tiers = (
            [i for i, o in enumerate(options) if plain(o).strip() == wanted],
            [i for i, o in enumerate(options) if plain(o).startswith(wanted)],
            [i for i, o in enumerate(options) if re.search(r"\b" + re.escape(wanted) + r"\b", plain(o))],
            [i for i, o in enumerate(options) if wanted in plain(o)],
        )
        index = next((found[0] for found in tiers if found), None)
    if index is None:
        offered = ", ".join(repr(o) for o in options) or "none"
        return pick, f"pick {pick!r}: no such option (offered: {offered})"
    option = options[index]
    if previous is not None and _numbered_in_text(reply_text(previous), index + 1, option):
        return str(index + 1), None
    return option, None


def _numbered_in_text(text: str, number: int, option: str) -> bool:
    """True when the reply's text lists this option as "N. option" / "N) option" / "N - option"."""
    wanted = plain(option).strip()
    for line in plain(text).splitlines():
        found = re.match(r"\s*(?:\*\*)?(\d{1,2})\s*(?:\*\*)?\s*[.)\-:]\s*(.+)", line)
        if not found or int(found.group(1)) != number:
            continue
        rest = found.group(2).strip().strip("*").strip()
        if rest and (rest.startswith(wanted) or wanted.startswith(rest) or wanted in rest):
            return True
    return False


async def evaluate_dialogues(engine: Engine, scenarios: list[Scenario]) -> DialogueReport:
    """Run every scenario in a fresh conversation of its own, turn by turn."""
    run = uuid.uuid4().hex[:8]  # the same engine may run the set twice: never reuse a conversation
    results = []
    for number, scenario in enumerate(scenarios, start=1):
        user = f"dialogue-{run}-{number}"
        previous: Outcome | None = None
        turns = []
        for position, turn in enumerate(scenario.turns, start=1):
            problems = [turn.malformed] if turn.malformed else []
            sent = turn.written
            if turn.pick and not turn.malformed:
                sent, problem = resolve_pick(turn.written, previous)
                problems += [problem] if problem else []
            outcome = None
            if sent or not problems:
                outcome = await engine.handle(Message(CHANNEL, user, sent, dt.datetime.now(dt.UTC)))
                problems += check(turn.checks, outcome)
            turns.append(TurnResult(position, turn, sent, outcome, problems))
            previous = outcome
        results.append(ScenarioResult(scenario, turns))
    return DialogueReport(results)
