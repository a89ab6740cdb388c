"""Keeping outgoing messages under a platform's limits, per process.

Each send reserves a slot: not before the overall rate allows (Telegram about 30/s, WhatsApp
80/s per number) nor before its chat's own interval (Telegram 1/s per chat, 20/min per group;
WhatsApp about one every 6 s to the same user). A chat the platform told to wait (429 with
retry-after) waits alone: other chats keep their slots.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class Pacer:
    def __init__(
        self,
        rate: float,
        per_chat_seconds: float,
        group_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.per_chat = per_chat_seconds
        self.per_group = group_seconds if group_seconds is not None else per_chat_seconds
        self.clock = clock
        self.sleep = sleep
        self._next_any = 0.0
        self._next_chat: dict[str, float] = {}

    def reserve(self, chat: str, group: bool = False) -> float:
        """Seconds to wait before sending to `chat` (the slot is taken now)."""
        now = self.clock()
        overall = max(now, self._next_any)
        # The overall slot is taken now: a chat that must wait (its own interval, a 429) never
        # pushes the other chats back behind it.
        self._next_any = overall + self.interval
        slot = max(overall, self._next_chat.get(chat, 0.0))
        self._next_chat[chat] = slot + (self.per_group if group else self.per_chat)
        if len(self._next_chat) > 50_000:  # forget chats whose slots are long past
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        return slot - now

    async def wait(self, chat: str, group: bool = False) -> None:
        delay = self.reserve(chat, group)
        if delay > 0:
            await self.sleep(delay)

    def hold(self, chat: str, seconds: float) -> None:
        """The platform asked this chat to wait (429 retry-after)."""
        self._next_chat[chat] = max(self._next_chat.get(chat, 0.0), self.clock() + seconds)
