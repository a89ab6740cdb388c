"""How a message is read (bot/understanding), one class of real-world writing per test.

The sentences are our own, written for these tests; none comes from the evaluation sets.
"""

import datetime as dt
from collections.abc import Callable

import pytest

from bot.context import Knowledge
from bot.engine import Engine
from bot.messages import Message
from bot.understanding import Memory, Reading, actions, understand
from bot.understanding.content import extract
from bot.understanding.memory import Memory as StoredMemory
from bot.understanding.reading import _decide
from bot.understanding.references import resolve
from knowledge.retrieval import Match, Results

MessageFactory = Callable[..., Message]
MONDAY = dt.date(2026, 12, 7)


def read(knowledge: Knowledge, text: str, memory: Memory | None = None, today: dt.date = MONDAY) -> Reading:
    return understand(text, memory or Memory(), knowledge, today)


# 1. Filler, courtesy and venting do not dilute a clear question.


def test_courtesy_and_filler_are_set_apart_from_the_question(knowledge: Knowledge) -> None:
    text = "Perdone que le moleste, ok otra cosa: ¿qué clave me pide el sistema para facturar? solo pregunto nomás"
    content = extract(text, knowledge.pack.lexicon.discourse)
    assert content.text == "que clave me pide el sistema para facturar"
    assert {"courtesy", "filler"} <= content.roles
    first = read(knowledge, text).first
    assert first is not None and first.kind == "answer" and first.target == "clave-facturador"


def test_a_formal_letter_is_read_for_its_request(knowledge: Knowledge) -> None:
    text = (
        "Señores Perseo, de mi consideración: por medio de la presente solicito se me indique el día en que "
        "emiten la factura mensual. Atentamente, Ing. Rosa Quishpe"
    )
    first = read(knowledge, text).first
    assert first is not None and first.target == "facturacion-mensual"


def test_venting_alone_is_acknowledged_not_matched(knowledge: Knowledge) -> None:
    reading = read(knowledge, "¡¿nadie me contesta?!")
    assert reading.interpretations == () and "venting" in reading.roles


@pytest.mark.parametrize("text", ["bacán, gracias mija", "de ley, mil gracias", "ya listo gracias, chao"])
def test_slang_thanks_is_thanks(knowledge: Knowledge, text: str) -> None:
    reading = read(knowledge, text)
    assert reading.interpretations == () and reading.social in ("thanks", "goodbye")


def test_listo_followed_by_a_question_is_not_thanks(knowledge: Knowledge) -> None:
    reading = read(knowledge, "listo, ¿y después qué sigue?", Memory(topic="primer-ingreso"))
    assert reading.first is not None and reading.first.target == "primer-ingreso:next"


# 2. Two questions in one message.


def test_two_questions_in_one_message_get_two_answers(knowledge: Knowledge) -> None:
    reading = read(knowledge, "¿en qué formato tiene que ser la firma y cuánto cobran la hora de soporte?")
    assert [i.target for i in reading.interpretations] == ["firma-electronica", "costo-soporte"]


# 3. Topic memory: follow-ups answered from the topic's facet, never a foreign price.


def test_follow_up_is_answered_from_the_topics_facet(knowledge: Knowledge) -> None:
    reading = read(knowledge, "¿y eso cómo lo cambio?", Memory(topic="clave-facturador"))
    assert reading.first is not None and reading.first.kind == "facet"
    assert reading.first.target == "clave-facturador:change"


def test_the_same_follow_up_means_another_facet_after_another_topic(knowledge: Knowledge) -> None:
    reading = read(knowledge, "¿y eso cómo lo cambio?", Memory(topic="credenciales"))
    assert reading.first is not None and reading.first.target == "credenciales:change"


def test_regret_after_cancelling_is_about_coming_back(knowledge: Knowledge) -> None:
    reading = read(knowledge, "¿y si después me arrepiento?", Memory(topic="cancelacion"))
    assert reading.first is not None and reading.first.target == "cancelacion:back"


def test_a_money_follow_up_never_borrows_another_articles_price(knowledge: Knowledge) -> None:
    reading = read(knowledge, "¿y cuánto vale eso?", Memory(topic="primer-ingreso"))
    first = reading.first
    assert first is not None and first.kind == "decline" and first.target == "primer-ingreso:price"


def test_a_follow_up_naming_another_topic_is_a_new_question(knowledge: Knowledge) -> None:
    reading = read(knowledge, "¿y cuánto cuesta la hora de soporte técnico?", Memory(topic="clave-facturador"))
    assert reading.first is not None and reading.first.target == "costo-soporte"


def test_facets_are_rendered_from_the_facts(knowledge: Knowledge) -> None:
    change = knowledge.pack.article("clave-facturador").followups["change"]
    assert "Agentes de Venta" in change and "{{" not in change
    assert "25.00" in knowledge.pack.article("costo-soporte").followups["price"]


def test_memory_round_trips_through_json() -> None:
    memory = StoredMemory("capacitaciones", ("a", "b"), "a", "tardes-20261207")
    assert StoredMemory.from_json(memory.to_json()) == memory
    assert StoredMemory.from_json(None) == StoredMemory() and StoredMemory().to_json() == {}


