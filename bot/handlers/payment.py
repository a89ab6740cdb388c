""" "Quiero reportar un pago": a linked customer reports it right here; an anonymous chat gets
how reporting works and, to do it here, the account verification first."""

from __future__ import annotations

from bot.context import Knowledge, Turn
from bot.flows import Step, link_account, report_payment
from bot.handlers.common import with_article


async def handle(turn: Turn, knowledge: Knowledge, confidence: float) -> Step:
    account = await turn.accounts.linked(turn.conversation_id, turn.today)
    if account is None:
        return with_article(knowledge, "reportar-pago", link_account.start(turn, then="payment.report"))
    return report_payment.start(account)
