"""«¿A qué hora atienden?»: the advisors' office hours, answered without joining the queue."""

from __future__ import annotations

from bot import format as fmt
from bot.context import Turn
from bot.domain.calendar import OfficeHours
from bot.handlers.common import HANDOFF_OPTION
from bot.messages import Outcome, Reply


def handle(turn: Turn, office: OfficeHours) -> Outcome:
    hours = fmt.office_hours(office.weekdays, office.opens, office.closes)
    text = f"Nuestros asesores atienden {hours}, excepto feriados nacionales (hora de Ecuador)."
    if office.is_open(turn.now):
        text += " Ahora mismo están atendiendo: si quiere hablar con uno, escriba «hablar con un asesor»."
    else:
        opens = office.next_opening(turn.now).astimezone(office.zone)
        text += (
            f" Ahora no están atendiendo; vuelven el {fmt.weekday_date(opens.date())} a las {opens:%H:%M}. "
            "Yo sigo aquí para sus consultas."
        )
    return Outcome((Reply(text, (HANDOFF_OPTION,)),), source="office_hours", confidence=1.0)
