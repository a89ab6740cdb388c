"""The dialogue engine on the in-memory store: routing, flows, bad input, durability."""

from collections.abc import Callable

import pytest

from bot.engine import Engine
from bot.messages import FlowState, Message
from bot.router import Router
from bot.store import InMemoryConversationStore
from tests.conftest import fixed_clock

MessageFactory = Callable[..., Message]


async def test_greeting_offers_topics(engine: Engine, message_factory: MessageFactory) -> None:
    outcome = await engine.handle(message_factory("buenas tardes"))
    assert outcome.source == "smalltalk.greeting" and not outcome.fallback
    assert outcome.replies[0].options


async def test_greeting_before_a_question_is_returned_with_the_answer(
    engine: Engine, message_factory: MessageFactory
) -> None:
    outcome = await engine.handle(message_factory("hola, cual es la clave del facturador"))
    assert outcome.source == "clave-facturador"
    assert outcome.replies[0].text.startswith("¡Hola!")


async def test_account_questions_ask_for_identification_and_show_no_figures(
    engine: Engine, message_factory: MessageFactory
) -> None:
    outcome = await engine.handle(message_factory("cuanto debo de mis facturas"))
    text = outcome.replies[0].text
    assert outcome.source == "link.ruc"  # the verification starts; no account data yet
    assert "RUC" in text and "$" not in text and "clave" in text  # "nunca le pediré su clave"


async def test_unknown_question_falls_back_and_offers_a_person(engine: Engine, message_factory: MessageFactory) -> None:
    outcome = await engine.handle(message_factory("quien gano el mundial de 1986"))
    assert outcome.fallback and outcome.source is None
    assert "asesor" in outcome.replies[0].text.lower()
    assert "Hablar con un asesor" in outcome.replies[0].options


async def test_tapping_an_option_answers_that_article(engine: Engine, message_factory: MessageFactory) -> None:
    outcome = await engine.handle(message_factory("Formas de pago"))
    assert outcome.source == "formas-pago" and outcome.confidence == 1.0


async def test_clarification_resumes_from_stored_state(
    engine: Engine, memory_store: InMemoryConversationStore, message_factory: MessageFactory
) -> None:
    first = await engine.handle(message_factory("clave"))
    assert first.source == "clarify" and first.fallback
    candidates = first.meta["candidates"]
    assert len(candidates) >= 2
    conversation = memory_store.conversations[("webchat", "u1")]
    assert memory_store.states[conversation] == FlowState("clarify", {"options": candidates})

    second = await engine.handle(message_factory("2"))
    assert second.source == candidates[1] and not second.fallback
    # The dialogue is over; only the short memory stays (the topic just answered).
    assert memory_store.states[conversation] == FlowState("", {})
    assert memory_store.states[conversation].memory == {"topic": candidates[1]}


async def test_clarification_gives_way_to_a_new_question(engine: Engine, message_factory: MessageFactory) -> None:
    await engine.handle(message_factory("firma"))
    outcome = await engine.handle(message_factory("aceptan pagos con tarjeta?"))
    assert outcome.source == "formas-pago"


async def test_clarification_none_of_these_offers_a_person(engine: Engine, message_factory: MessageFactory) -> None:
    await engine.handle(message_factory("clave"))
    outcome = await engine.handle(message_factory("ninguno"))
    assert outcome.source == "clarify.none"
    assert "Hablar con un asesor" in outcome.replies[0].options


async def test_flow_state_lives_in_the_store_not_the_engine(
    engine: Engine, memory_store: InMemoryConversationStore, message_factory: MessageFactory
) -> None:
    """A second engine (another process) on the same store continues the dialogue."""
    first = await engine.handle(message_factory("pago"))
    other = Engine(engine.router, memory_store, fixed_clock)
    outcome = await other.handle(message_factory("1"))
    assert outcome.source == first.meta["candidates"][0]


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("", "input.empty"),
        ("   \n\t ", "input.empty"),
        ("😀🙏👍", "input.no_words"),
        ("1792205859001", "input.only_digits"),
        ("x" * 10_000, "input.too_long"),
    ],
)
async def test_bad_input_gets_a_polite_spanish_reply(
    engine: Engine,
    memory_store: InMemoryConversationStore,
    message_factory: MessageFactory,
    text: str,
    source: str,
) -> None:
    outcome = await engine.handle(message_factory(text))
    assert outcome.source == source
    assert outcome.replies[0].text
    assert memory_store.messages[0].text == text  # stored as received, never lost


async def test_too_long_reply_states_the_limit(engine: Engine, message_factory: MessageFactory) -> None:
    outcome = await engine.handle(message_factory("hola " * 3000))
    assert "2.000" in outcome.replies[0].text


async def test_control_characters_are_ignored(engine: Engine, message_factory: MessageFactory) -> None:
    outcome = await engine.handle(message_factory("clave\x00 del\x07 facturador\x1b"))
    assert outcome.source == "clave-facturador"


async def test_mixed_language_does_not_crash_or_invent(engine: Engine, message_factory: MessageFactory) -> None:
    outcome = await engine.handle(message_factory("hello, what is the weather en Quito hoy?"))
    assert outcome.fallback


async def test_inbound_is_stored_before_processing(
    engine: Engine, memory_store: InMemoryConversationStore, message_factory: MessageFactory
) -> None:
    class Exploding(Router):
        async def decide(self, turn, state):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

    broken = Engine(Exploding(engine.router.knowledge, 2000), memory_store, fixed_clock)
    with pytest.raises(RuntimeError):
        await broken.handle(message_factory("clave del facturador"))
    assert [(m.direction, m.text, m.processed) for m in memory_store.messages] == [
        ("in", "clave del facturador", False)
    ]


async def test_every_intent_in_the_pack_needs_a_handler(engine: Engine) -> None:
    import dataclasses

    pack = dataclasses.replace(engine.router.knowledge.pack, intents={"weather.today": ("clima",)})
    knowledge = dataclasses.replace(engine.router.knowledge, pack=pack)
    with pytest.raises(LookupError, match=r"weather\.today"):
        Router(knowledge, 2000)


async def test_the_second_miss_in_a_row_offers_a_person(engine: Engine, message_factory: MessageFactory) -> None:
    first = await engine.handle(message_factory("xqzv plorf"))
    assert first.fallback and "tampoco" not in first.replies[0].text
    second = await engine.handle(message_factory("wubba grompf"))
    assert second.fallback and "¿Quiere que le comunique con un asesor?" in second.replies[0].text
    assert second.replies[0].options[0] == "Hablar con un asesor"
    answered = await engine.handle(message_factory("formas de pago"))
    assert not answered.fallback
    again = await engine.handle(message_factory("xqzv plorf"))
    assert "tampoco" not in again.replies[0].text  # the count starts over after an answer


async def test_without_advisors_a_request_for_a_person_says_how_to_reach_one(
    engine: Engine, message_factory: MessageFactory
) -> None:
    outcome = await engine.handle(message_factory("quiero hablar con un asesor"))
    assert outcome.source == "handoff" and "Asesor de Ventas" in outcome.replies[0].text
