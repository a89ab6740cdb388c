"""The `perseo-bot` command as users run it (a real subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA

BIN = shutil.which("perseo-bot", path=str(Path(sys.executable).parent)) or "perseo-bot"


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [BIN, *args], input=stdin, capture_output=True, text=True, env=environment, cwd=cwd, timeout=120
    )


def test_ask_json_contract() -> None:
    result = run("ask", "--json", "¿con qué clave entro la primera vez?")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert {"reply", "fallback", "source", "confidence"} <= set(record)
    assert "123" in record["reply"] and record["fallback"] is False
    assert isinstance(record["source"], str) and isinstance(record["confidence"], float)


def test_ask_reads_stdin_as_json_lines_in_order() -> None:
    questions = ["hola", "cual es el clima en quito", "clave del facturador"]
    result = run("ask", stdin="\n".join(questions) + "\n")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["source"] == "smalltalk.greeting"
    assert lines[1]["fallback"] is True and lines[1]["source"] is None
    assert lines[2]["source"] == "clave-facturador"


def test_ask_plain_prints_the_reply() -> None:
    result = run("ask", "formas de pago")
    assert "transferencia" in result.stdout


def test_kb_eval_exit_codes() -> None:
    ok = run("kb", "eval", str(DATA / "kb_dev.yaml"), "--min", "0.95")
    assert ok.returncode == 0, ok.stdout
    assert "passed" in ok.stdout
    impossible = run("kb", "eval", str(DATA / "kb_dev.yaml"), "--min", "1.01")
    assert impossible.returncode == 1


DIALOGUES = """scenarios:
  - name: biller key then a follow-up
    turns:
      - {say: "cual es la clave del facturador", expect: ['\\b01\\b']}
      - {say: "hola", expect: ['nunca dira esto']}
  - name: greeting
    turns:
      - {say: "hola", any: ['hola']}
"""


def test_kb_eval_scores_dialogue_files_with_case_files(tmp_path: Path) -> None:
    dialogues = tmp_path / "dialogues.yaml"
    dialogues.write_text(DIALOGUES, encoding="utf-8")
    result = run("kb", "eval", str(DATA / "kb_dev.yaml"), str(dialogues), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["passed"], report["total"]) == (50, 50)
    scored = report["dialogues"]
    assert (scored["turns_passed"], scored["turns_total"]) == (2, 3)
    assert (scored["scenarios_passed"], scored["scenarios_total"], scored["scenario_rate"]) == (1, 2, 0.5)
    (failure,) = scored["failures"]
    assert (failure["scenario"], failure["turn"], failure["sent"]) == ("biller key then a follow-up", 2, "hola")
    assert failure["problems"] == ["missing /nunca dira esto/"] and failure["reply"]
    printed = run("kb", "eval", str(dialogues), "--min", "0.6", env={"COLUMNS": "250"})  # --min: scenarios too
    assert printed.returncode == 1
    assert "turns 2/3 passed" in printed.stdout and "scenarios 1/2 passed" in printed.stdout
    assert "biller key then a follow-up" in printed.stdout


def test_kb_eval_refuses_a_file_that_is_neither_kind(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("preguntas: []\n", encoding="utf-8")
    result = run("kb", "eval", str(other))
    assert result.returncode == 2
    assert "neither 'cases:' nor 'scenarios:'" in result.stderr


def test_kb_cv_reports_k_fold_and_leave_one_article_out(tmp_path: Path) -> None:
    from knowledge.pack import PACKS_DIR

    pack = shutil.copytree(PACKS_DIR / "perseo", tmp_path / "pack")  # three articles: a quick run
    keep = {"clave-facturador.md", "costo-soporte.md", "tutoriales.md"}
    for article in (pack / "articles").glob("*.md"):
        if article.name not in keep:
            article.unlink()
    env = {"PERSEO_KNOWLEDGE_PACK": str(pack)}
    result = run("kb", "cv", "--folds", "3", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    k_fold, left_out = report["k_fold"], report["leave_one_article_out"]
    questions = k_fold["total"]["questions"]
    assert k_fold["folds"] == 3 and len(k_fold["per_fold"]) == 3 and questions > 30
    assert sum(k_fold["total"][v] for v in ("correct", "clarified", "declined", "wrong")) == questions
    assert (
        set(k_fold["per_article"])
        == set(left_out["per_article"])
        == {"clave-facturador", "costo-soporte", "tutoriales"}
    )
    assert left_out["total"]["questions"] == questions and left_out["total"]["correct"] == 0
    assert left_out["wrongly_answered"] == left_out["total"]["wrong_rate"]
    printed = run("kb", "cv", "--folds", "3", env={**env, "COLUMNS": "200"})
    assert "answered with the right article" in printed.stdout and "leave-one-article-out" in printed.stdout
    assert run("kb", "cv", "--folds", "1", env=env).returncode == 2


def test_db_upgrade_creates_the_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'perseo.db'}"
    result = run("db", "upgrade", env={"PERSEO_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "nested" / "perseo.db").exists()
    again = run("db", "upgrade", env={"PERSEO_DATABASE_URL": url})
    assert again.returncode == 0


def test_bad_configuration_says_what_to_fix() -> None:
    result = run("ask", "hola", env={"PERSEO_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2
    assert "PERSEO_TIMEZONE" in result.stderr


def test_unreachable_database_says_what_to_check() -> None:
    result = run("db", "upgrade", env={"PERSEO_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert result.returncode == 1
    assert "PERSEO_DATABASE_URL" in result.stderr


@pytest.mark.parametrize("command", [["kb", "list"], ["kb", "explain", "klave de facturdor"]])
def test_kb_helpers(command: list[str]) -> None:
    result = run(*command)
    assert result.returncode == 0, result.stderr
    assert "clave-facturador" in result.stdout


def test_chat_in_the_terminal_resumes_by_option_number(tmp_path: Path) -> None:
    """The terminal channel: a number picks one of the options just shown."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    result = run("chat", stdin="clave\n2\nsalir\n", env={"PERSEO_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    after_choice = result.stdout.split("usted>")[2]
    assert "Agentes de Venta" in after_choice


def test_trainings_list_json_contract_and_bad_ids(tmp_path: Path) -> None:
    env = {"PERSEO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'trainings.db'}"}
    listed = run("trainings", "list", "--from", "2026-10-29", "--days", "8", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    sessions = json.loads(listed.stdout)
    assert [s["id"] for s in sessions] == ["tardes-20261029", "tardes-20261030", "tardes-20261104", "tardes-20261105"]
    first = sessions[0]
    assert first["start"] == "2026-10-29T15:00:00-05:00" and first["end"] == "2026-10-29T16:00:00-05:00"
    assert first["topic"] and first["join_url"].startswith("https://") and first["seats_left"] == 100
    unknown = run("trainings", "cancel", "tardes-20261102", env=env)  # 2 November: a holiday, no session
    assert unknown.returncode == 1 and "no session" in unknown.stderr
    assert run("trainings", "attendees", "nope", env=env).returncode == 1
    bad_date = run("trainings", "list", "--from", "29/10/2026", env=env)
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr


def test_run_on_a_busy_port_says_which_setting_to_change(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            "run",
            env={"PERSEO_HTTP_PORT": str(port), "PERSEO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"},
        )
    assert result.returncode == 1
    assert "PERSEO_HTTP_PORT" in result.stderr and "Traceback" not in result.stderr
    assert "Serving on" not in result.stdout