# 4. References to what the bot just offered.

LIST = ("Inscribirme: lun 7/12 15:00 · Contabilidad", "Inscribirme: mar 8/12 15:00 · Nómina")


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("apúnteme en la de nómina", 1),
        ("la del lunes porfa", 0),
        ("la de mañana", 1),
        ("quiero la segunda opción", 1),
        ("la primera", 0),
        ("2", 1),
        ("la última", 1),
    ],
)
def test_a_reference_picks_the_option_just_shown(text: str, chosen: int) -> None:
    assert resolve(text, LIST, MONDAY) == LIST[chosen]


def test_an_unclear_reference_picks_nothing() -> None:
    assert resolve("esa", LIST, MONDAY) is None  # two options: "esa" is not enough
    assert resolve("esa", LIST[:1], MONDAY) == LIST[0]
    assert resolve("¿cuánto cuesta la firma?", LIST, MONDAY) is None


def test_unnumbered_buttons_can_be_answered_by_number(knowledge: Knowledge) -> None:
    memory = Memory(options=("Formas de pago", "Fecha máxima de pago"))
    assert read(knowledge, "2", memory).tap == "Fecha máxima de pago"


# 5. Menus only for real ambiguity.


def _results(*scores: tuple[str, float, float]) -> Results:
    return Results([Match(t, s, k, s) for t, s, k in scores], ("uno", "dos"))


def test_a_single_plausible_topic_is_answered_with_a_caveat(knowledge: Knowledge) -> None:
    low = (knowledge.retriever.thresholds.answer + knowledge.retriever.thresholds.suggest) / 2
    found = _decide(_results(("formas-pago", low, 0.7), ("suspension", low / 3, 0.1)), "x", "test", knowledge)
    assert found.kind == "answer" and found.hedged and found.target == "formas-pago"


def test_two_equally_plausible_topics_get_a_menu(knowledge: Knowledge) -> None:
    low = (knowledge.retriever.thresholds.answer + knowledge.retriever.thresholds.suggest) / 2
    found = _decide(_results(("formas-pago", low, 0.7), ("fecha-pago", low * 0.97, 0.7)), "x", "test", knowledge)
    assert found.kind == "clarify" and found.candidates == ("formas-pago", "fecha-pago")


def test_an_out_of_scope_question_is_a_clean_i_dont_know(knowledge: Knowledge) -> None:
    first = read(knowledge, "¿me pueden recomendar una buena pizzería en Cuenca?").first
    assert first is not None and first.kind == "fallback"


# 6. Ecuadorian usage.


@pytest.mark.parametrize("text", ["de una", "simón", "dale, de una", "ok acepto", "me anoto", "sí, porfa"])
def test_yes_words_tap_what_the_bot_offered(knowledge: Knowledge, text: str) -> None:
    reading = read(knowledge, text, Memory(options=("Hablar con un asesor",), yes="Hablar con un asesor"))
    assert reading.tap == "Hablar con un asesor"


def test_cancelar_an_invoice_means_paying_it(knowledge: Knowledge) -> None:
    assert actions.cancel_means_pay("hasta que dia puedo cancelar la cuota")
    assert actions.as_payment("ya cancele la cuota") == "ya pague la cuota"
    assert not actions.cancel_means_pay("quiero cancelar mi suscripcion")
    first = read(knowledge, "¿puedo cancelar la planilla con tarjeta?").first
    assert first is not None and first.target in ("formas-pago", "fecha-pago")


def test_cancelling_the_plan_in_natural_words(knowledge: Knowledge) -> None:
    for text in ("deseo dar de baja el sistema", "vamos a cancelar nuestro contrato con ustedes"):
        first = read(knowledge, text).first
        assert first is not None and (first.kind, first.target) == ("intent", "plan.cancel"), text
    assert not actions.cancels_plan("quiero cancelar la factura, no el plan")


# 7. Actions in natural words: a person vs office hours, leaving.


@pytest.mark.parametrize(
    "text",
    ["será que alguien de carne y hueso me ayuda?", "necesito que me atienda una persona", "páseme con un agente"],
)
def test_any_way_of_asking_for_a_person(knowledge: Knowledge, text: str) -> None:
    reading = read(knowledge, text)
    assert reading.person and reading.first is not None and reading.first.target == "handoff.request"


@pytest.mark.parametrize("text", ["quiero avisarles que ya deposité", "necesito registrar mi transferencia de ayer"])
def test_reporting_a_payment_in_natural_words(knowledge: Knowledge, text: str) -> None:
    first = read(knowledge, text).first
    assert first is not None and (first.kind, first.target) == ("intent", "payment.report")
    assert not actions.reports_payment("a quien le aviso que ya pague")  # a question about the rule


@pytest.mark.parametrize("text", ["¿desde qué hora atienden los asesores?", "¿cuál es el horario de atención?"])
def test_office_hours_are_a_question_not_a_request(knowledge: Knowledge, text: str) -> None:
    reading = read(knowledge, text)
    assert not reading.person and reading.first is not None and reading.first.kind == "office_hours"


