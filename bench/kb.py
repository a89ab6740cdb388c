"""Knowledge-base benchmark (`make bench`).

Measures, each as the median of several runs:
- accuracy on tests/data/kb_dev.yaml, kb_dev2.yaml and kb_extra.yaml, and the turn and
  scenario pass rates of the dialogue set tests/data/dialogues_dev.yaml;
- cross-validation over the shipped pack's example questions (5-fold, and
  leave-one-article-out: see bot/crossval.py);
- in-process answer latency p50/p99 and questions per second (Engine.handle on the
  in-memory store: normalisation, retrieval, routing, reply);
- the same with the knowledge base grown 10x by synthetic articles;
- wall time and peak RSS of a one-question `perseo-bot ask` (a fresh process each run).

Usage: python bench/kb.py [--runs N] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.crossval import CrossValidation, Verdict  # noqa: E402
from bot.dialogue_eval import Scenario, evaluate_dialogues, load_scenarios  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.evaluation import Case, evaluate, evaluation_engine, load_cases  # noqa: E402
from bot.messages import Message  # noqa: E402
from knowledge.pack import PACKS_DIR  # noqa: E402
from knowledge.retrieval import COMMON_WORDS  # noqa: E402

DATA = ROOT / "tests" / "data"
REPEAT = 20  # passes over the question set per latency run


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def grow_pack(factor: int, destination: Path) -> Path:
    """A copy of the shipped pack plus (factor - 1) x as many synthetic articles."""
    shutil.copytree(PACKS_DIR / "perseo", destination)
    words = [w for w in COMMON_WORDS.read_text(encoding="utf-8").splitlines() if w and not w.startswith("#")]
    rng = random.Random(2026)
    shipped = len(list((destination / "articles").glob("*.md")))
    for number in range(shipped * (factor - 1)):
        title = " ".join(rng.sample(words, 4))
        questions = "".join(f"  - {' '.join(rng.sample(words, 6))}\n" for _ in range(12))
        body = " ".join(rng.sample(words, 40))
        text = f"---\nid: sintetico-{number}\ntitle: {title}\nquestions:\n{questions}---\n{body}\n"
        (destination / "articles" / f"sintetico-{number}.md").write_text(text, encoding="utf-8")
    return destination


async def latencies(engine: Engine, questions: list[str]) -> list[float]:
    samples = []
    for round_number in range(REPEAT):
        for index, question in enumerate(questions):
            message = Message("bench", f"{round_number}-{index}", question, dt.datetime.now(dt.UTC))
            start = time.perf_counter()
            await engine.handle(message)
            samples.append(time.perf_counter() - start)
    return samples


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure_pack(pack: str, cases: list[Case], runs: int, progress: Progress) -> dict[str, float]:
    settings = Settings(_env_file=None, knowledge_pack=pack)  # type: ignore[call-arg]
    start = time.perf_counter()
    engine = _engine(settings)
    build_seconds = time.perf_counter() - start
    results = await evaluate(engine, cases)
    accuracy = sum(r.passed for r in results) / len(results)
    questions = [c.q for c in cases]
    p50s, p99s, qps = [], [], []
    task = progress.add_task(f"latency ({Path(pack).name})", total=runs)
    for _ in range(runs):
        samples = await latencies(engine, questions)
        p50s.append(percentile(samples, 0.50) * 1000)
        p99s.append(percentile(samples, 0.99) * 1000)
        qps.append(len(samples) / sum(samples))
        progress.advance(task)
    return {
        "articles": len(engine.router.knowledge.pack.articles),
        "index_build_s": build_seconds,
        "accuracy": accuracy,
        "p50_ms": statistics.median(p50s),
        "p99_ms": statistics.median(p99s),
        "questions_per_s": statistics.median(qps),
    }


# Runs inside a bare interpreter: Linux counts a child's RSS from before exec in ru_maxrss,
# so forking `perseo-bot` from this (large) benchmark process would report our size, not its.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(json.dumps({"wall": time.perf_counter() - start, "kib": usage.ru_maxrss, "status": status}))
"""


