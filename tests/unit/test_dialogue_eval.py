"""Dialogue scoring (`bot.dialogue_eval`): what a pick sends, fresh conversations, the report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import Settings
from bot.context import Knowledge
from bot.dialogue_eval import evaluate_dialogues, is_dialogue_file, load_scenarios, resolve_pick
from bot.evaluation import evaluation_engine, load_cases
from bot.messages import Message, Outcome, Reply
from bot.trainings import CalendarSignUps, SignUp
from tests.conftest import DATA, FIXED_NOW, fixed_clock

MENU = Outcome((Reply("Elija:\n1. Formas de pago\n2. Fecha de pago", ("Formas de pago", "Fecha de pago")),))
BUTTONS = Outcome(
    (
        Reply("Próximas sesiones:", ("Inscribirme: lun 30/11 · Facturación", "Inscribirme: jue 3/12 · Nómina")),
        Reply("O escriba otra consulta.", ("Hablar con un asesor",)),
    )
)


class ScriptedEngine:
    """Answers from a script keyed by the text received, and records every message."""

    def __init__(self, script: dict[str, Outcome]) -> None:
        self.script = script
        self.received: list[Message] = []

    async def handle(self, message: Message) -> Outcome:
        self.received.append(message)
        return self.script.get(message.text, Outcome((Reply("no sé"),), fallback=True))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_number_sends_the_option_or_its_number_when_the_text_lists_it_numbered() -> None:
    assert resolve_pick("2", MENU) == ("2", None)  # the text says "2. Fecha de pago"
    assert resolve_pick("2", BUTTONS) == ("Inscribirme: jue 3/12 · Nómina", None)  # buttons only
    assert resolve_pick("3", BUTTONS) == ("Hablar con un asesor", None)  # options of every reply, in order


@pytest.mark.parametrize(
    ("pick", "sent"),
    [
        ("NOMINA", "Inscribirme: jue 3/12 · Nómina"),  # accents and case ignored
        ("hablar con un asesor", "Hablar con un asesor"),  # equal
        ("inscribirme", "Inscribirme: lun 30/11 · Facturación"),  # the first that starts with it
        ("jue", "Inscribirme: jue 3/12 · Nómina"),  # as a word
        ("ase", "Hablar con un asesor"),  # contained at all
    ],
)
def test_a_text_picks_the_first_option_that_matches_it(pick: str, sent: str) -> None:
    assert resolve_pick(pick, BUTTONS) == (sent, None)


@pytest.mark.parametrize("pick", ["4", "viernes"])
def test_a_pick_of_no_offered_option_is_a_problem_and_is_sent_as_typed(pick: str) -> None:
    sent, problem = resolve_pick(pick, BUTTONS)
    assert sent == pick
    assert problem is not None and "no such option" in problem
    assert resolve_pick("1", None)[1] is not None  # nothing was offered before


def test_loading_keeps_the_checks_and_flags_malformed_turns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """scenarios:
  - name: one
    turns:
      - {say: "hola", expect: 'buen', any: ['a', 'b'], forbid: ['x']}
      - {pick: 2, fallback: true}
      - {say: "ambos", pick: 1}
  - turns: []
""",
    )
    assert is_dialogue_file(path) and not is_dialogue_file(DATA / "kb_dev.yaml")
    first, second = load_scenarios(path)
    say, pick, both = first.turns
    assert (say.written, say.pick, say.checks.expect, say.checks.any) == ("hola", False, ("buen",), ("a", "b"))
    assert (pick.written, pick.pick, pick.checks.fallback) == ("2", True, True)
    assert both.malformed is not None
    assert second.name == "scenario 2" and second.turns == ()


def test_a_one_regex_check_written_without_brackets_is_one_pattern(tmp_path: Path) -> None:
    """Before, `expect: '\\b25\\b'` became one pattern per character and could never pass."""
    path = write(tmp_path, "cases:\n  - {q: hola, expect: 'buen', forbid: 'x'}\n")
    (case,) = load_cases(path)
    assert case.expect == ("buen",) and case.forbid == ("x",)


async def test_each_scenario_is_one_fresh_conversation_and_picks_read_the_previous_reply(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """scenarios:
  - name: menu then pick
    turns:
      - {say: "pagos"}
      - {pick: "fecha", expect: ['dia 5']}
  - name: another
    turns:
      - {say: "hola", any: ['hola']}
      - {say: "pagos"}
