"""`perseo-bot kb ...`: evaluate, calibrate and inspect the knowledge pack."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml

from bot.cli.common import load_settings

if TYPE_CHECKING:
    from rich.console import Console

    from bot.crossval import KFoldReport, LeaveOutReport, Tally
    from bot.dialogue_eval import DialogueReport
    from bot.evaluation import Result

kb_app = typer.Typer(help="Knowledge base commands.", no_args_is_help=True)


@kb_app.command("eval")
def kb_eval(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Case files (kb_dev.yaml format) and/or dialogue files (with 'scenarios:').",
            exists=True,
            dir_okay=False,
        ),
    ],
    minimum: Annotated[
        float, typer.Option("--min", help="Exit 1 when the case or the scenario pass rate is below this.")
    ] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score the bot on case and dialogue files and list the failures."""
    from rich.console import Console

    from bot.dialogue_eval import evaluate_dialogues, load_scenarios, read_yaml
    from bot.evaluation import evaluate, evaluation_engine, load_cases

    cases, scenarios = [], []
    try:
        for path in files:
            data = read_yaml(path)
            if "cases" not in data and "scenarios" not in data:
                raise ValueError(f"{path}: has neither 'cases:' nor 'scenarios:'")
            cases += load_cases(path) if "cases" in data else []
            scenarios += load_scenarios(path) if "scenarios" in data else []
    except (ValueError, yaml.YAMLError) as exc:
        typer.echo(f"Cannot read the evaluation files: {exc}", err=True)
        raise typer.Exit(2) from None

    engine = evaluation_engine(load_settings())
    results = asyncio.run(evaluate(engine, cases)) if cases else []
    dialogues = asyncio.run(evaluate_dialogues(engine, scenarios)) if scenarios else None
    passed = sum(r.passed for r in results)
    rate = passed / len(results) if results else 0.0
    report: dict[str, object] = {}
    if cases:
        failures = [
            {"q": r.case.q, "problems": r.problems, "source": r.outcome.source} for r in results if not r.passed
        ]
        report |= {"passed": passed, "total": len(results), "rate": rate, "failures": failures}
    if dialogues is not None:
        report["dialogues"] = dialogue_report(dialogues)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        console = Console()
        if cases:
            print_case_report(console, results, passed, rate)
        if dialogues is not None:
            print_dialogue_report(console, dialogues)
    too_low = (cases and rate < minimum) or (dialogues is not None and dialogues.scenario_rate < minimum)
    if too_low:
        raise typer.Exit(1)


def print_case_report(console: Console, results: list[Result], passed: int, rate: float) -> None:
    from rich.table import Table

    if passed < len(results):
        table = Table("question", "answered with", "problems", title="Failures")
        for r in results:
            if not r.passed:
                table.add_row(r.case.q, str(r.outcome.source), "; ".join(r.problems))
        console.print(table)
    console.print(f"{passed}/{len(results)} passed ({rate:.1%})")


def dialogue_report(report: DialogueReport) -> dict[str, object]:
    failures = [
        {
            "scenario": scenario.scenario.name,
            "turn": turn.number,
            "sent": turn.sent,
            "reply": turn.reply,
            "fallback": turn.outcome.fallback if turn.outcome else None,
            "source": turn.outcome.source if turn.outcome else None,
            "problems": turn.problems,
        }
        for scenario, turn in report.failures()
    ]
    return {
        "turns_passed": report.turns_passed,
        "turns_total": report.turns_total,
        "turn_rate": report.turn_rate,
        "scenarios_passed": report.scenarios_passed,
        "scenarios_total": len(report.results),
        "scenario_rate": report.scenario_rate,
        "failures": failures,
    }


def print_dialogue_report(console: Console, report: DialogueReport) -> None:
    from rich.table import Table

    failures = report.failures()
    if failures:
        table = Table("scenario", "turn", "said", "reply", "problems", title="Dialogue failures", show_lines=True)
        for scenario, turn in failures:
            reply = shorten(turn.reply) if turn.outcome is not None else "(nothing sent)"
            if turn.outcome is not None and turn.outcome.fallback:
                reply = f"[fallback] {reply}"
            table.add_row(scenario.scenario.name, str(turn.number), turn.sent, reply, "; ".join(turn.problems))
        console.print(table)
    console.print(
        f"dialogue turns {report.turns_passed}/{report.turns_total} passed ({report.turn_rate:.1%}), "
        f"scenarios {report.scenarios_passed}/{len(report.results)} passed ({report.scenario_rate:.1%})"
    )


