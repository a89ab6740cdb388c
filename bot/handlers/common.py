"""Spanish phrases several handlers share, so the bot says the same thing the same way."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.flows import Step
from bot.messages import Reply

if TYPE_CHECKING:
    from bot.context import Knowledge

HANDOFF_OPTION = "Hablar con un asesor"
TOPIC_OPTIONS = (
    "Primer ingreso a Perseo WEB",
    "Firma electrónica para facturación electrónica",
    "Formas de pago",
    "Capacitaciones gratuitas por Zoom",
)
CAPABILITIES = (
    "el primer ingreso y sus credenciales, la facturación electrónica y la firma, las "
    "capacitaciones y tutoriales, las horas de soporte y los pagos de su licencia"
)
HOW_TO_REACH_ADVISOR = (
    "Para hablar con una persona, pida a su Asesor de Ventas el teléfono del asesor de "
    "implementación que le brinda soporte."
)


def with_article(knowledge: Knowledge, article_id: str, step: Step) -> Step:
    """The article's answer first, then the step's own replies (e.g. the RUC question)."""
    article = Reply(knowledge.pack.article(article_id).body)
    outcome = step.outcome
    return Step(replace(outcome, replies=(article, *outcome.replies), source=article_id), step.state)
