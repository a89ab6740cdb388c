"""What a handler or flow may use to answer one message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from knowledge.pack import Pack
from knowledge.retrieval import Retriever


@dataclass(frozen=True)
class Turn:
    text: str  # the customer's text, control characters removed
    now: dt.datetime  # the injected clock's reading for this message


@dataclass(frozen=True)
class Knowledge:
    pack: Pack
    retriever: Retriever

    def title_of(self, article_id: str) -> str:
        return self.pack.article(article_id).title
