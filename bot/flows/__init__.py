"""Multi-step dialogues. Their state lives in the conversation row (see `FlowState`), never in
process memory, so the next message may reach any process and still continue the dialogue."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import FlowState, Outcome


@dataclass(frozen=True)
class Step:
    outcome: Outcome
    state: FlowState | None  # None: the dialogue is over
