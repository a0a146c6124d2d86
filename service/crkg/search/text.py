"""Words for the full-text index: the same rules when indexing and when searching.

* Chinese, Japanese and Korean have no spaces between words. A run of such characters is
  indexed as its overlapping character **bigrams** (认可度 → 认可 可度), the usual
  dictionary-free segmentation for CJK retrieval (as in Lucene's CJKAnalyzer): every
  two-character word (认可, 志愿) is found, a longer word is found as the phrase of its
  bigrams, and no dictionary is needed (jieba would need one, and its own download).
  Each CJK character is also indexed alone (column ``chars``) so that a one-character
  query finds it too.
* Other scripts are split into words (Unicode ``\\w`` runs), case-folded; in a language
  with a Snowball stemmer (:data:`STEMMERS`) each word is indexed as its stem, so
  "volunteers" finds "volunteer". A query word is looked up as itself and as its stem in
  each such language (the query's language is not known).
* Nothing of the query is index syntax: every term is quoted for FTS5, so ``"``, ``*``,
  ``NEAR(``, ``OR``, ``AND`` and control characters are only words or separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: CJK Unified Ideographs (+ extension A, compatibility), kana, Hangul syllables.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W{_CJK}]+", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")

#: BCP 47 primary language → Snowball algorithm (snowballstemmer). Languages not listed
#: are matched by whole word.
STEMMERS = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
    "nl": "dutch", "pt": "portuguese", "sv": "swedish", "da": "danish", "no": "norwegian",
    "nb": "norwegian", "fi": "finnish", "hu": "hungarian", "ro": "romanian", "ru": "russian",
    "tr": "turkish", "pl": "polish", "cs": "czech", "el": "greek", "id": "indonesian",
}


@lru_cache(maxsize=None)
def _stemmer(algorithm: str):
    import snowballstemmer

    return snowballstemmer.stemmer(algorithm)


@lru_cache(maxsize=65536)
def stem(word: str, lang: str | None) -> str:
    algorithm = STEMMERS.get((lang or "").split("-")[0].lower())
    if not algorithm:
        return word
    return _stemmer(algorithm).stemWord(word)


def bigrams(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[k:k + 2] for k in range(len(run) - 1)]


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    cjk: bool


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end(), bool(_IS_CJK.match(m.group(0)))) for m in _TOKEN.finditer(text)]


def index_text(text: str, lang: str | None) -> tuple[str, str]:
    """(``body``, ``chars``) column values for one text in language *lang*."""
    body, chars = [], []
    for m in _TOKEN.finditer(text):  # as tokens(), without a Token per word: run once per indexed text
        word = m.group(0)
        if _IS_CJK.match(word):
            body.extend(bigrams(word))
            chars.extend(word)
        else:
            body.append(stem(word.casefold(), lang))
    return " ".join(body), " ".join(chars)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


@dataclass
class Query:
    """A search text as FTS5 MATCH syntax, plus what to highlight."""

    match: str | None  # None: no word in the text
    words: list[str]  # case-folded query words (non-CJK)
    runs: list[str]  # CJK runs
    dropped: int  # terms past the limit, not searched


def parse_query(text: str, languages: list[str], max_terms: int) -> Query:
    """Every term AND-ed; a word is any of its forms, a CJK run the phrase of its bigrams."""
    terms, words, runs = [], [], []
    found = tokens(text)
    for t in found[:max_terms]:
        if t.cjk:
            runs.append(t.text)
            if len(t.text) == 1:
                terms.append("chars : " + _quote(t.text))
            else:
                terms.append("body : " + _quote(" ".join(bigrams(t.text))))
        else:
            w = t.text.casefold()
            words.append(w)
            forms = sorted({w} | {stem(w, lang) for lang in languages})
            terms.append("body : (" + " OR ".join(_quote(f) for f in forms) + ")")
    match = " AND ".join(terms) if terms else None
    return Query(match, words, runs, max(len(found) - max_terms, 0))


def highlight(text: str, lang: str | None, query: Query, languages: list[str]) -> list[tuple[str, bool]]:
    """*text* cut into (segment, is_match) pieces: the words whose form matches a query
    word, and every occurrence of a query's CJK run."""
    spans = []
    wanted = set()
    for w in query.words:
        wanted |= {w} | {stem(w, x) for x in languages}
    for t in tokens(text):
        if not t.cjk:
            w = t.text.casefold()
            if w in wanted or stem(w, lang) in wanted:
                spans.append((t.start, t.end))
    for run in query.runs:
        start = text.find(run)
        while start >= 0:
            spans.append((start, start + len(run)))
            start = text.find(run, start + len(run))
    spans.sort()
    merged = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    pieces, pos = [], 0
    for s, e in merged:
        if s > pos:
            pieces.append((text[pos:s], False))
        pieces.append((text[s:e], True))
        pos = e
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces
