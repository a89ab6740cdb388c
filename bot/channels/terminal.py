"""The terminal channel behind `perseo-bot chat`: a conversation on stdin/stdout."""

from __future__ import annotations

import datetime as dt
import getpass

from rich.console import Console
from rich.text import Text

from bot.engine import Engine
from bot.messages import Message

CHANNEL = "terminal"
_EXIT_WORDS = {"salir", "exit", "quit", ":q"}


async def converse(engine: Engine, console: Console, user_id: str | None = None) -> None:
    """Read lines until EOF or 'salir'. A number picks one of the options just shown,
    as tapping a button would on the other channels."""
    user_id = user_id or getpass.getuser()
    console.print("[bold]Asistente Perseo WEB[/bold] — escriba su consulta ('salir' para terminar).")
    options: tuple[str, ...] = ()
    while True:
        try:
            text = console.input("[cyan]usted>[/cyan] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if text.strip().lower() in _EXIT_WORDS:
            return
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
