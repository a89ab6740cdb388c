"""The terminal channel shows what an advisor wrote, before each prompt."""

from __future__ import annotations

import io

from rich.console import Console

from bot.channels.terminal import converse
from bot.engine import Engine


async def test_advisor_messages_appear_in_order_and_once(engine: Engine) -> None:
    pushed = {1: "Hola, le saluda Andrea.", 2: "¿Me confirma su RUC?"}
    lines = iter(["", "", "salir"])
    console = Console(file=io.StringIO(), width=200)
    console.input = lambda prompt="": next(lines)  # type: ignore[method-assign]
    calls: list[int | None] = []

    async def updates(user_id: str, after: int | None) -> tuple[list[str], int]:
        calls.append(after)
        if after is None:
            return [], 0
        visible = len(calls) - 1  # one more message becomes visible at each look
        new = [(i, t) for i, t in pushed.items() if after < i <= visible]
        return [t for _, t in new], max([after, *(i for i, _ in new)])

    await converse(engine, console, "ana", updates=updates)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert output.count("asesor> Hola, le saluda Andrea.") == 1
    assert output.index("Andrea") < output.index("¿Me confirma su RUC?")
    assert calls == [None, 0, 1, 2]
