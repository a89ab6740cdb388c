"""Which stretch of a conversation an advisor may read (tenant isolation between distributors).

A chat can be anonymous, then verified as a customer of one distributor, unlinked, verified
as a customer of another, and so on. Its messages are one sequence, but each stretch belongs
to whoever the chat was linked to while it was written (nobody, or a distributor). An advisor
looking at a handoff may read the unbroken run of stretches around that handoff's request
that belonged to nobody or to the advisor's own distributor: never a message written while
the chat belonged to another distributor, nor anything past such a stretch (after a chat was
someone else's, even its anonymous messages are that person's, not the old handoff's).

Positions are message ids (a turn's messages share one timestamp; ids never tie). Pure: the
caller reads the link history and the handoff's request message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkChange:
    """From the message after `after_message_id` on, the chat belonged to `distributor_id`
    (None: to nobody, i.e. unverified or unlinked)."""

    after_message_id: int
    distributor_id: int | None


@dataclass(frozen=True)
class Window:
    """Messages with `after` < id <= `upto` (no upper end when `upto` is None)."""

    after: int
    upto: int | None = None

    def contains(self, message_id: int) -> bool:
        return message_id > self.after and (self.upto is None or message_id <= self.upto)


EVERYTHING = Window(0)


def history_window(changes: Iterable[LinkChange], anchor: int, distributor_id: int) -> Window | None:
    """The messages an advisor of `distributor_id` may read of a conversation whose handoff was
    requested at message `anchor`, given the conversation's link changes in the order they
    happened. None when the request itself was written while the chat was another
    distributor's (the advisor then may read nothing of it)."""
    # Segments: (start, owner) covers ids > start up to the next segment's start. A change that
    # another one replaces before any message was written owns nothing.
    segments: list[tuple[int, int | None]] = [(0, None)]
    for change in changes:
        start = max(change.after_message_id, 0)
        while segments and segments[-1][0] >= start:
            segments.pop()
        segments.append((start, change.distributor_id))

    def foreign(owner: int | None) -> bool:
        return owner is not None and owner != distributor_id

    here = max((i for i, (start, _) in enumerate(segments) if start < anchor), default=0)
    if foreign(segments[here][1]):
        return None
    first = here
    while first > 0 and not foreign(segments[first - 1][1]):
        first -= 1
    upto = next((start for start, owner in segments[here + 1 :] if foreign(owner)), None)
    return Window(segments[first][0], upto)
