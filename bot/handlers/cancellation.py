""" "Quiero cancelar mi plan": a linked customer can do it here (with confirmation); an anonymous
chat gets the letter's rule (an e-mail to the distributor) and the way to verify first."""

from __future__ import annotations

from bot.context import Knowledge, Turn
from bot.flows import Step, cancel_plan, link_account
from bot.handlers.common import with_article


async def handle(turn: Turn, knowledge: Knowledge, confidence: float) -> Step:
    account = await turn.accounts.linked(turn.conversation_id, turn.today)
    if account is None:
        return with_article(knowledge, "cancelacion", link_account.start(turn, then="plan.cancel"))
    return cancel_plan.start(account)
