"""The dialogue engine: one `Message` in, one `Outcome` (replies + why) out.

Where a message goes, in order:
1. `store.save_inbound` commits it, so a crash later never loses what the customer wrote;
2. inside `store.turn` (which serialises messages of the same conversation) the router reads
   the stored dialogue state and decides; the replies and the new state are written together.
Channels call `Engine.handle` and deliver `Outcome.replies` their own way.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import replace

from bot.context import GUAYAQUIL, Turn
from bot.messages import Message, Outcome
from bot.router import Router
from bot.store import ConversationStore
from knowledge.text import strip_control

Clock = Callable[[], dt.datetime]


class Engine:
    def __init__(
        self, router: Router, store: ConversationStore, clock: Clock, zone: zoneinfo.ZoneInfo = GUAYAQUIL
    ) -> None:
        self.router = router
        self.store = store
        self.clock = clock
        self.zone = zone

    async def handle(self, message: Message) -> Outcome:
        inbound = await self.store.save_inbound(message)
        async with self.store.turn(inbound) as open_turn:
            turn = Turn(
                strip_control(message.text),
                self.clock(),
                inbound.conversation_id,
                open_turn.accounts,
                self.zone,
                message.attachments,
                open_turn.handoffs,
                open_turn.trainings,
            )
            step = await self.router.decide(turn, open_turn.state)
            open_turn.finish(step.outcome, step.state)
        # Channels need to know whether a person now owns (or will own) the conversation.
        return replace(
            step.outcome, meta={**step.outcome.meta, "flow": (step.state.flow or None) if step.state else None}
        )
