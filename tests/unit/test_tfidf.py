"""Our character TF-IDF must be scikit-learn's (see knowledge/tfidf.py for why it is ours)."""

import numpy as np
import pytest

from knowledge.tfidf import CharTfidf, char_wb_ngrams

DOCS = [
    "clave de facturador preasignada",
    "firma electronica en archivo p12 no token",
    "capacitaciones gratuitas por zoom todas las tardes",
    "a",  # a word shorter than the n-gram size
    "el  pago   se reporta al distribuidor",
]


def test_vectors_equal_scikit_learn() -> None:
    text = pytest.importorskip("sklearn.feature_extraction.text")
    reference = text.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    expected = reference.fit_transform(DOCS).toarray()
    ours = CharTfidf(2, 4).fit(DOCS)
    assert ours.vocabulary == reference.vocabulary_
    assert np.allclose(ours.matrix.toarray(), expected)

    query = "klave del facturador y la firma"
    cols, vals = ours.transform(query)
    dense = np.zeros(len(ours.vocabulary))
    dense[cols] = vals
    assert np.allclose(dense, reference.transform([query]).toarray()[0])


def test_ngrams_match_scikit_learn_char_wb() -> None:
    text = pytest.importorskip("sklearn.feature_extraction.text")
    analyzer = text.TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()
    for doc in DOCS:
        assert char_wb_ngrams(doc, 2, 4) == analyzer(doc)


def test_unknown_ngrams_lower_similarity_only_when_penalized() -> None:
    index = CharTfidf().fit(DOCS)
    plain = index.similarities("clave facturador xyzzyq", penalize_unknown=False).max()
    penalized = index.similarities("clave facturador xyzzyq", penalize_unknown=True).max()
    assert penalized < plain


def test_empty_query_scores_zero() -> None:
    index = CharTfidf().fit(DOCS)
    assert index.similarities("").max() == 0.0
