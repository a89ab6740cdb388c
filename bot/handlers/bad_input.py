"""Messages the bot cannot read as a question: empty, far too long, only emojis or digits."""

from __future__ import annotations

from bot.messages import Outcome, Reply
from knowledge.text import has_letters_or_digits


def check(text: str, max_chars: int) -> Outcome | None:
    """A polite reply when the text is not a question the bot can read, else None."""
    stripped = text.strip()
    if not stripped:
        return _reply(
            "No recibí ningún texto. Escríbame su consulta, por ejemplo: «¿Cómo ingreso al sistema por primera vez?»",
            "input.empty",
        )
    if len(stripped) > max_chars:
        return _reply(
            f"Su mensaje es muy largo para mí ({len(stripped):,} caracteres; puedo leer hasta "
            f"{max_chars:,}). ¿Podría escribir su consulta en pocas líneas?".replace(",", "."),
            "input.too_long",
        )
    if not has_letters_or_digits(stripped):
        return _reply(
            "😊 Por aquí solo puedo leer texto. Cuénteme en palabras en qué le puedo ayudar.",
            "input.no_words",
        )
    if stripped.replace(" ", "").replace("-", "").isdigit():
        return _reply(
            "Recibí solo números. Cuénteme en palabras qué necesita, por ejemplo: "
            "«¿Qué va en el campo Identificación?»",
            "input.only_digits",
        )
    return None


def _reply(text: str, source: str) -> Outcome:
    return Outcome((Reply(text),), fallback=True, source=source)
