"""Character n-gram TF-IDF, the same formula as scikit-learn's TfidfVectorizer.

Why not scikit-learn itself: importing `sklearn.feature_extraction.text` costs 1.3 s and
127 MB RSS on the project's 2-core machine, more than the whole budget of a one-question
`perseo-bot ask` (1.5 s, 150 MB). The formula is small, so it lives here; the test suite
checks that the vectors equal scikit-learn's
(`TfidfVectorizer(analyzer="char_wb", sublinear_tf=True)`).

One addition: `transform(..., penalize_unknown=True)` keeps the weight of n-grams the index
has never seen in the vector norm. scikit-learn drops them before normalising, which makes a
question about something we never wrote about look as similar as a good paraphrase.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

_WHITESPACE_RUNS = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """N-grams inside word boundaries, each word padded with one space (scikit-learn's char_wb)."""
    text = _WHITESPACE_RUNS.sub(" ", text)
    grams: list[str] = []
    for word in text.split():
        padded = f" {word} "
        length = len(padded)
        for n in range(min_n, max_n + 1):
            offset = 0
            grams.append(padded[offset : offset + n])
            while offset + n < length:
                offset += 1
                grams.append(padded[offset : offset + n])
            if offset == 0:  # a word shorter than n counts once
                break
    return grams


class CharTfidf:
    def __init__(self, min_n: int = 2, max_n: int = 4) -> None:
        self.min_n = min_n
        self.max_n = max_n
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(0)
        self.unknown_idf = 1.0
        self.matrix: sparse.csc_matrix = sparse.csc_matrix((0, 0))

    def fit(self, documents: Sequence[str]) -> CharTfidf:
        counts = [Counter(char_wb_ngrams(doc.lower(), self.min_n, self.max_n)) for doc in documents]
        document_frequency: Counter[str] = Counter()
        for doc_counts in counts:
            document_frequency.update(doc_counts.keys())
        self.vocabulary = {gram: i for i, gram in enumerate(sorted(document_frequency))}
        n_docs = len(documents)
        df = np.array([document_frequency[g] for g in sorted(document_frequency)], dtype=np.float64)
        self.idf = np.log((1 + n_docs) / (1 + df)) + 1.0
        self.unknown_idf = math.log(1 + n_docs) + 1.0  # the idf of an n-gram with df = 0

        rows, cols, values = [], [], []
        for row, doc_counts in enumerate(counts):
            weights = self._weights(doc_counts)
            norm = math.sqrt(sum(w * w for _, w in weights)) or 1.0
            for col, weight in weights:
                rows.append(row)
                cols.append(col)
                values.append(weight / norm)
        self.matrix = sparse.csc_matrix((values, (rows, cols)), shape=(n_docs, len(self.vocabulary)), dtype=np.float64)
        return self

    def transform(self, text: str, *, penalize_unknown: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The query as (column indices, weights), L2-normalised."""
        doc_counts = Counter(char_wb_ngrams(text.lower(), self.min_n, self.max_n))
        weights = self._weights(doc_counts)
        squared = sum(w * w for _, w in weights)
        if penalize_unknown:
            for gram, count in doc_counts.items():
                if gram not in self.vocabulary:
                    squared += ((1.0 + math.log(count)) * self.unknown_idf) ** 2
        norm = math.sqrt(squared) or 1.0
        cols = np.array([c for c, _ in weights], dtype=np.int64)
        vals = np.array([w / norm for _, w in weights], dtype=np.float64)
        return cols, vals

    def similarities(self, text: str, *, penalize_unknown: bool = True) -> np.ndarray:
        """Cosine similarity of the text with every fitted document."""
        cols, vals = self.transform(text, penalize_unknown=penalize_unknown)
        if cols.size == 0:
            return np.zeros(self.matrix.shape[0])
        return np.asarray(self.matrix[:, cols] @ vals).ravel()

    def _weights(self, doc_counts: Counter[str]) -> list[tuple[int, float]]:
        weights = []
        for gram, count in doc_counts.items():
            col = self.vocabulary.get(gram)
            if col is not None:
                weights.append((col, (1.0 + math.log(count)) * float(self.idf[col])))
        weights.sort()
        return weights
