"""The `perseo-bot` command. Imports stay inside the commands: `ask` must start fast and small
(see README, "Benchmarks"), so it never loads the web framework or the database driver."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.config import Settings
    from bot.engine import Engine

app = typer.Typer(help="Perseo WEB onboarding and support assistant.", no_args_is_help=True)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")


def _settings() -> Settings:
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"PERSEO_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        typer.echo(f"Invalid configuration: {problems}. Fix the environment or .env.", err=True)
        raise typer.Exit(2) from None


def _memory_engine(settings: Settings) -> Engine:
    from bot.bootstrap import build_engine
    from bot.store import InMemoryConversationStore

    return build_engine(settings, InMemoryConversationStore())


@app.command()
def ask(
    text: Annotated[
        str | None, typer.Argument(help="The question; without it, one question per line from stdin.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON: reply, fallback, source, confidence.")
    ] = False,
) -> None:
    """Answer questions, each in a fresh anonymous conversation (nothing is stored)."""
    from bot.messages import Message

    engine = _memory_engine(_settings())
    questions = [text] if text is not None else [line.rstrip("\n") for line in sys.stdin]
    as_json = as_json or text is None

    async def answer_all() -> None:
        for number, question in enumerate(questions):
            outcome = await engine.handle(Message("cli", f"ask-{number}", question, dt.datetime.now(dt.UTC)))
            reply = "\n".join(r.text for r in outcome.replies)
            if as_json:
                record = {
                    "reply": reply,
                    "fallback": outcome.fallback,
                    "source": outcome.source,
                    "confidence": round(outcome.confidence, 4),
                    "options": [o for r in outcome.replies for o in r.options],
                }
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(reply + "\n")
            sys.stdout.flush()

    asyncio.run(answer_all())


@app.command()
def chat() -> None:
    """Talk to the bot in the terminal (stored in the database like any channel)."""
    from rich.console import Console

    from bot.channels.terminal import converse

    settings = _settings()
    _migrate(settings)
    engine, database = _sql_engine(settings)

    async def talk() -> None:
        try:
            await converse(engine, Console())
        finally:
            await database.dispose()

    asyncio.run(talk())


@app.command()
def run() -> None:
    """Migrate the database and serve the web chat and APIs."""
    import uvicorn

    from bot.web.app import create_app

    settings = _settings()
    _migrate(settings)
    engine, database = _sql_engine(settings)
    typer.echo(f"Serving on http://{settings.http_host}:{settings.http_port}  (Ctrl+C to stop)")
    uvicorn.run(
        create_app(engine, database),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (idempotent)."""
    settings = _settings()
    _migrate(settings)
    typer.echo(f"Database is up to date: {_redacted(settings.database_url)}")


@kb_app.command("eval")
def kb_eval(
    files: Annotated[
        list[Path],
        typer.Argument(help="Case files in the format of kb_dev.yaml.", exists=True, dir_okay=False),
    ],
    minimum: Annotated[float, typer.Option("--min", help="Exit 1 when the pass rate is below this.")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score the bot on case files and list the failures."""
    from rich.console import Console
    from rich.table import Table

    from bot.evaluation import evaluate, load_cases

    engine = _memory_engine(_settings())
    cases = [case for path in files for case in load_cases(path)]
    results = asyncio.run(evaluate(engine, cases))
    passed = sum(r.passed for r in results)
    rate = passed / len(results) if results else 0.0
    if as_json:
        failures = [
            {"q": r.case.q, "problems": r.problems, "source": r.outcome.source}
            for r in results
            if not r.passed
        ]
        typer.echo(
            json.dumps(
                {"passed": passed, "total": len(results), "rate": rate, "failures": failures},
                ensure_ascii=False,
            )
        )
    else:
        console = Console()
        if passed < len(results):
            table = Table("question", "answered with", "problems", title="Failures")
            for r in results:
                if not r.passed:
                    table.add_row(r.case.q, str(r.outcome.source), "; ".join(r.problems))
            console.print(table)
        console.print(f"{passed}/{len(results)} passed ({rate:.1%})")
    if rate < minimum:
        raise typer.Exit(1)


@kb_app.command("calibrate")
def kb_calibrate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Case files in the format of kb_dev.yaml.", exists=True, dir_okay=False),
    ],
) -> None:
    """Show the pass rate for each answer threshold, to choose thresholds.yaml."""
    from rich.console import Console
    from rich.table import Table

    from bot.evaluation import calibrate, load_cases

    settings = _settings()
    cases = [case for path in files for case in load_cases(path)]
    rows = asyncio.run(calibrate(settings, cases))
    table = Table("answer threshold", "passed", "rate")
    best = max(rows, key=lambda row: row[1])
    for threshold, passed in rows:
        style = "bold green" if (threshold, passed) == best else None
        table.add_row(f"{threshold:.2f}", f"{passed}/{len(cases)}", f"{passed / len(cases):.1%}", style=style)
    Console().print(table)
    typer.echo(f"best: answer >= {best[0]:.2f} ({best[1]}/{len(cases)}); keep suggest about 0.06 below it")


@kb_app.command("list")
def kb_list() -> None:
    """List the articles of the configured pack."""
    from rich.console import Console
    from rich.table import Table

    from bot.bootstrap import build_knowledge

    knowledge = build_knowledge(_settings())
    table = Table("id", "title", "example questions")
    for article in knowledge.pack.articles:
        table.add_row(article.id, article.title, str(len(article.questions)))
    Console().print(table)


@kb_app.command("explain")
def kb_explain(text: Annotated[str, typer.Argument(help="A customer question.")]) -> None:
    """Show how a question is normalised and which articles it matches, with scores."""
    from bot.bootstrap import build_knowledge

    retriever = build_knowledge(_settings()).retriever
    typer.echo(json.dumps(retriever.explain(text), ensure_ascii=False))
    for match in retriever.search(text, limit=5).matches:
        parts = f"keywords={match.keywords:.2f}  characters={match.characters:.2f}"
        typer.echo(f"{match.score:.3f}  {parts}  {match.target}")


def _migrate(settings: Settings) -> None:
    """Apply migrations, or exit with what to check."""
    from bot.persistence.database import create_engine, upgrade

    path = settings.sqlite_path()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)

    async def migrate() -> None:
        database = create_engine(settings.database_url)
        try:
            await upgrade(database)
        finally:
            await database.dispose()

    try:
        asyncio.run(migrate())
    except Exception as exc:
        typer.echo(
            f"Could not migrate {_redacted(settings.database_url)}: {exc}\n"
            "Check PERSEO_DATABASE_URL and that the database server is running.",
            err=True,
        )
        raise typer.Exit(1) from None


def _sql_engine(settings: Settings) -> tuple[Engine, AsyncEngine]:
    """The engine on the SQL store. Nothing connects until the first message."""
    from bot.bootstrap import build_engine, system_clock
    from bot.persistence.database import create_engine, sessionmaker
    from bot.persistence.sql_store import SqlConversationStore

    database = create_engine(settings.database_url)
    store = SqlConversationStore(sessionmaker(database), system_clock)
    return build_engine(settings, store), database


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def main() -> None:
    app()
