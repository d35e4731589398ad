"""Developments in Knight Lab's TimelineJS JSON format (timeline.knightlab.com/docs/json-format.html).

A date goes out at the precision it was entered with: `2005` as {year}, `2010-03` as
{year, month}; an interval has an end_date; an open-ended one ("before 18 June 2015") has
only the date it is known by, and `display_date` says which way it is open. Text fields
are HTML to TimelineJS, so everything user-written is escaped.
"""

from __future__ import annotations

from django.utils.html import escape
from rest_framework import serializers

from chronicle.developments.models import PublicDevelopment
from chronicle.domain import edtf, vocabulary
from chronicle.domain.vocabulary import KINDS


class DateSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField(required=False, help_text="Present when the date names its month.")
    day = serializers.IntegerField(required=False, help_text="Present when the date names its day.")


class TextSerializer(serializers.Serializer):
    headline = serializers.CharField(help_text="HTML (escaped text).")
    text = serializers.CharField(help_text="HTML: the summary and a link to the development's page.")


class EventSerializer(serializers.Serializer):
    unique_id = serializers.CharField(help_text="The development's slug.")
    start_date = DateSerializer(help_text="For an open start (“before …”), the date it is known to precede.")
    end_date = DateSerializer(required=False, help_text="Present for an interval with a known end.")
    display_date = serializers.CharField(help_text="The date written for people, e.g. “before 18 June 2015”.")
    text = TextSerializer()
    group = serializers.CharField(help_text="The kind of development, e.g. Treaty.")


class TitleSerializer(serializers.Serializer):
    text = TextSerializer()


class TimelineSerializer(serializers.Serializer):
    title = TitleSerializer(help_text="The title slide: what the timeline shows and where it comes from.")
    events = EventSerializer(many=True)


def date_object(day, precision: str) -> dict:
    found = {"year": day.year}
    if precision in ("month", "day"):
        found["month"] = day.month
    if precision == "day":
        found["day"] = day.day
    return found


def event(development: PublicDevelopment, page_url: str) -> dict:
    start, end = edtf.bounds(development.date)
    if start is None:
        assert end is not None  # a date has at least one known end
        dates = {"start_date": date_object(end.latest, end.precision)}
    else:
        dates = {"start_date": date_object(start.earliest, start.precision)}
        last = end.latest if end is not None else None
        if end is not None and end is not start:
            dates["end_date"] = date_object(end.latest, end.precision)
        elif last is not None and last.year != start.earliest.year:  # unspecified digits: 201X
            dates["end_date"] = {"year": last.year}
    summary = f"<p>{escape(development.summary)}</p>" if development.summary else ""
    return {
        "unique_id": development.slug,
        **dates,
        "display_date": edtf.humanize(development.date),
        "text": {
            "headline": escape(development.title),
            "text": f'{summary}<p><a href="{escape(page_url)}">Sources and history on Chronicle</a></p>',
        },
        "group": vocabulary.label(KINDS, development.kind),
    }


def timeline(developments: list[PublicDevelopment], *, page_url, site_url: str, more: bool, limit: int) -> dict:
    """`page_url(development)` gives its absolute page address; `more` says the list was cut at `limit`."""
    count = f"The latest {limit} developments by date" if more else f"{len(developments)} development"
    count += "" if more or len(developments) == 1 else "s"
    return {
        "title": {
            "text": {
                "headline": "Cooperation developments",
                "text": (
                    f'<p>{count} from <a href="{escape(site_url)}">Chronicle</a>, each with its sources and '
                    "every correction. Dates are shown as precisely as the sources give them.</p>"
                ),
            }
        },
        "events": [event(development, page_url(development)) for development in developments],
    }
