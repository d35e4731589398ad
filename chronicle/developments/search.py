"""`q` on the public read model: the one search behind the API's `q` and the timeline's.

Matching is chronicle.domain.search's rule, applied to PublicDevelopment.search_text, which
holds the title and summary already folded: each query word must appear as " word" (the start
of a word). PostgreSQL answers those LIKE lookups from a trigram index (api migration 0004).
"""

from __future__ import annotations

from django.db.models import Case, Expression, FloatField, QuerySet, Value, When
from django.db.models.functions import Cast, StrIndex
from django.db.models.lookups import LessThan

from chronicle.domain import search


def matching(rows: QuerySet, query: str) -> QuerySet:
    """The rows whose title and summary hold a word beginning with each word of `query`."""
    for term in search.terms(query):
        rows = rows.filter(search_text__contains=f" {term}")
    return rows


def ranked(rows: QuerySet, query: str) -> QuerySet:
    """Annotate `rank`: per query word, 2 when it begins a word of the title, 1 of the summary
    only, and 1 more when it is a whole word; more matching words rank higher."""
    rank: Expression = Value(0)
    title_end = StrIndex("search_text", Value(f" {search.TITLE_END} "))
    for term in search.terms(query):
        in_title = When(LessThan(StrIndex("search_text", Value(f" {term}")), title_end), then=Value(2))
        rank = rank + Case(in_title, default=Value(1))
        rank = rank + Case(When(search_text__contains=f" {term} ", then=Value(1)), default=Value(0))
    return rows.annotate(rank=Cast(rank, FloatField()))
