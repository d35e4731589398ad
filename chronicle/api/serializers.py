"""The API's representations.

The declared fields are the documented contract: drf-spectacular builds the OpenAPI
schema from them, and the schemathesis test holds every response to it. The
`to_representation` methods build each dict directly, because rendering field by field
took most of a list request's time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse
from rest_framework import serializers

from chronicle import published
from chronicle.developments.models import PublicDevelopment, PublicRevision, PublicStatus
from chronicle.domain import edtf
from chronicle.domain.events import REVISION_KINDS, RevisionKind
from chronicle.domain.vocabulary import AMOUNT_QUALIFIERS

from .selectors import PublicEvent

REVISION_KIND_CHOICES = [(kind.value, kind.label) for kind in RevisionKind]


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ActorSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField(help_text="e.g. operator, supplier, organisation.")


class AmountSerializer(serializers.Serializer):
    value = serializers.CharField(
        help_text="A decimal number written out in full, e.g. “200000000” or “1.235”. A string, not a JSON "
        "number, so that no digit is lost: many JSON readers turn numbers into binary floating point "
        "(1.235 becomes 1.2350000000000001). Read it with a decimal type."
    )
    currency = serializers.CharField(allow_null=True, help_text="ISO 4217 code, for money.")
    unit = serializers.CharField(allow_null=True, help_text="For anything but money, e.g. Gbit/s.")
    measures = serializers.CharField(help_text="What the amount measures.")
    qualifier = serializers.ChoiceField(
        choices=list(AMOUNT_QUALIFIERS),
        help_text="How the value relates to the quantity: exact, more-than, less-than or about.",
    )
    period = serializers.CharField(
        allow_null=True, help_text="EDTF: the time the amount covers, e.g. 2021 or 2019/2021; null if not stated."
    )


class PlaceSerializer(serializers.Serializer):
    name = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    lat = serializers.FloatField(allow_null=True, help_text="WGS84 latitude.")
    lon = serializers.FloatField(allow_null=True, help_text="WGS84 longitude.")


class SourceSerializer(serializers.Serializer):
    title = serializers.CharField()
    publisher = serializers.CharField(allow_null=True)
    author = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    published = serializers.CharField(allow_null=True, help_text="YYYY, YYYY-MM or YYYY-MM-DD.")
    accessed = serializers.CharField(allow_null=True, help_text="YYYY-MM-DD.")
    locator = serializers.CharField(allow_null=True, help_text="Page, section or paragraph.")
    quote = serializers.CharField(allow_null=True)


class FactsSerializer(serializers.Serializer):
    """What a published development says. On a retracted one every fact is null."""

    summary = serializers.CharField(allow_null=True, allow_blank=True)
    kind = serializers.CharField(allow_null=True, help_text="Slug from the kinds vocabulary, e.g. treaty.")
    stage = serializers.CharField(allow_null=True, help_text="announced, signed, in-force, …; null if not known.")
    date = serializers.CharField(allow_null=True, help_text="EDTF as entered: 2005, 2010-03, 2021~, 2015/2023, …")
    date_earliest = serializers.DateField(allow_null=True, help_text="The first day `date` can mean.")
    date_latest = serializers.DateField(allow_null=True, help_text="The last day `date` can mean.")
    date_basis = serializers.CharField(
        allow_null=True,
        help_text="How the date is known: given (by the source), inferred (from the source's own date) or "
        "bounded (only by or from a date, e.g. ../2015-06-18); null if not stated.",
    )
    countries = serializers.ListField(child=serializers.CharField(), allow_null=True, help_text="ISO 3166-1 alpha-2.")
    topics = serializers.ListField(child=serializers.CharField(), allow_null=True, help_text="Topic slugs.")
    actors = ActorSerializer(many=True, allow_null=True)
    amounts = AmountSerializer(many=True, allow_null=True)
    places = PlaceSerializer(many=True, allow_null=True)
    sources = SourceSerializer(many=True, allow_null=True)
    related = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Slugs of related developments."
    )


WITHHELD = dict.fromkeys(FactsSerializer._declared_fields)


def _every_key(items: list[dict], serializer: type[serializers.Serializer]) -> list[dict]:
    """Optional keys a curator left empty are null, as a retracted development's facts are: one rule."""
    return [{name: item.get(name) for name in serializer._declared_fields} for item in items]