def shorten(text: str, limit: int = 220) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


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


@kb_app.command("cv")
def kb_cv(
    folds: Annotated[int, typer.Option("--folds", min=2, max=50, help="Number of folds.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the shuffle that deals questions to folds.")] = 2026,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Cross-validate over the pack's example questions: k-fold (each fold's questions removed
    from the articles, then asked) and leave-one-article-out (its questions should be declined)."""
    from rich.console import Console

    from bot.crossval import CrossValidation

    validation = CrossValidation(load_settings())

    async def run() -> tuple[KFoldReport, LeaveOutReport]:
        return await validation.k_fold(folds, seed), await validation.leave_one_article_out()

    k_fold, left_out = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(cv_report(k_fold, left_out), ensure_ascii=False))
    else:
        print_cv_report(Console(), k_fold, left_out)


def cv_report(k_fold: KFoldReport, left_out: LeaveOutReport) -> dict[str, object]:
    return {
        "k_fold": {
            "folds": len(k_fold.folds),
            "seed": k_fold.seed,
            "total": k_fold.total.as_json(),
            "per_fold": [fold.as_json() for fold in k_fold.folds],
            "per_article": {a: tally.as_json() for a, tally in k_fold.by_article().items()},
            "wrong_sources": dict(k_fold.total.wrong_sources().most_common()),
        },
        "leave_one_article_out": {
            "total": left_out.total.as_json(),
            "wrongly_answered": left_out.wrongly_answered,
            "per_article": {a: tally.as_json() for a, tally in left_out.articles.items()},
            "wrong_sources": dict(left_out.total.wrong_sources().most_common()),
        },
    }


def print_cv_report(console: Console, k_fold: KFoldReport, left_out: LeaveOutReport) -> None:
    from rich.table import Table

    from bot.crossval import Tally, Verdict

    def cell(tally: Tally, verdict: Verdict) -> str:
        return f"{tally.count(verdict)} ({tally.share(verdict):.0%})"

    by_article = k_fold.by_article()
    table = Table(
        "article",
        "questions",
        "k-fold correct",
        "k-fold wrong (mostly as)",
        "left out: declined",
        "left out: menu",
        "left out: answered",
        title="Per article",
    )
    for article_id, tally in sorted(by_article.items(), key=lambda item: item[1].share(Verdict.CORRECT)):
        mostly = tally.wrong_sources().most_common(1)
        wrong = cell(tally, Verdict.WRONG) + (f" {mostly[0][0]}" if mostly else "")
        alone = left_out.articles.get(article_id, Tally(()))
        table.add_row(
            article_id,
            str(len(tally.asked)),
            cell(tally, Verdict.CORRECT),
            wrong,
            cell(alone, Verdict.DECLINED),
            cell(alone, Verdict.CLARIFIED),
            cell(alone, Verdict.WRONG),
        )
    console.print(table)

    folds = Table("fold", "questions", "correct", "menu", "declined", "wrong article", title="k-fold")
    for number, tally in enumerate((*k_fold.folds, k_fold.total), start=1):
        label = "all" if number > len(k_fold.folds) else str(number)
        menus = f"{cell(tally, Verdict.CLARIFIED)}, {tally.menus_with_the_article} listing it"
        folds.add_row(
            label,
            str(len(tally.asked)),
            cell(tally, Verdict.CORRECT),
            menus,
            cell(tally, Verdict.DECLINED),
            cell(tally, Verdict.WRONG),
            style="bold" if label == "all" else None,
        )
    console.print(folds)
    total, alone = k_fold.total, left_out.total
    console.print(
        f"k-fold ({len(k_fold.folds)} folds, seed {k_fold.seed}): {total.count(Verdict.CORRECT)}/{len(total.asked)} "
        f"answered with the right article ({total.share(Verdict.CORRECT):.1%}); missed: "
        f"{total.share(Verdict.CLARIFIED):.1%} menu, {total.share(Verdict.DECLINED):.1%} declined, "
        f"{total.share(Verdict.WRONG):.1%} wrong article"
    )
    console.print(
        f"leave-one-article-out: {alone.count(Verdict.WRONG)}/{len(alone.asked)} questions about a missing topic "
        f"answered anyway ({left_out.wrongly_answered:.1%}); {alone.share(Verdict.DECLINED):.1%} declined, "
        f"{alone.share(Verdict.CLARIFIED):.1%} menu"
    )


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
