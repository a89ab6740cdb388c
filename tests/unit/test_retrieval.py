"""Normalisation, typo handling and scoring of the retriever on the shipped pack."""

import pytest

from bot.context import Knowledge


@pytest.mark.parametrize(
    ("typed", "understood"),
    [
        ("klave de facturdor", ["clave", "de", "facturador"]),
        ("asta cuando se paga la fatura", ["hasta", "cuando", "se", "paga", "la", "factura"]),
        ("q dia x favor", ["que", "dia", "por", "favor"]),
        ("holaa necesito ingresar al sistma", ["hola", "necesito", "ingresar", "al", "sistema"]),
    ],
)
def test_typos_and_slang_are_normalised(knowledge: Knowledge, typed: str, understood: list[str]) -> None:
    assert knowledge.retriever.analyzer.words(typed) == understood


@pytest.mark.parametrize("word", ["viendo", "cuenca", "restaurante", "seguro", "nuevo"])
def test_real_spanish_words_are_not_corrected_into_pack_words(knowledge: Knowledge, word: str) -> None:
    assert knowledge.retriever.analyzer.words(word) == [word]


def test_word_families_the_stemmer_splits_are_joined(knowledge: Knowledge) -> None:
    best = knowledge.retriever.search("suspension").best
    assert best is not None and best.target == "suspension"


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("perdi la clave que pide el facturador", "clave-facturador"),
        ("aceptan tarjeta de credito", "formas-pago"),
        ("la firma en token sirve", "firma-electronica"),
        ("que dia vence el pago", "fecha-pago"),
    ],
)
def test_best_match(knowledge: Knowledge, question: str, article: str) -> None:
    best = knowledge.retriever.search(question).best
    assert best is not None and best.target == article


def test_out_of_scope_scores_below_the_suggest_threshold(knowledge: Knowledge) -> None:
    retriever = knowledge.retriever
    for question in ["cual es el clima en guayaquil", "venden impresoras fiscales", "asdf qwer"]:
        best = retriever.search(question).best
        assert best is None or best.score < retriever.thresholds.suggest, question


def test_unknown_words_lower_confidence_without_changing_the_ranking(knowledge: Knowledge) -> None:
    plain = knowledge.retriever.search("clave de facturador").best
    noisy = knowledge.retriever.search("clave de facturador hipopotamo").best
    assert plain is not None and noisy is not None
    assert noisy.target == plain.target
    assert noisy.score < plain.score


def test_one_keyword_fitting_several_articles_is_ambiguous(knowledge: Knowledge) -> None:
    margin = knowledge.retriever.thresholds.ambiguity_margin
    assert knowledge.retriever.search("clave").is_ambiguous(margin)
    assert not knowledge.retriever.search("capacitacion").is_ambiguous(margin)


def test_empty_text_has_no_matches(knowledge: Knowledge) -> None:
    assert knowledge.retriever.search("¿¿??").matches == []
