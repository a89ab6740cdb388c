"""The stretch of a conversation an advisor may read (bot.domain.tenancy)."""

from __future__ import annotations

from bot.domain.tenancy import LinkChange, Window, history_window

A, B = 1, 2


def test_a_chat_never_linked_is_readable_whole() -> None:
    assert history_window([], anchor=5, distributor_id=B) == Window(0, None)


def test_nothing_from_the_link_to_another_distributor_on() -> None:
    """Asked for a person at message 3 unverified; linked to A after message 10."""
    changes = [LinkChange(10, A)]
    assert history_window(changes, anchor=3, distributor_id=B) == Window(0, 10)
    assert history_window(changes, anchor=3, distributor_id=A) == Window(0, None)
    unlinked_later = [LinkChange(10, A), LinkChange(20, None)]  # even the anonymous part after it stays cut
    assert history_window(unlinked_later, anchor=3, distributor_id=B) == Window(0, 10)


def test_nothing_before_the_unlink_from_another_distributor() -> None:
    changes = [LinkChange(4, A), LinkChange(10, None)]
    window = history_window(changes, anchor=12, distributor_id=B)
    assert window == Window(10, None)
    assert window is not None and not window.contains(10) and window.contains(11)
    assert history_window(changes, anchor=12, distributor_id=A) == Window(0, None)


def test_own_stretches_join_the_unverified_ones_around_them() -> None:
    changes = [LinkChange(2, A), LinkChange(5, None), LinkChange(8, B), LinkChange(12, None), LinkChange(15, A)]
    assert history_window(changes, anchor=10, distributor_id=B) == Window(5, 15)
    assert history_window(changes, anchor=3, distributor_id=A) == Window(0, 8)
    assert history_window(changes, anchor=16, distributor_id=A) == Window(12, None)


def test_a_request_written_while_the_chat_was_another_distributors_shows_nothing() -> None:
    assert history_window([LinkChange(0, A)], anchor=3, distributor_id=B) is None


def test_a_change_replaced_before_any_message_owns_nothing() -> None:
    changes = [LinkChange(6, A), LinkChange(6, None)]  # linked and unlinked with no message between
    assert history_window(changes, anchor=9, distributor_id=B) == Window(0, None)
    assert history_window([LinkChange(0, A)], anchor=0, distributor_id=A) == Window(0, None)
