"""The terminal channel behind `perseo-bot chat`: a conversation on stdin/stdout."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.text import Text

from bot.engine import Engine
from bot.messages import Message

CHANNEL = "terminal"
_EXIT_WORDS = {"salir", "exit", "quit", ":q"}


# What an advisor wrote to this chat after a cursor: (texts, new cursor); None asks only the cursor.
Updates = Callable[[str, int | None], Awaitable[tuple[list[str], int]]]


async def converse(
    engine: Engine, console: Console, user_id: str | None = None, updates: Updates | None = None
) -> None:
    """Read lines until EOF or 'salir'. A number picks one of the options just shown,
    as tapping a button would on the other channels. With `updates`, an advisor's messages
    are shown before each prompt (an empty line just looks for them)."""
    user_id = user_id or getpass.getuser()
    console.print("[bold]Asistente Perseo WEB[/bold] — escriba su consulta ('salir' para terminar).")
    options: tuple[str, ...] = ()
    cursor = (await updates(user_id, None))[1] if updates else 0
    while True:
        if updates:
            texts, cursor = await updates(user_id, cursor)
            for pushed in texts:
                console.print(Text.assemble(("asesor> ", "magenta"), pushed))
        try:
            text = console.input("[cyan]usted>[/cyan] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if text.strip().lower() in _EXIT_WORDS:
            return
        if not text.strip() and updates:
            continue
        choice = text.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(options):
            text = options[int(choice) - 1]
        outcome = await engine.handle(Message(CHANNEL, user_id, text, dt.datetime.now(dt.UTC)))
        options = ()
        for reply in outcome.replies:
            console.print(Text.assemble(("bot> ", "green"), reply.text))
            for number, option in enumerate(reply.options, start=1):
                console.print(Text(f"      {number}) {option}"))
            options = reply.options or options
