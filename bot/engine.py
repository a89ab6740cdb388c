"""The dialogue engine: one `Message` in, one `Outcome` (replies + why) out.

Where a message goes, in order:
1. `store.save_inbound` commits it, so a crash later never loses what the customer wrote;
2. inside `store.turn` (which serialises messages of the same conversation) the router reads
   the stored dialogue state and decides; the replies and the new state are written together.
Channels call `Engine.handle` and deliver `Outcome.replies` their own way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.context import Turn
from bot.messages import Message, Outcome
from bot.router import Router
from bot.store import ConversationStore
from knowledge.text import strip_control

Clock = Callable[[], dt.datetime]


class Engine:
    def __init__(self, router: Router, store: ConversationStore, clock: Clock) -> None:
        self.router = router
        self.store = store
        self.clock = clock

    async def handle(self, message: Message) -> Outcome:
        inbound = await self.store.save_inbound(message)
        async with self.store.turn(inbound) as turn:
            step = self.router.decide(Turn(strip_control(message.text), self.clock()), turn.state)
            turn.finish(step.outcome, step.state)
        return step.outcome
