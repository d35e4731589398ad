"""Query parameters of the API: parsed strictly, so a typo is a 400, never a silent no-op.

Each endpoint declares its parameters as a DRF serializer; `read(request, Parameters)`
checks that no unknown or repeated parameter was given and returns the validated values.
"""

from __future__ import annotations

import re
from datetime import date

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from chronicle.domain import edtf
from chronicle.domain.content import is_country
from chronicle.domain.errors import InvalidDate
from chronicle.domain.vocabulary import KINDS, TOPICS

ORDERINGS = ("-date", "date", "-updated", "updated")
_CALENDAR_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def read(request, parameters: type[serializers.Serializer]) -> dict:
    """The validated query parameters of `request`, or ValidationError (400) naming each bad one."""
    query = request.query_params
    fields = parameters._declared_fields
    problems: dict[str, list[str]] = {}
    data: dict[str, object] = {}
    for name in query:
        if name not in fields:
            problems[name] = [f"is not a parameter of this endpoint; known: {', '.join(fields)}."]
            continue
        values = query.getlist(name)
        if isinstance(fields[name], serializers.ListField):
            data[name] = values
        elif len(values) > 1:
            problems[name] = ["give this parameter once."]
        else:
            data[name] = values[0]
    if problems:
        raise ValidationError(problems)
    serializer = parameters(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _calendar_date(value: str, *, end: bool) -> date:
    if not _CALENDAR_DATE.match(value):
        raise serializers.ValidationError(f"“{value}” is not a date; use YYYY, YYYY-MM or YYYY-MM-DD.")
    try:
        span = edtf.parse(value)
    except InvalidDate as error:
        raise serializers.ValidationError(error.message) from None
    return span.latest if end else span.earliest


class CountryField(serializers.CharField):
    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if not is_country(code):
            raise serializers.ValidationError(f"“{data}” is not an ISO 3166-1 alpha-2 country code, e.g. BY.")
        return code


class TermField(serializers.CharField):
    """A term of a vocabulary; an unknown one is told where the terms are, or which they are."""

    def __init__(self, terms, what: str, listed_at: str = "", **kwargs):
        self.terms, self.what, self.listed_at = terms, what, listed_at
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in self.terms:
            known = f"see {self.listed_at}" if self.listed_at else f"use one of: {', '.join(self.terms)}"
            raise serializers.ValidationError(f"“{value}” is not a known {self.what}; {known}.")
        return value


class CalendarDateField(serializers.CharField):
    def __init__(self, *, end: bool, **kwargs):
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return _calendar_date(super().to_internal_value(data), end=self.end)


class PageParameters(serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=1000)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


class AsOfParameter(serializers.Serializer):
    as_of = serializers.DateTimeField(required=False, input_formats=["iso-8601"])


class DevelopmentListParameters(PageParameters, AsOfParameter):
    country = serializers.ListField(child=CountryField(), required=False, default=list, max_length=20)
    country_match = serializers.ChoiceField(
        choices=["all", "any"], required=False, default="all", error_messages={"invalid_choice": "use all or any."}
    )
    topic = serializers.ListField(
        child=TermField(TOPICS, "topic", "/api/v1/topics/"), required=False, default=list, max_length=20
    )
    kind = serializers.ListField(child=TermField(KINDS, "kind"), required=False, default=list, max_length=20)
    actor = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, default=list, max_length=20
    )
    date_from = CalendarDateField(end=False, required=False)
    date_to = CalendarDateField(end=True, required=False)
    q = serializers.CharField(required=False, max_length=200)
    ordering = serializers.ChoiceField(
        choices=ORDERINGS,
        required=False,
        error_messages={"invalid_choice": f"“{{input}}” is not an ordering; use one of: {', '.join(ORDERINGS)}."},
    )
    include_retracted = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise ValidationError({"date_to": ["is before date_from."]})
        return attrs


class TimelineParameters(DevelopmentListParameters):
    """The list's filters; one answer of the latest `limit` by date, no pages."""

    cursor = None
    ordering = None
    include_retracted = None
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=200)


class HistoryParameters(PageParameters, AsOfParameter):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=100)


class EventsParameters(serializers.Serializer):
    after = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1, default=0)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)


class ActorsParameters(PageParameters):
    q = serializers.CharField(required=False, max_length=200)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)


class NoParameters(serializers.Serializer):
    pass