def measure_ask(runs: int, progress: Progress) -> dict[str, float]:
    """Wall time and peak RSS of `perseo-bot ask --json QUESTION` as a fresh process."""
    executable = str(Path(sys.executable).parent / "perseo-bot")
    command = [executable, "ask", "--json", "cual es la clave del facturador"]
    walls, peaks = [], []
    task = progress.add_task("perseo-bot ask", total=runs)
    for _ in range(runs):
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, *command]
        launched = subprocess.run(launcher, capture_output=True, text=True, cwd=ROOT, check=True)
        figures = json.loads(launched.stdout)
        if figures["status"] != 0:
            raise SystemExit(f"perseo-bot ask failed: {launched.stderr}")
        walls.append(figures["wall"])
        peaks.append(figures["kib"] / 1024)
        progress.advance(task)
    return {"wall_s": statistics.median(walls), "peak_rss_mb": statistics.median(peaks)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median reported)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    dev = load_cases(DATA / "kb_dev.yaml")
    dev2 = load_cases(DATA / "kb_dev2.yaml")
    everything = dev + load_cases(DATA / "kb_extra.yaml")
    scenarios = load_scenarios(DATA / "dialogues_dev.yaml")
    console = Console()
    with Progress(console=console) as progress, tempfile.TemporaryDirectory() as scratch:
        shipped = asyncio.run(measure_pack("perseo", everything, args.runs, progress))
        grown_dir = grow_pack(10, Path(scratch) / "perseo-10x")
        grown = asyncio.run(measure_pack(str(grown_dir), everything, args.runs, progress))
        for figures, pack in ((shipped, "perseo"), (grown, str(grown_dir))):
            figures["dev_accuracy"] = asyncio.run(_accuracy(pack, dev))
            figures["dev2_accuracy"] = asyncio.run(_accuracy(pack, dev2))
            figures.update(asyncio.run(_dialogues(pack, scenarios)))
        task = progress.add_task("cross-validation", total=1)
        cv = asyncio.run(cross_validation())
        progress.advance(task)
        ask = measure_ask(args.runs, progress)

    table = Table(title=f"perseo-bot knowledge benchmark — median of {args.runs} runs — {machine()}")
    table.add_column("measure")
    table.add_column("shipped pack", justify="right")
    table.add_column("10x pack", justify="right")
    rows = [
        ("articles", "articles", "{:.0f}"),
        ("accuracy, dev set", "dev_accuracy", "{:.1%}"),
        ("accuracy, dev2 set", "dev2_accuracy", "{:.1%}"),
        ("accuracy, dev + extra", "accuracy", "{:.1%}"),
        ("dialogue turns passed", "dialogue_turn_rate", "{:.1%}"),
        ("dialogue scenarios passed", "dialogue_scenario_rate", "{:.1%}"),
        ("latency p50 (ms)", "p50_ms", "{:.3f}"),
        ("latency p99 (ms)", "p99_ms", "{:.3f}"),
        ("questions per second", "questions_per_s", "{:.0f}"),
        ("index build (s)", "index_build_s", "{:.2f}"),
    ]
    for label, key, fmt in rows:
        table.add_row(label, fmt.format(shipped[key]), fmt.format(grown[key]))
    console.print(table)
    console.print(
        f"cross-validation on the shipped pack ({cv['questions']:.0f} example questions): 5-fold "
        f"{cv['kfold_correct']:.1%} answered with the right article ({cv['kfold_clarified']:.1%} menu, "
        f"{cv['kfold_declined']:.1%} declined, {cv['kfold_wrong']:.1%} wrong article); leave-one-article-out "
        f"{cv['loao_wrong']:.1%} answered anyway ({cv['loao_declined']:.1%} declined, {cv['loao_clarified']:.1%} menu)"
    )
    console.print(f"one-question `perseo-bot ask`: {ask['wall_s']:.2f} s wall, {ask['peak_rss_mb']:.0f} MB peak RSS")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "machine": machine(),
            "runs": args.runs,
            "shipped": shipped,
            "grown_10x": grown,
            "cross_validation": cv,
            "ask": ask,
        }
        args.json.write_text(json.dumps(report, indent=2))
    return 0


async def _accuracy(pack: str, cases: list[Case]) -> float:
    settings = Settings(_env_file=None, knowledge_pack=pack)  # type: ignore[call-arg]
    results = await evaluate(_engine(settings), cases)
    return sum(r.passed for r in results) / len(results)


async def _dialogues(pack: str, scenarios: list[Scenario]) -> dict[str, float]:
    settings = Settings(_env_file=None, knowledge_pack=pack)  # type: ignore[call-arg]
    report = await evaluate_dialogues(_engine(settings), scenarios)
    return {"dialogue_turn_rate": report.turn_rate, "dialogue_scenario_rate": report.scenario_rate}


async def cross_validation(folds: int = 5, seed: int = 2026) -> dict[str, float]:
    """`perseo-bot kb cv` on the shipped pack (one run: it is deterministic)."""
    validation = CrossValidation(Settings(_env_file=None))  # type: ignore[call-arg]
    k_fold = (await validation.k_fold(folds, seed)).total
    left_out = (await validation.leave_one_article_out()).total
    figures = {"questions": float(len(k_fold.asked))}
    for verdict in Verdict:
        figures[f"kfold_{verdict.value}"] = k_fold.share(verdict)
        figures[f"loao_{verdict.value}"] = left_out.share(verdict)
    return figures


def _engine(settings: Settings) -> Engine:
    """As `kb eval` scores: in memory, with the pack's training calendar (sign-ups in memory)."""
    return evaluation_engine(settings)


if __name__ == "__main__":
    raise SystemExit(main())
