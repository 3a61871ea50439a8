"""Finding leads by what a person types: a name, an e-mail prefix, a phone fragment in any
formatting, a company or a domain, with typos.

PostgreSQL: every condition is one the indexes of migration 0012 answer (trigram GIN for the
substring and ``%>`` word-similarity matches, text_pattern_ops for the e-mail prefix), so a
search reads a few index pages instead of a million rows. Elsewhere (SQLite) the same
conditions are plain ``LIKE``, and a typo is tolerated by also trying the term with one
character replaced by a wildcard or two neighbours swapped; correct, not fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Case, F, FloatField, Func, Q, QuerySet, Value, When
from django.db.models.functions import Greatest, Lower

from .models import phone_digits

MAX_QUERY_LENGTH = 100
# Below this many characters a term matches too much to be worth a trigram or wildcard pass.
MIN_FUZZY_LENGTH = 4
MIN_PHONE_DIGITS = 3


@dataclass(frozen=True)
class SearchTerm:
    """A query as typed, normalised once: lower-cased, spaces collapsed, cut to a bound."""

    text: str
    digits: str

    @classmethod
    def parse(cls, raw: str | None) -> SearchTerm:
        text = " ".join((raw or "").replace("\x00", "").split()).lower()[:MAX_QUERY_LENGTH]
        digits = phone_digits(text)
        return cls(text=text, digits=digits if digits.isdigit() and len(digits) >= MIN_PHONE_DIGITS else "")

    def __bool__(self) -> bool:
        return len(self.text) >= 2

    @property
    def fuzzy(self) -> bool:
        return len(self.text) >= MIN_FUZZY_LENGTH and not self.digits


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class WordSimilar(Func):
    """``column %> 'term'``: the term is word-similar to some part of the column (pg_trgm,
    answered by a trigram GIN index on the column)."""

    output_field = BooleanField()
    template = "(%(expressions)s)"
    arg_joiner = " %%> "


class WordSimilarity(Func):
    function = "word_similarity"
    output_field = FloatField()


def text_match_q(term: SearchTerm, *, contains: tuple[str, ...] = (), prefix: tuple[str, ...] = ()) -> Q:
    """Substring matches on ``contains`` columns, prefix matches on ``prefix`` columns; all
    expected lower-case already (annotate ``Lower`` first where they are not)."""
    q = Q()
    for column in contains:
        q |= Q(**{f"{column}__contains": term.text})
    for column in prefix:
        q |= Q(**{f"{column}__startswith": term.text})
    return q


class Like(Func):
    """``column LIKE pattern`` with the pattern given as is (wildcards included)."""

    output_field = BooleanField()
    template = "(%(expressions)s ESCAPE '\\')"
    arg_joiner = " LIKE "


def fuzzy_columns_q(term: SearchTerm, columns: tuple[str, ...]) -> Q:
    """Typo-tolerant match on lower-case ``columns``: trigram word similarity on PostgreSQL,
    one-wildcard LIKE patterns elsewhere."""
    if not term.fuzzy:
        return Q()
    if connection.vendor == "postgresql":
        q = Q()
        for column in columns:
            q |= Q(WordSimilar(F(column), Value(term.text)))
        return q
    q = Q()
    for pattern in one_edit_patterns(term.text):
        for column in columns:
            q |= Q(Like(F(column), Value(pattern)))
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


def similarity_rank(term: SearchTerm, columns: tuple[str, ...]):
    """How well the best of ``columns`` matches (1 = contains the term), for ordering."""
    exact = Q()
    for column in columns:
        exact |= Q(**{f"{column}__contains": term.text})
    if connection.vendor != "postgresql" or not term.fuzzy:
        return Case(When(exact, then=Value(1.0)), default=Value(0.5), output_field=FloatField())
    similarities = [WordSimilarity(Value(term.text), F(column)) for column in columns]
    best = Greatest(*similarities) if len(similarities) > 1 else similarities[0]
    return Case(When(exact, then=Value(1.0)), default=best, output_field=FloatField())


LEAD_FUZZY_COLUMNS = ("search_name", "company_lower")


def lead_search(qs: QuerySet, raw: str | None, *, limit: int) -> QuerySet:
    """The leads of ``qs`` matching the query, best first, at most ``limit``. The caller
    applies row visibility to ``qs`` first (a rep's own leads, every lead for marketing)."""
    term = SearchTerm.parse(raw)
    if not term:
        return qs.none()
    qs = qs.annotate(company_lower=Lower("company"), email_lower=Lower("email"))
    match = text_match_q(term, contains=("search_name", "company_lower", "company_domain"), prefix=("email_lower",))
    if term.digits:
        match |= Q(phone_digits__contains=term.digits)
    match |= fuzzy_columns_q(term, LEAD_FUZZY_COLUMNS)
    rank = similarity_rank(term, LEAD_FUZZY_COLUMNS)
    if term.digits:
        rank = Case(When(phone_digits__contains=term.digits, then=Value(1.0)), default=rank, output_field=FloatField())
    rank = Case(When(email_lower__startswith=term.text, then=Value(1.0)), default=rank, output_field=FloatField())
    return qs.filter(match).annotate(search_rank=rank).order_by("-search_rank", "-id")[:limit]
