"""The conversation store the engine talks to (a port, in the cosmicpython sense).

Two implementations: `bot.persistence.sql.SqlConversationStore` (SQLite or PostgreSQL, what
the server uses) and `InMemoryConversationStore` below (one-shot commands like
`perseo-bot ask` and unit tests, where nothing should outlive the process).

The protocol encodes the durability rule: `save_inbound` commits the customer's message
before anything is decided, and `turn` is a unit of work that reads the dialogue state and
writes the replies, the new state and the "processed" mark together.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from bot.accounts import Accounts, NoAccounts
from bot.handoffs import Handoffs, NoHandoffs
from bot.messages import FlowState, Message, Outcome
from bot.trainings import Trainings, no_trainings


@dataclass(frozen=True)
class StoredInbound:
    conversation_id: int
    message_id: int


class OpenTurn(Protocol):
    state: FlowState | None
    accounts: Accounts
    handoffs: Handoffs
    trainings: Trainings

    def finish(self, outcome: Outcome, state: FlowState | None) -> None: ...


@dataclass(frozen=True)
class ChatLine:
    """One message of a conversation as the customer saw it (the web chat shows these again
    after a page reload)."""

    id: int  # increases in the order the messages were written
    role: str  # "customer", "bot" or "advisor"
    text: str
    options: tuple[str, ...] = ()


def pending_options(lines: list[ChatLine]) -> tuple[str, ...]:
    """The options of the bot's last reply that offered some, while the customer has not
    written since: what the customer can still tap."""
    for line in reversed(lines):
        if line.role == "customer":
            return ()
        if line.role == "bot" and line.options:
            return line.options
    return ()


class ConversationStore(Protocol):
    async def save_inbound(self, message: Message) -> StoredInbound: ...

    def turn(self, inbound: StoredInbound) -> AbstractAsyncContextManager[OpenTurn]: ...

    async def history(self, channel: str, user_id: str, limit: int) -> list[ChatLine]:
        """The last `limit` messages of the chat, oldest first; none for an unknown chat."""
        ...


@dataclass
class PendingTurn:
    """The `OpenTurn` both stores hand out: the state read, the accounts bound to the same
    transaction, and the decision to write on exit."""

    state: FlowState | None
    accounts: Accounts = field(default_factory=NoAccounts)
    handoffs: Handoffs = field(default_factory=NoHandoffs)
    trainings: Trainings = field(default_factory=no_trainings)
    result: tuple[Outcome, FlowState | None] | None = None

    def finish(self, outcome: Outcome, state: FlowState | None) -> None:
        self.result = (outcome, state)


@dataclass
class StoredMessage:
    conversation_id: int
    direction: str  # "in" or "out"
    text: str
    options: tuple[str, ...] = ()
    processed: bool = False


@dataclass
class InMemoryConversationStore:
    conversations: dict[tuple[str, str], int] = field(default_factory=dict)
    states: dict[int, FlowState | None] = field(default_factory=dict)
    messages: list[StoredMessage] = field(default_factory=list)
    trainings: Callable[[], Trainings] = no_trainings  # e.g. the pack's calendar, read-only
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def save_inbound(self, message: Message) -> StoredInbound:
        key = (message.channel, message.user_id)
        if key not in self.conversations:
            self.conversations[key] = next(self._ids)
        conversation_id = self.conversations[key]
        self.messages.append(StoredMessage(conversation_id, "in", message.text))
        return StoredInbound(conversation_id, len(self.messages) - 1)

    def turn(self, inbound: StoredInbound) -> AbstractAsyncContextManager[OpenTurn]:
        return self._turn(inbound)

    async def history(self, channel: str, user_id: str, limit: int) -> list[ChatLine]:
        conversation_id = self.conversations.get((channel, user_id))
        if conversation_id is None or limit <= 0:
            return []
        lines = [
            ChatLine(number, "customer" if m.direction == "in" else "bot", m.text, m.options)
            for number, m in enumerate(self.messages)
            if m.conversation_id == conversation_id
        ]
        return lines[-limit:]

    @asynccontextmanager
    async def _turn(self, inbound: StoredInbound) -> AsyncIterator[OpenTurn]:
        turn = PendingTurn(self.states.get(inbound.conversation_id), trainings=self.trainings())
        yield turn
        if turn.result is None:
            return
        outcome, state = turn.result
        for reply in outcome.replies:
            self.messages.append(StoredMessage(inbound.conversation_id, "out", reply.text, reply.options))
        self.states[inbound.conversation_id] = state
        self.messages[inbound.message_id].processed = True
