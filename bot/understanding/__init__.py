"""Reading a customer's message in the context of the conversation (issue 11).

One entry point, `understand(text, memory, knowledge, today) -> Reading`, between the channel
and the handlers: it separates what is asked from greetings, courtesy, filler and venting,
splits clauses (up to two questions), resolves follow-ups and references against the short
`Memory` stored with the dialogue state, and recognises actions said in natural words. The
router only dispatches the `Reading`. Pure: no I/O, the date is passed in.
"""

from __future__ import annotations

from bot.understanding.memory import Memory
from bot.understanding.reading import Interpretation, Reading, understand

__all__ = ["Interpretation", "Memory", "Reading", "understand"]
