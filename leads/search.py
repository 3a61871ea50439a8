"""Finding leads (and, through ``crm``, contacts, accounts, deals) by what a person types: a
name, an e-mail prefix, a phone fragment in any formatting, a company or a domain, with typos.

PostgreSQL: every condition is a ``LIKE`` that the indexes of migration 0012 answer (trigram
GIN for substrings, text_pattern_ops for the e-mail prefix). Typos are corrected before the
search, not compared with every row: each word of the query that is no word of any lead is
replaced by the nearest word of the vocabulary (``SearchWord``, a few thousand rows kept by
triggers; one KNN query over a trigram GiST index), and the rows containing every corrected
word are found by the same indexes. Elsewhere (SQLite) the same conditions are plain ``LIKE``,
and a typo is tolerated by also trying the query with one character replaced by a wildcard or
two neighbours swapped; correct, not fast.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from .models import phone_digits

MAX_QUERY_LENGTH = 100
# Below this many characters a term matches too much to be worth a typo pass.
MIN_FUZZY_LENGTH = 4
MIN_PHONE_DIGITS = 3
# Shorter words cannot use a trigram index; they only narrow what the longer words found.
MIN_INDEXED_WORD = 3
WORD_SPLIT = re.compile(r"[^0-9a-zà-ÿ]+")


@dataclass
class SearchTerm:
    """A query as typed, normalised once: lower-cased, spaces collapsed, cut to a bound."""

    text: str
    digits: str
    _corrected: list[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: str | None) -> SearchTerm:
        text = " ".join((raw or "").replace("\x00", "").split()).lower()[:MAX_QUERY_LENGTH]
        digits = phone_digits(text)
        return cls(text=text, digits=digits if digits.isdigit() and len(digits) >= MIN_PHONE_DIGITS else "")

    def __bool__(self) -> bool:
        return len(self.text) >= 2

    @property
    def fuzzy(self) -> bool:
        """Worth a typo pass: long enough, not a phone number, not an e-mail address."""
        return len(self.text) >= MIN_FUZZY_LENGTH and not self.digits and "@" not in self.text

    @property
    def words(self) -> list[str]:
        return [w for w in WORD_SPLIT.split(self.text) if w]

    def corrected_words(self) -> list[str]:
        """PostgreSQL: each word, or the vocabulary word nearest to it when it is not a word of
        any lead (one query, made once per term). Elsewhere the words as typed."""
        if self._corrected is None:
            self._corrected = _corrected(self.words) if connection.vendor == "postgresql" else self.words
        return self._corrected


def _corrected(words: list[str]) -> list[str]:
    long_words = [w for w in words if len(w) >= MIN_INDEXED_WORD]
    if not long_words:
        return words
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.w, (SELECT s.word FROM leads_searchword s WHERE s.word %% t.w ORDER BY s.word <-> t.w LIMIT 1) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(w, n) ORDER BY t.n",
            [long_words],
        )
        fixed = {w: nearest or w for w, nearest in cursor.fetchall()}
    return [fixed.get(w, w) for w in words]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Like(Func):
    """``column LIKE pattern`` with the pattern given as is (wildcards included)."""

    output_field = BooleanField()
    template = "(%(expressions)s ESCAPE '\\')"
    arg_joiner = " LIKE "


def text_match_q(term: SearchTerm, *, contains: tuple[str, ...] = (), prefix: tuple[str, ...] = ()) -> Q:
    """The query as typed: a substring of a ``contains`` column or the start of a ``prefix``
    column (all expected lower-case; annotate ``Lower`` first where they are not)."""
    q = Q()
    for column in contains:
        q |= Q(**{f"{column}__contains": term.text})
    for column in prefix:
        q |= Q(**{f"{column}__startswith": term.text})
    return q


def one_edit_patterns(text: str) -> list[str]:
    """LIKE patterns matching ``text`` with one edit: any one character replaced by a wildcard
    (a wrong, missing or extra letter) or two neighbours swapped."""
    patterns = []
    for i in range(len(text)):
        if text[i] != " ":
            patterns.append(f"%{escape_like(text[:i])}%{escape_like(text[i + 1 :])}%")
        if i + 1 < len(text) and text[i] != text[i + 1]:
            swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            patterns.append(f"%{escape_like(swapped)}%")
    return patterns


def fuzzy_columns_q(term: SearchTerm, columns: tuple[str, ...]) -> Q:
    """Typo-tolerant match on lower-case ``columns``. PostgreSQL: every corrected word in one of
    the columns (so word order and one typo per word do not matter). Elsewhere: one-edit LIKE
    patterns of the whole query."""
    if not term.fuzzy:
        return Q(pk__in=[])
    if connection.vendor != "postgresql":
        q = Q()
        for pattern in one_edit_patterns(term.text):
            for column in columns:
                q |= Q(Like(F(column), Value(pattern)))
        return q
    words = term.corrected_words()
    indexed = [w for w in words if len(w) >= MIN_INDEXED_WORD]
    if not indexed:
        return Q(pk__in=[])
    q = Q()
    # Long words first: the planner takes the trigram index for them and filters by the rest.
    for word in sorted(words, key=len, reverse=True):
        either = Q()
        for column in columns:
            either |= Q(**{f"{column}__contains": word})
        q &= either
    return q


def exact_rank(match: Q):
    """1 for rows the query matches as typed, 0 for the typo-tolerant ones: exact hits first."""
    return Case(When(match, then=Value(1.0)), default=Value(0.0), output_field=FloatField())


LEAD_TEXT_COLUMNS = ("search_name", "company_lower", "company_domain")


def _lead_exact_q(term: SearchTerm) -> Q:
    match = text_match_q(term, contains=LEAD_TEXT_COLUMNS, prefix=("email_lower",))
    if term.digits:
        match |= Q(phone_digits__contains=term.digits)
    return match


def lead_search(
    qs: QuerySet, raw: str | SearchTerm | None, *, limit: int, fields: tuple[str, ...] = (), narrow: bool = False
) -> list:
    """The leads of ``qs`` matching the query, exact hits first, then newest first, at most
    ``limit``. The caller applies row visibility to ``qs`` (a rep's book, every lead for
    marketing and managers).

    PostgreSQL: the leads containing the query as typed; only when they are fewer than
    ``limit`` the spelling correction and the leads containing every corrected word. Each pass
    finds the newest matches with ``_newest_matching`` (the newest leads first, then the
    trigram indexes for a rare term), so no query ranks thousands of rows. ``narrow``: ``qs``
    is a small set (a rep's book, as ``pk__in``), read whole and sorted rather than found by
    walking the primary key of the whole table.
    Elsewhere one query: substring or one-edit LIKE patterns."""
    term = raw if isinstance(raw, SearchTerm) else SearchTerm.parse(raw)
    if not term:
        return []
    qs = qs.annotate(company_lower=Lower("company"), email_lower=Lower("email"))
    if fields:
        qs = qs.only(*fields)
    exact = _lead_exact_q(term)
    if connection.vendor != "postgresql":
        match = exact | fuzzy_columns_q(term, ("search_name", "company_lower"))
        newest = (F("id") + 0).desc() if narrow else F("id").desc()
        return list(qs.filter(match).annotate(search_rank=exact_rank(exact)).order_by("-search_rank", newest)[:limit])
    found = _newest_matching(qs, exact, limit=limit, narrow=narrow)
    if len(found) >= limit or not term.fuzzy:
        return found
    more = qs.exclude(pk__in=[lead.pk for lead in found])
    return found + _newest_matching(
        more, fuzzy_columns_q(term, LEAD_TEXT_COLUMNS), limit=limit - len(found), narrow=narrow
    )


# Newest-first search reads the NEWEST_WINDOW newest leads first (a walk of the primary key that
# stops there); only when they hold fewer than ``limit`` matches are the trigram indexes asked.
NEWEST_WINDOW = 10_000
# A term matching at most this many leads is then found through the trigram indexes and sorted;
# a more common one by walking the primary key from the newest lead.
RARE_TERM_MATCHES = 2000
_WINDOW_FLOOR_TTL_S = 60.0
_window_floor_cache: dict[str, tuple[float, int | None]] = {}


def _window_floor(model) -> int | None:
    """The id of the NEWEST_WINDOW-th newest lead, or None when there are fewer (the window is
    then every lead). One index-only query a minute per process: a floor that is a little
    old only makes the window a little larger."""
    key = connection.settings_dict["NAME"]
    now = time.monotonic()
    cached = _window_floor_cache.get(key)
    if cached is None or now - cached[0] > _WINDOW_FLOOR_TTL_S:
        ids = list(model.objects.order_by("-id").values_list("id", flat=True)[NEWEST_WINDOW - 1 : NEWEST_WINDOW])
        cached = (now, ids[0] if ids else None)
        _window_floor_cache[key] = cached
    return cached[1]


def _newest_matching(qs: QuerySet, match: Q, *, limit: int, narrow: bool) -> list:
    """The ``limit`` newest leads of ``qs`` matching ``match``: one query for a term the newest
    leads hold, three for a rarer one.

    The planner cannot estimate how many rows a trigram LIKE matches (it guessed 397 for an
    e-mail prefix that matched one of 1M leads, and 5,630 for words that matched 487), so with
    ``ORDER BY id DESC LIMIT n`` it chose between walking the primary key (2 s at 1M for a rare
    term) and a bitmap over the trigram indexes by chance. So: first the NEWEST_WINDOW newest
    leads, walked and filtered (the match is wrapped in a CASE, which no index answers, so the
    walk is the only plan); if they hold ``limit`` matches, those are the newest. Otherwise up
    to RARE_TERM_MATCHES + 1 ids of all matches, unordered (the trigram indexes answer a rare
    term); when that is all of them the newest are picked from the ids, and a common term
    walks the primary key from the newest lead."""
    if narrow:
        return list(qs.filter(match).order_by((F("id") + 0).desc())[:limit])
    floor = _window_floor(qs.model)
    in_window = (
        qs.annotate(search_hit=Case(When(match, then=Value(True)), default=Value(False), output_field=BooleanField()))
        .filter(search_hit=True)
        .order_by(F("id").desc())
    )
    if floor is not None:
        in_window = in_window.filter(id__gte=floor)
    found = list(in_window[:limit])
    if len(found) >= limit or floor is None:
        return found
    ids = list(qs.filter(match).order_by().values_list("id", flat=True)[: RARE_TERM_MATCHES + 1])
    if len(ids) <= RARE_TERM_MATCHES:
        newest = sorted(ids, reverse=True)[:limit]
        return sorted(qs.filter(pk__in=newest), key=lambda lead: lead.pk, reverse=True)
    return list(qs.filter(match).order_by(F("id").desc())[:limit])
