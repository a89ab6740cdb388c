"""The one entry point: `understand(text, memory, knowledge, today) -> Reading`.

Order (each step is pure and cheap; only the last ones search the pack):
1. content: greetings, courtesy, filler, venting and thanks are set apart (`content.py`);
2. a reference to an option just shown ("la segunda", "la de mañana") or a plain yes/no;
3. actions said in natural words: a person, office hours, cancelling the plan (`actions.py`);
   "cancelar" with an invoice as its object is read as "pagar";
4. a follow-up about the current topic ("¿y cuánto cuesta?", "¿y para cambiarla?") is
   answered from that topic's facet; a facet the topic lacks is never borrowed from another
   article when it is about money;
5. retrieval over the content, clause by clause (up to two questions in one message), with the
   current topic as context for short continuations ("y ...").
The router then only dispatches the interpretations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bot.context import Knowledge
from bot.understanding import actions, references
from bot.understanding.content import Content, extract, phrase_index
from bot.understanding.memory import Memory
from knowledge.retrieval import Match, Results
from knowledge.text import fold

# Facets a follow-up may ask about, most specific first (a cue of an earlier one wins).
FACET_ORDER = (
    "otherwise",
    "back",
    "billing",
    "change",
    "price",
    "purpose",
    "topic",
    "who",
    "link",
    "where",
    "time",
    "next",
)
SESSION_FACETS = ("time", "link", "where", "topic")
_CONTINUATION = (
    "y ", "e ", "pero ", "entonces ", "ya y ", "ok y ", "ah y ", "bueno y ", "ya pero ", "osea ", "o sea ",
    "adicionalmente", "asimismo", "ademas", "tambien", "oye y ", "oiga y ", "chuta y ", "chuta ya y ", "ya ok y ",
)  # fmt: skip
# Words that point back at the topic instead of naming it ("y para cambiarla?").
_POINTERS = frozenset(
    str.split(
        "eso esa ese esto esta este esos esas la lo las los le les ella el ellos tambien mismo misma solo "
        "sirve pa para hago hacer puedo puede se si no y o ya ok bueno entonces despues luego ahora antes"
    )
)
_TRAINING_WORDS = frozenset(str.split("capacitacion capacitaciones clase clases sesion curso zoom link enlace reunion"))
MAX_QUESTIONS = 2
CLOSE = 0.9  # a menu only when the second topic scores this close to the first
# Known keywords from which a long message is also read by them alone (with 10 or more, 40 % of
# the keyword weight known is enough; with fewer, half of it).
LONG_KNOWN = 5
MAX_CLAUSES = 4


@dataclass(frozen=True)
class Interpretation:
    """One thing the message asks for.

    kind: "answer" (target = article id), "intent" (target = intent name), "facet" (target =
    "<article>:<facet>"), "session" (target = facet of the training session in memory),
    "office_hours", "decline" (a facet the topic lacks; target = "<article>:<facet>"),
    "clarify" (candidates = article ids), "fallback".
    """

    kind: str
    target: str
    confidence: float
    reason: str
    candidates: tuple[str, ...] = ()
    hedged: bool = False  # answered below the answer threshold: said with a caveat
    text: str = ""  # the content this interpretation was read from


@dataclass(frozen=True)
class Reading:
    interpretations: tuple[Interpretation, ...]
    roles: frozenset[str] = frozenset()
    content: str = ""
    tap: str | None = None  # an option of the last reply the message points at
    yes: bool = False
    no: bool = False
    leave: bool = False
    person: bool = False

    @property
    def social(self) -> str | None:
        for role in ("thanks", "goodbye", "greeting"):
            if role in self.roles:
                return role
        return None

    @property
    def first(self) -> Interpretation | None:
        return self.interpretations[0] if self.interpretations else None


def understand(text: str, memory: Memory, knowledge: Knowledge, today: dt.date) -> Reading:
    discourse = knowledge.pack.lexicon.discourse
    folded = fold(text)
    content = extract(text, discourse)
    roles = content.roles
    yes = _only(folded, discourse, "yes")
    no = not yes and _only(folded, discourse, "no")
    leave = "leave" in roles  # a bare "no" is an answer the dialogue itself reads

    def reading(found: tuple[Interpretation, ...], *, tap: str | None = None, person: bool = False) -> Reading:
        return Reading(found, roles, content.text, tap, yes, no, leave, person)

    tap = references.resolve(text, memory.options, today)
    if tap is None and yes and memory.yes:
        tap = memory.yes
    if tap is not None:
        return reading((), tap=tap)

    whole = content.text or folded
    if actions.asks_office_hours(whole):
        return reading((Interpretation("office_hours", "office_hours", 1.0, "asks when advisors attend"),))
    if actions.asks_for_person(whole):
        person = Interpretation("intent", "handoff.request", 1.0, "asks for a person in words")
        return reading((person,), person=True)
    if actions.cancels_plan(whole) and not _about_training(whole, memory):
        cancel = Interpretation("intent", "plan.cancel", 1.0, "asks to cancel the plan")
        return reading((cancel,))
    if actions.reports_payment(whole):
        report = Interpretation("intent", "payment.report", 1.0, "asks to report a payment")
        return reading((report,))
    if content.empty:
        return reading(())

    if roles & {"thanks", "goodbye"} and not _known_stems(content.text, knowledge):
        return reading(())  # "ya de ley me conecto, gracias": thanks, nothing to look up
    clauses = tuple(actions.as_payment(c) if actions.cancel_means_pay(c) else c for c in content.clauses)
    if _cancels_training(whole, memory):
        cancel = Interpretation("intent", "training.cancel", 1.0, "cancels the training just discussed")
        return reading((cancel,))
    if leave:  # "olvídalo, …": what follows is not about the topic left behind
        memory = Memory(options=memory.options, yes=memory.yes)
    continuation = folded.startswith(_CONTINUATION) or any(c.startswith(_CONTINUATION) for c in content.clauses[:1])
    followup = _followup(" ".join(clauses), memory, knowledge, continuation)
    if followup is not None:
        return reading((followup,))
    interpretations = _search(Content(clauses, roles), memory, knowledge, continuation)
    return reading(interpretations)


def _only(folded: str, groups: Mapping[str, tuple[str, ...]], role: str) -> bool:
    """The whole message is made of `role` phrases (plus courtesy and thanks): "de una, dale"."""
    index = phrase_index(groups)
    if not folded or role not in index.whole:
        return False
    if folded in index.whole[role]:
        return True
    words = folded.split()
    used = False
    i = 0
    while i < len(words):
        for group in (role, "courtesy", "thanks"):
            match = next(
                (p for p in index.by_first.get(group, {}).get(words[i], ()) if tuple(words[i : i + len(p)]) == p),
                None,
            )
            if match is not None:
                used = used or group == role
                i += len(match)
                break
        else:
            return False
    return used


def _about_training(folded: str, memory: Memory) -> bool:
    return bool(_TRAINING_WORDS & set(folded.split())) or (
        memory.session is not None and not actions.cancel_means_pay(folded) and "plan" not in folded.split()
    )


def _cancels_training(folded: str, memory: Memory) -> bool:
    """'ya no voy a poder ir, cancela esa' right after signing up: the sign-up, not the plan."""
    if memory.session is None and memory.topic != "capacitaciones":
        return False
    words = set(folded.split())
    cancels = any(w.startswith(("cancel", "anul", "desinscrib", "borr", "retir")) for w in words)
    return cancels and not words & {"plan", "factura", "mensualidad", "sistema", "servicio", "contrato", "pago"}


def _facet(folded: str, cues: Mapping[str, tuple[str, ...]]) -> tuple[str, str] | None:
    """The facet a follow-up asks about and the cue phrase that said so."""
    words = f" {folded} "
    for facet in FACET_ORDER:
        for cue in cues.get(facet, ()):
            if f" {cue} " in words:
                # «a qué hora», «a cuánto»: the preposition belongs to the question word
                return facet, f"a {cue}" if f" a {cue} " in words else cue
    return None


def _followup(text: str, memory: Memory, knowledge: Knowledge, continuation: bool) -> Interpretation | None:
    """A short question about a side of the current topic, answered from that topic's facet."""
    if memory.topic is None and memory.session is None:
        return None
    found = _facet(text, knowledge.pack.lexicon.followups)
    if found is None:
        return _about_topic(text, memory, knowledge, continuation)
    facet, cue = found
    rest = f" {text} ".replace(f" {cue} ", " ").split()
    rest = [w for w in rest if w not in _POINTERS]
    session = memory.session if facet in SESSION_FACETS else None
    stopwords = knowledge.retriever.analyzer.stopwords
    unknown = [
        w
        for w in rest
        if len(w) >= 4 and w not in _TRAINING_WORDS and w not in stopwords and _stem_known(w, knowledge) is None
    ]
    trainings = session is not None or memory.topic == "capacitaciones"
    if trainings and unknown and facet in SESSION_FACETS and not _names_other_topic(rest, "capacitaciones", knowledge):
        # «¿cuándo es la de contabilidad?»: another session, by its topic: the calendar says
        return Interpretation("intent", "training.list", 1.0, "a training named by its topic", text=text)
    if session is not None and all(w in _TRAINING_WORDS or _stem_known(w, knowledge) is None for w in rest):
        reason = f"'{cue}' about the training session in memory"
        return Interpretation("session", facet, 1.0, reason, (session,), text=text)
    if memory.topic is None or len(rest) > (8 if continuation else 4) or (not continuation and len(text.split()) > 7):
        return None
    try:
        article = knowledge.pack.article(memory.topic)
    except KeyError:
        return None
    topic_stems = _topic_stems(article.id, knowledge, questions_only=True)
    titles = _title_stems(knowledge)
    named = [
        w
        for w in rest
        if (stem := _stem_known(w, knowledge)) is not None and stem in titles and stem not in topic_stems
    ]
    if named:
        # Words the topic's questions do not use: if they alone name another topic clearly,
        # this is a new question ("¿y el usuario también?"), searched below.
        other = knowledge.retriever.search(" ".join(named), limit=2, known_only=True).best
        if other is not None and other.target != article.id and other.score >= knowledge.retriever.thresholds.answer:
            return None
    if facet in article.followups:
        return Interpretation("facet", f"{article.id}:{facet}", 1.0, f"'{cue}' about {article.id}", text=text)
    if facet == "price" and continuation:
        return Interpretation("decline", f"{article.id}:{facet}", 1.0, f"{article.id} has no price", text=text)
    return None


_TITLES: dict[int, frozenset[str]] = {}


def _title_stems(knowledge: Knowledge) -> frozenset[str]:
    """Keywords of the articles' titles: a word that names a topic ("tutoriales", "usuario", "pago")."""
    key = id(knowledge.pack)
    if key not in _TITLES:
        analyzer = knowledge.retriever.analyzer
        titles = " ".join(a.title for a in knowledge.pack.articles)
        _TITLES[key] = frozenset(analyzer.keywords(analyzer.words(titles)))
    return _TITLES[key]


def _names_title(words: list[str], article_id: str, knowledge: Knowledge) -> bool:
    """Some word is a title keyword of another topic ("tutoriales" while talking of trainings)."""
    if article_id not in {a.id for a in knowledge.pack.articles}:
        return False
    own = _topic_stems(article_id, knowledge, questions_only=True)
    titles = _title_stems(knowledge)
    return any((stem := _stem_known(w, knowledge)) is not None and stem in titles and stem not in own for w in words)


def _names_other_topic(words: list[str], article_id: str, knowledge: Knowledge) -> bool:
    """Some word is a keyword of the pack that the article never uses ("tutoriales")."""
    if article_id not in {a.id for a in knowledge.pack.articles}:
        return False
    stems = _topic_stems(article_id, knowledge, questions_only=True)
    return any((stem := _stem_known(w, knowledge)) is not None and stem not in stems for w in words)


def _about_topic(text: str, memory: Memory, knowledge: Knowledge, continuation: bool) -> Interpretation | None:
    """«ya, ¿y dentro del sistema también hay?»: a short continuation whose words all belong to
    the current topic is about that topic, not about any article sharing one of its words."""
    if memory.topic is None or not continuation or len(text.split()) > 8:
        return None
    try:
        article = knowledge.pack.article(memory.topic)
    except KeyError:
        return None
    stems = _known_stems(text, knowledge)
    topic_stems = _topic_stems(article.id, knowledge, questions_only=True)
    if not stems or any(s not in topic_stems for s in stems if s != "no"):
        return None
    return Interpretation("answer", article.id, knowledge.retriever.thresholds.answer, "continues the topic", text=text)


_STEMS: dict[tuple[int, str, bool], frozenset[str]] = {}


def _topic_stems(article_id: str, knowledge: Knowledge, *, questions_only: bool = False) -> frozenset[str]:
    """The keyword stems of an article (its title and questions, and unless told, its body)."""
    key = (id(knowledge.pack), article_id, questions_only)
    if key not in _STEMS:
        article = knowledge.pack.article(article_id)
        analyzer = knowledge.retriever.analyzer
        parts = (
            (article.title, *article.questions) if questions_only else (article.title, *article.questions, article.body)
        )
        text = " ".join(parts)
        _STEMS[key] = frozenset(analyzer.keywords(analyzer.words(text)))
    return _STEMS[key]


def _known_stems(text: str, knowledge: Knowledge) -> list[str]:
    analyzer = knowledge.retriever.analyzer
    return [s for s in analyzer.keywords(analyzer.words(text)) if knowledge.retriever.knows(s)]


def _stem_known(word: str, knowledge: Knowledge) -> str | None:
    """The word's stem if it is a keyword the pack knows (None for function or unknown words)."""
    analyzer = knowledge.retriever.analyzer
    stems = analyzer.keywords(analyzer.words(word))
    if not stems:
        return None
    return stems[0] if knowledge.retriever.knows(stems[0]) else None


def _search(content: Content, memory: Memory, knowledge: Knowledge, continuation: bool) -> tuple[Interpretation, ...]:
    retriever = knowledge.retriever
    whole = content.text
    results = retriever.search(whole, limit=5)
    answer = retriever.thresholds.answer
    readings: list[tuple[Results, str, str]] = [(results, whole, "the whole message")]
    if len(content.clauses) > 1:
        for clause in content.clauses[:MAX_CLAUSES]:
            if len(set(_known_stems(clause, knowledge))) >= 2 or results.best is None or results.best.score < answer:
                # a clause that could be a question of its own (or the whole is unclear)
                readings.append((retriever.search(clause, limit=5), clause, "one clause"))
    thresholds = retriever.thresholds
    weak = results.best is None or results.best.score < thresholds.answer
    known = _known_stems(whole, knowledge)
    topic = memory.topic
    elliptical = topic is not None and not _names_title(whole.split(), topic, knowledge)
    if topic is not None and elliptical and weak and known and (continuation or len(whole.split()) <= 5):
        try:
            title = knowledge.pack.article(topic).title
        except KeyError:
            title = ""
        if title:
            context = retriever.search(f"{whole} {title}", limit=5)
            readings.append((_discounted(context, 0.9), whole, f"in the context of {memory.topic}"))
    distinct = len(set(known))
    if weak and distinct >= LONG_KNOWN and retriever.known_share(whole) >= (0.4 if distinct >= 2 * LONG_KNOWN else 0.5):
        # A long dictated message: the words the pack knows make it clear; the rest (a
        # ferretería in Santo Domingo, the accountant...) should not drown it.
        readings.append(
            (_discounted(retriever.search(whole, limit=5, known_only=True), 0.85), whole, "its known words")
        )

    two = _two_questions(readings[1:], knowledge) if len(content.clauses) > 1 else None
    if two is not None:
        return two
    results, text, reason = max(readings, key=lambda r: r[0].best.score if r[0].best else 0.0)
    return (_decide(results, text, reason, knowledge),)


def _discounted(results: Results, factor: float) -> Results:
    return Results(
        [Match(m.target, m.score * factor, m.keywords, m.characters) for m in results.matches], results.keywords
    )


def _two_questions(clauses: list[tuple[Results, str, str]], knowledge: Knowledge) -> tuple[Interpretation, ...] | None:
    thresholds = knowledge.retriever.thresholds
    chosen: list[Interpretation] = []
    for results, text, _ in clauses:
        best = results.best
        if best is None or best.is_intent or best.score < thresholds.answer or len(results.keywords) < 2:
            continue
        if any(i.target == best.target for i in chosen):
            continue
        chosen.append(Interpretation("answer", best.target, best.score, "one of two questions", text=text))
    return tuple(chosen[:MAX_QUESTIONS]) if len(chosen) >= 2 else None


def _decide(results: Results, text: str, reason: str, knowledge: Knowledge) -> Interpretation:
    thresholds = knowledge.retriever.thresholds
    best = results.best
    if best is None or best.score < thresholds.suggest:
        return Interpretation("fallback", "", best.score if best else 0.0, "nothing in the pack fits", text=text)
    ambiguous = results.is_ambiguous(thresholds.ambiguity_margin)
    articles = [m for m in results.matches if not m.is_intent and m.score >= thresholds.suggest]
    if best.score >= thresholds.answer and not ambiguous:
        kind = "intent" if best.is_intent else "answer"
        target = best.intent if best.is_intent else best.target
        return Interpretation(kind, target, best.score, reason, text=text)
    if ambiguous and len(articles) >= 2:
        candidates = tuple(m.target for m in articles[:3])
        return Interpretation(
            "clarify", candidates[0], best.score, "one word fits several topics", candidates, text=text
        )
    if best.is_intent and best.score >= thresholds.answer:
        return Interpretation("intent", best.intent, best.score, reason, text=text)
    if not articles:
        return Interpretation("fallback", "", best.score, "only an unsure action matched", text=text)
    close = [m for m in articles if m.score >= articles[0].score * CLOSE]
    if len(close) >= 2:
        candidates = tuple(m.target for m in close[:3])
        return Interpretation("clarify", candidates[0], best.score, "several topics fit equally", candidates, text=text)
    top = articles[0]
    if top.keywords >= 0.5:
        return Interpretation("answer", top.target, top.score, "one topic fits, not surely", hedged=True, text=text)
    return Interpretation("fallback", "", best.score, "one topic fits too weakly", text=text)
