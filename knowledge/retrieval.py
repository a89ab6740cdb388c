"""Matching a customer's text to an article or an intent of the pack.

Pipeline (DESIGN.md, "Retrieval"):
1. fold accents and punctuation, map chat slang ("q", "x", "xq") to words;
2. correct typos of words the pack never uses against the pack's vocabulary (rapidfuzz);
3. score every indexed phrase two ways and fuse them:
   - keywords: bm25s over Spanish Snowball stems, divided by the best score the question's
     keywords could reach, so it reads as "how much of the question this phrase covers";
   - characters: TF-IDF over character n-grams, robust to typos the corrector missed;
4. an article's score is the best of its phrases (title, example questions, body).

The fused score is comparable across questions, so one calibrated threshold separates an
answer from "I am not sure" (see `Thresholds`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from os.path import commonpath
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
import yaml
from rapidfuzz import fuzz, process

from knowledge.pack import Pack
from knowledge.text import fold
from knowledge.tfidf import CharTfidf

INTENT_PREFIX = "intent:"


@dataclass(frozen=True)
class Thresholds:
    """Calibrated on tests/data/kb_eval.yaml with `perseo-bot kb calibrate`.

    answer:  at or above, the best match is answered;
    suggest: between suggest and answer, the bot is unsure and offers the best matches as
             options (a clarification, counted as a fallback);
    below suggest, the bot says it does not know.
    """

    answer: float = 0.5
    suggest: float = 0.35
    ambiguity_margin: float = 0.1  # one-keyword questions closer than this get options


@dataclass(frozen=True)
class Match:
    target: str  # article id, or "intent:<name>"
    score: float
    keywords: float
    characters: float

    @property
    def is_intent(self) -> bool:
        return self.target.startswith(INTENT_PREFIX)

    @property
    def intent(self) -> str:
        return self.target.removeprefix(INTENT_PREFIX)


@dataclass(frozen=True)
class Results:
    matches: list[Match]  # best first, one per target
    keywords: tuple[str, ...]  # the question's keyword stems, as matched

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None

    def is_ambiguous(self, margin: float) -> bool:
        """A one-keyword question ("clave", "firma") that fits two articles almost equally.

        When the best match is an intent ("¿por qué estoy suspendido?"), the customer asked
        for something to be done or looked up, not for a topic: that is never ambiguous.
        """
        if len(self.keywords) != 1 or len(self.matches) < 2 or self.matches[0].score <= 0:
            return False
        if self.matches[0].is_intent:
            return False
        first, second = self.matches[0].score, self.matches[1].score
        return (first - second) / first < margin


@dataclass(frozen=True)
class _Phrase:
    target: str
    text: str
    weight: float  # body text is less precise than a question written for the article


class Analyzer:
    """Turns raw text into corrected words and keyword stems."""

    MIN_CORRECTABLE = 4
    CORRECTION_CUTOFF = 80.0

    def __init__(
        self,
        slang: dict[str, str],
        stopwords: frozenset[str],
        vocabulary: Iterable[str],
        common_words: frozenset[str] = frozenset(),
    ):
        self.slang = slang
        self.stopwords = stopwords
        self.vocabulary = frozenset(vocabulary) | frozenset(stopwords)
        # Real words the pack does not use are left alone: "viendo" is not a typo of "vendo".
        self.common_words = common_words
        self._choices = sorted(w for w in self.vocabulary if len(w) >= self.MIN_CORRECTABLE - 1)
        self._stemmer = Stemmer.Stemmer("spanish")
        self.correct = lru_cache(maxsize=8192)(self._correct)

    def words(self, text: str) -> list[str]:
        result: list[str] = []
        for word in fold(text).split():
            mapped = self.slang.get(word)
            if mapped is not None:
                result.extend(mapped.split())
            else:
                result.append(self.correct(word))
        return result

    def keywords(self, words: list[str]) -> list[str]:
        content = [w for w in words if w not in self.stopwords]
        return list(self._stemmer.stemWords(content))

    def _correct(self, word: str) -> str:
        if (
            word in self.vocabulary
            or word in self.common_words
            or len(word) < self.MIN_CORRECTABLE
            or not word.isalpha()
        ):
            return word
        best = process.extractOne(
            word,
            [c for c in self._choices if abs(len(c) - len(word)) <= 2],
            scorer=fuzz.ratio,
            score_cutoff=self.CORRECTION_CUTOFF,
        )
        return best[0] if best else word


class Retriever:
    """An index over one pack's articles and intent phrases."""

    # Weight of the character similarity in the fused score; the rest is keyword coverage.
    CHAR_WEIGHT = 0.5
    BODY_WEIGHT = 0.9

    def __init__(
        self,
        pack: Pack,
        thresholds: Thresholds | None = None,
        common_words: frozenset[str] | None = None,
    ) -> None:
        self.pack = pack
        self.thresholds = thresholds or Thresholds()
        self._phrases = list(_phrases_of(pack))
        vocabulary = {w for p in self._phrases for w in fold(p.text).split()}
        vocabulary |= {w for v in pack.lexicon.slang.values() for w in v.split()}
        self.analyzer = Analyzer(
            dict(pack.lexicon.slang),
            pack.lexicon.stopwords,
            vocabulary,
            load_common_words() if common_words is None else common_words,
        )

        analysed = [self.analyzer.words(p.text) for p in self._phrases]
        corpus = [self.analyzer.keywords(words) or [""] for words in analysed]
        self._bm25 = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
        self._bm25.index(corpus, show_progress=False)
        document_frequency: Counter[str] = Counter()
        for stems in corpus:
            document_frequency.update(set(stems))
        n = len(corpus)
        self._idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in document_frequency.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        self._family: dict[str, str] = {}

        self._chars = CharTfidf().fit([" ".join(words) for words in analysed])
        self._weights = np.array([p.weight for p in self._phrases])
        self._targets = [p.target for p in self._phrases]

    def search(self, text: str, limit: int = 3, *, known_only: bool = False) -> Results:
        """The best `limit` targets (articles or intents) for the text, best first.

        `known_only`: score only the words the pack knows, as if the others were not written
        (the caller decides how much to trust that: bot/understanding).
        """
        words = self.analyzer.words(text)
        if not words:
            return Results([], ())
        stems = list(dict.fromkeys(self._rescue(s) for s in self.analyzer.keywords(words)))
        # A number the pack never mentions ("me inscribí el 15") is not an unknown topic.
        stems = [s for s in stems if s in self._idf or not s.isdigit()]
        if known_only:
            stems = [s for s in stems if s in self._idf]
            if not stems:
                return Results([], ())
            words = [w for w in words if w in self.analyzer.stopwords or self._rescue_word(w) in self._idf]
        if stems:
            characters = self._chars.similarities(" ".join(words))
            weights = [self._idf.get(t, self._unknown_idf) for t in stems]
            reachable = sum(weights)
            keywords = np.minimum(1.0, self._bm25.get_scores(stems) / reachable)
            fused = self.CHAR_WEIGHT * characters + (1 - self.CHAR_WEIGHT) * keywords
            # The share of the question the pack knows anything about. "¿Venden impresoras
            # fiscales?" shares a verb with an article but is not about anything we wrote:
            # scale the confidence down without changing the ranking.
            known = sum(w for t, w in zip(stems, weights, strict=True) if t in self._idf) / reachable
            fused = fused * known
        else:
            # Only function words and greetings ("hola", "muchas gracias"): keywords say
            # nothing; the characters of the known n-grams decide alone.
            characters = self._chars.similarities(" ".join(words), penalize_unknown=False)
            keywords = np.zeros_like(characters)
            fused = characters
        fused = fused * self._weights

        best: dict[str, Match] = {}
        for i in np.argsort(-fused):
            target = self._targets[i]
            if target not in best:
                best[target] = Match(target, float(fused[i]), float(keywords[i]), float(characters[i]))
                if len(best) == limit:
                    break
        return Results(list(best.values()), tuple(stems))

    def _rescue_word(self, word: str) -> str:
        stems = self.analyzer.keywords([word])
        return self._rescue(stems[0]) if stems else ""

    def known_share(self, text: str) -> float:
        """The share of the text's keyword weight that the pack knows (1.0 without keywords)."""
        stems = list(dict.fromkeys(self._rescue(s) for s in self.analyzer.keywords(self.analyzer.words(text))))
        stems = [s for s in stems if s in self._idf or not s.isdigit()]
        if not stems:
            return 1.0
        weights = [self._idf.get(t, self._unknown_idf) for t in stems]
        return sum(w for t, w in zip(stems, weights, strict=True) if t in self._idf) / sum(weights)

    def knows(self, stem: str) -> bool:
        """True when some phrase of the pack has this keyword stem."""
        return stem in self._idf

    def explain(self, text: str) -> dict[str, object]:
        """What the analyzer made of a text (for `perseo-bot kb explain` and debugging)."""
        words = self.analyzer.words(text)
        return {"words": words, "keywords": [self._rescue(s) for s in self.analyzer.keywords(words)]}

    def _rescue(self, stem: str) -> str:
        """Map a stem the index lacks to a known stem sharing a long prefix.

        Snowball leaves "suspension" and "suspend(ido)" apart; a long common prefix
        (6+ letters and 80% of the shorter stem) is the same word family, not a guess.
        """
        if stem in self._idf or len(stem) < 6:
            return stem
        return self._family.get(stem) or self._family.setdefault(stem, self._closest_family(stem))

    def _closest_family(self, stem: str) -> str:
        best, best_len = stem, 0
        for known in self._idf:
            if len(known) < 6 or known[:6] != stem[:6]:
                continue
            common = len(commonpath([known, stem]))
            if common >= 0.8 * min(len(known), len(stem)) and common > best_len:
                best, best_len = known, common
        return best


def _phrases_of(pack: Pack) -> Iterable[_Phrase]:
    for article in pack.articles:
        yield _Phrase(article.id, article.title, 1.0)
        for question in article.questions:
            yield _Phrase(article.id, question, 1.0)
        for paragraph in article.body.split("\n"):
            if paragraph.strip():
                yield _Phrase(article.id, paragraph, Retriever.BODY_WEIGHT)
    for intent, phrases in pack.intents.items():
        for phrase in phrases:
            yield _Phrase(INTENT_PREFIX + intent, phrase, 1.0)


COMMON_WORDS = Path(__file__).resolve().parent / "lexicons" / "es_common.txt"


@lru_cache(maxsize=1)
def load_common_words() -> frozenset[str]:
    """Common Spanish words (see knowledge/build_common_words.py)."""
    lines = COMMON_WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def load_thresholds(pack_dir: Path) -> Thresholds:
    """The pack's calibrated thresholds (`thresholds.yaml`), or the defaults."""
    path = pack_dir / "thresholds.yaml"
    if not path.exists():
        return Thresholds()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return Thresholds(**{k: float(v) for k, v in data.items() if k in Thresholds.__dataclass_fields__})