def test_leaving_is_understood_in_a_sentence(knowledge: Knowledge) -> None:
    assert read(knowledge, "no, ya no quiero esperar").leave
    reading = read(knowledge, "olvídelo, mejor dígame cómo pago la factura")
    assert reading.leave and reading.first is not None and reading.first.target == "formas-pago"


# Engine level: several turns through the in-memory store.


async def test_a_follow_up_uses_the_stored_topic(engine: Engine, message_factory: MessageFactory) -> None:
    first = await engine.handle(message_factory("¿qué clave me pide el sistema al emitir una factura?"))
    assert first.source == "clave-facturador"
    follow = await engine.handle(message_factory("¿y eso se puede cambiar?"))
    assert "Agentes de Venta" in follow.replies[0].text and not follow.fallback
    other = await engine.handle(message_factory("¿y eso se puede cambiar?", user="someone-else"))
    assert "Agentes de Venta" not in " ".join(r.text for r in other.replies)  # no topic in that chat


async def test_no_price_from_another_topic(engine: Engine, message_factory: MessageFactory) -> None:
    await engine.handle(message_factory("¿dónde están los videos de ayuda?"))
    await engine.handle(message_factory("ok"))
    outcome = await engine.handle(message_factory("¿y cuánto cuesta verlos?"))
    text = " ".join(r.text for r in outcome.replies)
    assert "25.00" not in text and "costo" in text.lower()


async def test_office_hours_do_not_join_the_queue(engine: Engine, message_factory: MessageFactory) -> None:
    outcome = await engine.handle(message_factory("¿hasta qué hora atienden los asesores?"))
    assert outcome.source == "office_hours" and "17:30" in outcome.replies[0].text
    assert outcome.meta["flow"] is None


async def test_a_new_question_inside_a_dialogue_is_answered_and_the_customer_told(
    engine: Engine, message_factory: MessageFactory
) -> None:
    started = await engine.handle(message_factory("¿cuántas horas me quedan de soporte?"))
    assert started.source == "link.ruc"
    outcome = await engine.handle(message_factory("¿la firma electrónica puede ser en token?"))
    text = " ".join(r.text for r in outcome.replies)
    assert outcome.source == "firma-electronica" and "P12" in text and "verificación" in text


async def test_leaving_a_dialogue_in_a_sentence_then_asking(engine: Engine, message_factory: MessageFactory) -> None:
    await engine.handle(message_factory("quiero ver mis facturas"))
    outcome = await engine.handle(message_factory("mejor no, olvídelo. ¿Hasta qué día se paga?"))
    text = " ".join(r.text for r in outcome.replies)
    assert "verificación" in text and "5" in text and outcome.meta["flow"] is None


async def test_why_the_ruc_is_asked_keeps_the_verification(engine: Engine, message_factory: MessageFactory) -> None:
    await engine.handle(message_factory("¿cuánto debo?"))
    outcome = await engine.handle(message_factory("¿y por qué me pide el RUC?"))
    assert outcome.source == "link.why" and outcome.meta["flow"] == "link"


async def test_thanks_in_slang_twice_never_offers_an_advisor(engine: Engine, message_factory: MessageFactory) -> None:
    for text in ("chévere, gracias", "bacán, de ley"):
        outcome = await engine.handle(message_factory(text))
        assert outcome.source == "smalltalk.thanks" and not outcome.fallback


# 8. Dialogues that trap: a list is never asked for without being shown again.


async def test_an_unclear_invoice_choice_shows_the_list_again() -> None:
    from bot.context import Turn
    from bot.flows import report_payment
    from tests.conftest import fixed_clock

    data = {"step": "invoice", "choices": {"1": [7, "001-001-000000007"], "2": [8, "001-001-000000008"]}}
    step = await report_payment.resume(Turn("la de este mes creo", fixed_clock()), data)
    assert step is not None and step.state is not None and step.state.data == data
    reply = step.outcome.replies[0]
    assert "1. Factura 001-001-000000007" in reply.text and "2. Factura 001-001-000000008" in reply.text
    chosen = await report_payment.resume(Turn(reply.options[1], fixed_clock()), data)
    assert chosen is not None and chosen.state is not None and chosen.state.data["invoice_id"] == 8


# 9. Trainings by topic, day and hour come from the calendar.


def test_a_training_named_by_its_topic_is_looked_up_in_the_calendar(knowledge: Knowledge) -> None:
    memory = Memory(topic="capacitaciones", session="tardes-20261207")
    first = read(knowledge, "¿y la de inventario a qué hora es?", memory).first
    assert first is not None and (first.kind, first.target) == ("intent", "training.list")
    same = read(knowledge, "¿y a qué hora era?", memory).first
    assert same is not None and (same.kind, same.target, same.candidates) == ("session", "time", ("tardes-20261207",))


def test_the_training_schedule_in_the_article_comes_from_the_calendar(knowledge: Knowledge) -> None:
    body = knowledge.pack.article("capacitaciones").body
    assert "de lunes a viernes, de 15:00 a 16:00" in body and "todos los días" not in body
