"""The send pacer: overall rate, per-chat interval, and a 429 that holds one chat only."""

from __future__ import annotations

from bot.channels.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slots_respect_the_overall_rate_and_each_chat() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=10, per_chat_seconds=1.0, group_seconds=3.0, clock=clock)
    waits = [pacer.reserve(f"chat-{n}") for n in range(5)]
    assert all(abs(w - n * 0.1) < 1e-9 for n, w in enumerate(waits))  # 10 per second overall
    again = pacer.reserve("chat-0")  # the same chat: a second after its first slot
    assert abs(again - 1.0) < 1e-9
    group = [pacer.reserve("-42", group=True) for _ in range(2)]
    assert abs(group[1] - group[0] - 3.0) < 1e-9  # groups: 20 per minute


def test_a_held_chat_waits_alone() -> None:
    clock = FakeClock()
    pacer = Pacer(rate=1000, per_chat_seconds=0.0, clock=clock)
    pacer.hold("slow", 5.0)  # Telegram said: retry after 5 s
    assert pacer.reserve("slow") >= 5.0
    assert pacer.reserve("other") < 0.01
