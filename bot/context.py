"""What a handler or flow may use to answer one message."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from bot.accounts import Accounts, NoAccounts
from bot.handoffs import Handoffs, NoHandoffs
from bot.messages import Attachment
from bot.trainings import Trainings, no_trainings
from knowledge.pack import Pack
from knowledge.retrieval import Retriever

GUAYAQUIL = zoneinfo.ZoneInfo("America/Guayaquil")


@dataclass(frozen=True)
class Turn:
    text: str  # the customer's text, control characters removed
    now: dt.datetime  # the injected clock's reading for this message
    conversation_id: int = 0
    accounts: Accounts = field(default_factory=NoAccounts)  # bound to this turn's transaction
    zone: zoneinfo.ZoneInfo = GUAYAQUIL
    attachments: tuple[Attachment, ...] = ()
    handoffs: Handoffs = field(default_factory=NoHandoffs)  # bound to this turn's transaction
    trainings: Trainings = field(default_factory=no_trainings)  # bound to this turn's transaction

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.zone).date()


@dataclass(frozen=True)
class Knowledge:
    pack: Pack
    retriever: Retriever

    def title_of(self, article_id: str) -> str:
        return self.pack.article(article_id).title
