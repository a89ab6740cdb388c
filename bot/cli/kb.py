"""`perseo-bot kb ...`: evaluate, calibrate and inspect the knowledge pack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import load_settings, memory_engine

kb_app = typer.Typer(help="Knowledge base commands.", no_args_is_help=True)


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

    engine = memory_engine(load_settings())
    cases = [case for path in files for case in load_cases(path)]
    results = asyncio.run(evaluate(engine, cases))
    passed = sum(r.passed for r in results)
    rate = passed / len(results) if results else 0.0
    if as_json:
        failures = [
            {"q": r.case.q, "problems": r.problems, "source": r.outcome.source} for r in results if not r.passed
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

    settings = load_settings()
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

    knowledge = build_knowledge(load_settings())
    table = Table("id", "title", "example questions")
    for article in knowledge.pack.articles:
        table.add_row(article.id, article.title, str(len(article.questions)))
    Console().print(table)


@kb_app.command("explain")
def kb_explain(text: Annotated[str, typer.Argument(help="A customer question.")]) -> None:
    """Show how a question is normalised and which articles it matches, with scores."""
    from bot.bootstrap import build_knowledge

    retriever = build_knowledge(load_settings()).retriever
    typer.echo(json.dumps(retriever.explain(text), ensure_ascii=False))
    for match in retriever.search(text, limit=5).matches:
        parts = f"keywords={match.keywords:.2f}  characters={match.characters:.2f}"
        typer.echo(f"{match.score:.3f}  {parts}  {match.target}")