""",
    )
    engine = ScriptedEngine(
        {"pagos": MENU, "2": Outcome((Reply("Hasta el día 5."),)), "hola": Outcome((Reply("¡Hola!"),))}
    )
    report = await evaluate_dialogues(engine, load_scenarios(path))  # type: ignore[arg-type]
    assert [m.text for m in engine.received] == ["pagos", "2", "hola", "pagos"]
    users = [m.user_id for m in engine.received]
    assert users[0] == users[1] != users[2] == users[3]
    assert (report.turns_passed, report.turns_total, report.scenarios_passed) == (4, 4, 2)
    again = await evaluate_dialogues(engine, load_scenarios(path))  # type: ignore[arg-type]
    assert engine.received[4].user_id not in users  # a second run never continues the first
    assert again.scenario_rate == 1.0


async def test_failures_say_where_what_was_sent_and_why(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """scenarios:
  - name: broken
    turns:
      - {say: "pagos", expect: ['nunca']}
      - {pick: "viernes"}
      - {say: "hola", forbid: ['(']}
      - {}
""",
    )
    engine = ScriptedEngine({"pagos": MENU, "hola": Outcome((Reply("¡Hola!"),))})
    report = await evaluate_dialogues(engine, load_scenarios(path))  # type: ignore[arg-type]
    failures = [(t.number, t.sent, t.problems) for _, t in report.failures()]
    assert failures[0] == (1, "pagos", ["missing /nunca/"])
    assert failures[1][:2] == (2, "viernes") and "no such option" in failures[1][2][0]
    assert failures[2][0] == 3 and failures[2][2][0].startswith("bad regex")  # not a crash
    assert failures[3][0] == 4 and report.results[0].turns[3].outcome is None  # nothing to send
    assert [m.text for m in engine.received] == ["pagos", "viernes", "hola"]
    assert (report.turns_passed, report.scenarios_passed, report.scenario_rate) == (0, 0, 0.0)


async def test_a_tapped_training_signs_up_in_memory(settings: Settings, knowledge: Knowledge, tmp_path: Path) -> None:
    """`kb eval` scores sign-ups as the server does: a tapped session is a sign-up, then listed."""
    path = write(
        tmp_path,
        """scenarios:
  - name: sign up by tapping
    turns:
      - {say: "capacitaciones de la proxima semana"}
      - {pick: "1", expect: ['zoom', 'inscrit']}
      - {say: "mis capacitaciones", expect: ['30 de noviembre']}
""",
    )
    report = await evaluate_dialogues(evaluation_engine(settings, knowledge, fixed_clock), load_scenarios(path))
    assert report.scenario_rate == 1.0, [t.problems for _, t in report.failures()]


async def test_calendar_sign_ups_are_per_chat_and_can_be_cancelled(settings: Settings) -> None:
    from bot.bootstrap import build_calendar

    trainings = CalendarSignUps(build_calendar(settings), (60, 10))
    today = FIXED_NOW.date()
    first = (await trainings.between(1, today, today + dt.timedelta(days=7)))[0].session
    assert await trainings.sign_up(1, first.id, FIXED_NOW) == SignUp.SIGNED
    assert await trainings.sign_up(1, first.id, FIXED_NOW) == SignUp.ALREADY
    assert await trainings.sign_up(1, "no-such-session", FIXED_NOW) == SignUp.UNKNOWN
    assert await trainings.sign_up(2, first.id, first.start) == SignUp.STARTED
    assert [o.session.id for o in await trainings.mine(1, FIXED_NOW)] == [first.id]
    assert await trainings.mine(2, FIXED_NOW) == []
    assert (await trainings.offer(1, first.id)).signed_up  # type: ignore[union-attr]
    assert await trainings.cancel_sign_up(1, first.id, FIXED_NOW)
    assert not await trainings.cancel_sign_up(1, first.id, FIXED_NOW)
    assert await trainings.mine(1, FIXED_NOW) == []