def facts(content: dict, span: edtf.EdtfDate | None = None) -> dict:
    span = span or edtf.parse(content["date"])
    return {
        "summary": content.get("summary", ""),
        "kind": content["kind"],
        "stage": content.get("stage") or None,
        "date": content["date"],
        "date_earliest": span.earliest.isoformat(),
        "date_latest": span.latest.isoformat(),
        "date_basis": content.get("date_basis") or None,
        "countries": content["countries"],
        "topics": content["topics"],
        "actors": content.get("actors", []),
        "amounts": _every_key(content.get("amounts", []), AmountSerializer),
        "places": _every_key(content.get("places", []), PlaceSerializer),
        "sources": _every_key(content.get("sources", []), SourceSerializer),
        "related": content.get("related", []),
    }


class RetractionSerializer(serializers.Serializer):
    reason = serializers.CharField()
    retracted_at = serializers.DateTimeField()


class LastRevisionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=REVISION_KIND_CHOICES)
    note = serializers.CharField(
        allow_blank=True, help_text="The public note of a correction or update; the reason of a retraction."
    )
    recorded_at = serializers.DateTimeField(help_text="When it was recorded.")
    position = serializers.IntegerField(help_text="Its position in the change stream.")


def last_revision(revision: PublicRevision) -> dict:
    return {
        "kind": revision.kind,
        "note": revision.note,
        "recorded_at": _time(revision.recorded_at),
        "position": revision.position,
    }


class DevelopmentSerializer(FactsSerializer):
    id = serializers.UUIDField()
    slug = serializers.SlugField()
    status = serializers.ChoiceField(choices=PublicStatus.choices)
    title = serializers.CharField()
    url = serializers.URLField(help_text="This development in the API.")
    history_url = serializers.URLField(help_text="Its public revisions.")
    page_url = serializers.URLField(help_text="Its public web page.")
    first_published_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="When its latest public event was recorded.")
    position = serializers.IntegerField(help_text="Change-stream position of its latest public event.")
    retraction = RetractionSerializer(
        allow_null=True, help_text="Why and when it was retracted; null unless retracted."
    )
    last_revision = LastRevisionSerializer(
        help_text=(
            "The latest public revision (with `as_of`, the latest by then): its first publication, a correction "
            "or update with its note, or its retraction with the reason."
        )
    )

    def to_representation(self, development: PublicDevelopment) -> dict:
        request = self.context["request"]
        retracted = development.status == PublicStatus.RETRACTED
        detail = reverse("api:development-detail", args=[development.id])
        span = edtf.EdtfDate(development.date, development.date_earliest, development.date_latest)
        return {
            "id": str(development.id),
            "slug": development.slug,
            "status": development.status,
            "title": development.title,
            **(WITHHELD if retracted else facts(development.content, span)),
            "url": request.build_absolute_uri(detail),
            "history_url": request.build_absolute_uri(f"{detail}history/"),
            "page_url": request.build_absolute_uri(published.development_path(development.slug)),
            "first_published_at": _time(development.first_published_at),
            "updated_at": _time(development.updated_at),
            "position": development.last_public_position,
            "retraction": (
                {"reason": development.retraction_reason, "retracted_at": _time(development.updated_at)}
                if retracted
                else None
            ),
            "last_revision": last_revision(development.last_revision),
        }


class DevelopmentPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last one.")
    results = DevelopmentSerializer(many=True)


class RevisionContentSerializer(FactsSerializer):
    title = serializers.CharField()


def revision_content(content: dict | None) -> dict | None:
    return {"title": content["title"], **facts(content)} if content is not None else None


class RevisionSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="Its position in the change stream.")
    version = serializers.IntegerField(help_text="Its version within the development's stream.")
    kind = serializers.ChoiceField(choices=REVISION_KIND_CHOICES)
    note = serializers.CharField(
        allow_blank=True, help_text="The public note of a correction or update; the reason of a retraction."
    )
    recorded_at = serializers.DateTimeField()
    content = RevisionContentSerializer(
        allow_null=True, help_text="What the development said after this revision; null for the retraction."
    )

    def to_representation(self, revision: PublicRevision) -> dict:
        retraction = revision.kind == RevisionKind.RETRACTED
        return {
            "position": revision.position,
            "version": revision.version,
            "kind": revision.kind,
            "note": revision.note,
            "recorded_at": _time(revision.recorded_at),
            "content": None if retraction else revision_content(revision.content),
        }


class HistoryPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last one.")
    results = RevisionSerializer(many=True)


class TimeMapMementoSerializer(serializers.Serializer):
    datetime = serializers.DateTimeField(help_text="Its Memento-Datetime: the revision's record time.")
    uri = serializers.URLField(help_text="The memento: the detail with `as_of` that time.")
    kind = serializers.ChoiceField(choices=REVISION_KIND_CHOICES)
    note = serializers.CharField(allow_blank=True)
    position = serializers.IntegerField()


class TimeMapMementosSerializer(serializers.Serializer):
    first = TimeMapMementoSerializer(allow_null=True)
    last = TimeMapMementoSerializer(allow_null=True)
    list = TimeMapMementoSerializer(many=True)


class TimeMapUrisSerializer(serializers.Serializer):
    link_format = serializers.URLField()


class TimeMapSerializer(serializers.Serializer):
    original_uri = serializers.URLField()
    timegate_uri = serializers.URLField()
    timemap_uri = TimeMapUrisSerializer()
    mementos = TimeMapMementosSerializer()


class EventDevelopmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.SlugField()
    url = serializers.URLField()


class PublicEventSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="Global, gap-free order; pass the last one seen as `after`.")
    event_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=list(REVISION_KINDS))
    kind = serializers.ChoiceField(choices=REVISION_KIND_CHOICES, help_text="The revision kind, as in history.")
    development = EventDevelopmentSerializer()
    version = serializers.IntegerField(help_text="Version of the development's stream after this event.")
    recorded_at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True, help_text="Correction or update note; retraction reason.")
    content = RevisionContentSerializer(
        allow_null=True, help_text="What the development said after this event; null for a retraction."
    )
    seal = serializers.CharField(
        allow_null=True,
        help_text="The event's tamper-evident seal (SHA-256, hex) over the log up to this position; null until "
        "it is sealed, moments after it is recorded. Keep it: `python manage.py verify_log --kept POSITION:SEAL` "
        "shows whether history up to here was changed since.",
    )

    def to_representation(self, item: PublicEvent) -> dict:
        event, revision = item.event, item.revision
        request = self.context["request"]
        kind = REVISION_KINDS[event.type]
        return {
            "position": event.position,
            "event_id": str(event.event_id),
            "type": event.type,
            "kind": kind,
            "development": {
                "id": str(event.stream_id),
                "slug": item.slug,
                "url": request.build_absolute_uri(reverse("api:development-detail", args=[event.stream_id])),
            },
            "version": event.version,
            "recorded_at": _time(event.recorded_at),
            "note": event.data.get("note") or event.data.get("reason") or "",
            "content": (
                revision_content(revision.content) if revision is not None and kind != RevisionKind.RETRACTED else None
            ),
            "seal": item.seal,
        }


class LogHeadSerializer(serializers.Serializer):
    position = serializers.IntegerField(help_text="The log is sealed up to this position (0: nothing sealed yet).")
    seal = serializers.CharField(allow_null=True, help_text="The seal at that position: SHA-256 (hex).")
    recorded_at = serializers.DateTimeField(allow_null=True, help_text="When the event at that position was recorded.")
    latest_position = serializers.IntegerField(help_text="The latest position in the log, sealed or not.")


class EventPageSerializer(serializers.Serializer):
    next = serializers.IntegerField(
        help_text="Pass as `after` for the next page: the last position returned, or `after` if none was."
    )
    next_url = serializers.URLField()
    results = PublicEventSerializer(many=True)


class TopicSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    label = serializers.CharField()
    description = serializers.CharField()
    count = serializers.IntegerField(help_text="Published developments with this topic (retracted ones not counted).")
    url = serializers.URLField(help_text="Those developments.")


class TopicListSerializer(serializers.Serializer):
    results = TopicSerializer(many=True)


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    name = serializers.CharField()
    count = serializers.IntegerField(help_text="Published developments involving this country.")
    url = serializers.URLField(help_text="Those developments.")


class CountryListSerializer(serializers.Serializer):
    results = CountrySerializer(many=True)


class ActorEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), help_text="Every role it has in them.")
    count = serializers.IntegerField(help_text="Published developments naming this actor.")
    url = serializers.URLField(help_text="Those developments.")


class ActorPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last one.")
    results = ActorEntrySerializer(many=True)
