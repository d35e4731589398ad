"""The public site: the timeline of published developments and one page per development."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import ExtractMonth, ExtractYear
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from chronicle import memento
from chronicle.developments import projections, search
from chronicle.developments.models import PublicCountry, PublicDevelopment, PublicStatus, RevisionKind
from chronicle.domain import edtf
from chronicle.domain.content import amount_phrase, country_name, date_basis_phrase, is_country
from chronicle.domain.vocabulary import CONTEXT, FIGURES, KINDS, STAGES, TOPICS
from chronicle.feeds.catalog import Feed

from . import charts

PAGE_SIZE = 20

_FEED_FORMATS = [("atom", "application/atom+xml", "Atom"), ("rss", "application/rss+xml", "RSS")]
_FEED_FORMATS += [("json", "application/feed+json", "JSON Feed")]


@dataclass(frozen=True)
class FeedLink:
    title: str
    type: str
    href: str
    label: str


def feed_links(feed: Feed) -> list[FeedLink]:
    return [
        FeedLink(f"{feed.title} ({label})", media_type, f"/feeds/{feed.path}.{extension}", label)
        for extension, media_type, label in _FEED_FORMATS
    ]


# The timeline lists developments (context among them, marked) unless asked for figures or a kind.
DEVELOPMENTS = ""
KIND_CHOICES = [(DEVELOPMENTS, "Developments"), (FIGURES, KINDS[FIGURES].label), (CONTEXT, KINDS[CONTEXT].label)]
KIND_CHOICES += [(t.slug, t.label) for t in KINDS.values() if t.slug not in (FIGURES, CONTEXT)]


class CountriesField(forms.Field):
    """Repeatable, like the API's `country`: ?country=by&country=cn means both."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[str]:
        return [code.strip().upper() for code in value or [] if code.strip()]

    def validate(self, value: list[str]) -> None:
        if len(value) > 20:
            raise forms.ValidationError("Choose at most 20 countries.")
        if any(not is_country(code) for code in value):
            raise forms.ValidationError("Use a two-letter ISO 3166-1 country code, e.g. by.")


class TimelineFilter(forms.Form):
    q = forms.CharField(required=False, max_length=200, strip=True)
    country = CountriesField(required=False)
    kind = forms.ChoiceField(required=False, choices=KIND_CHOICES)
    topic = forms.ChoiceField(
        required=False, choices=[("", "Any topic")] + [(t.slug, t.label) for t in TOPICS.values()]
    )
    year = forms.IntegerField(required=False, min_value=1, max_value=9999)

    def clean_country(self) -> list[str]:
        return list(dict.fromkeys(self.cleaned_data["country"]))


def timeline(request):
    form = TimelineFilter(request.GET)
    developments = PublicDevelopment.objects.filter(status=PublicStatus.PUBLISHED)
    feeds = feed_links(Feed())
    if not form.is_valid():
        developments = developments.none()
        criteria = {}
    else:
        criteria = form.cleaned_data
    for code in reversed(criteria.get("country", [])):
        developments = developments.filter(Exists(PublicCountry.objects.filter(development=OuterRef("pk"), code=code)))
        feeds = feed_links(Feed(country=code)) + feeds
    if criteria.get("q"):
        developments = search.matching(developments, criteria["q"])
    if criteria.get("topic"):
        developments = developments.filter(topic_rows__slug=criteria["topic"])
        feeds = feed_links(Feed(topic=criteria["topic"])) + feeds
    if criteria.get("kind"):
        developments = developments.filter(kind=criteria["kind"])
    elif form.is_valid():
        developments = developments.exclude(kind=FIGURES)
    if criteria.get("year"):
        year = criteria["year"]
        developments = developments.filter(date_earliest__lte=date(year, 12, 31), date_latest__gte=date(year, 1, 1))
    chosen_countries = [code.lower() for code in criteria.get("country", [])]
    page = Paginator(developments.order_by("-date_latest", "-date_earliest", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    codes = (
        PublicCountry.objects.filter(development__status=PublicStatus.PUBLISHED)
        .values_list("code", flat=True)
        .order_by()
        .distinct()
    )
    context = {
        "form": form,
        "page": page,
        "rows": [_summary(development) for development in page],
        "filtered": any(criteria.values()),
        "heading": _heading(criteria),
        "first_country": (chosen_countries[:1] or [""])[0],
        "more_countries": chosen_countries[1:],
        "countries": sorted(((code.lower(), country_name(code)) for code in codes), key=lambda c: c[1]),
        "topics": list(TOPICS.values()),
        "kinds": KIND_CHOICES,
        "noun": ("figure", "figures") if criteria.get("kind") == FIGURES else ("development", "developments"),
        "feeds": feeds,
        "chart": timeline_chart(developments),
    }
    return render(request, "public/timeline.html", context, status=200 if form.is_valid() else 400)


def timeline_chart(developments: QuerySet[PublicDevelopment]) -> charts.Chart | None:
    """The chart of `developments`: a mark each, or counts per period counted by the database."""
    if developments.count() > charts.MAX_MARKS:
        return charts.aggregate(_span_groups(developments))
    rows = developments.order_by().values_list("slug", "title", "date")
    return charts.timeline(
        [charts.Dated(slug, title, edtf.humanize(text), charts.span_of(text)) for slug, title, text in rows]
    )


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _span_groups(developments: QuerySet[PublicDevelopment]) -> list[charts.Group]:
    """Developments counted by the months their span starts and ends in (months are the
    finest period the chart counts by) and by whether the date is qualified or open."""
    rows = (
        developments.order_by()
        .annotate(
            qualified=_flag(Q(date__contains="~") | Q(date__contains="?") | Q(date__contains="%")),
            open_start=_flag(Q(date__startswith="/") | Q(date__startswith="..")),
            open_end=_flag(Q(date__endswith="/") | Q(date__endswith="..")),
            start_year=ExtractYear("date_earliest"),
            start_month=ExtractMonth("date_earliest"),
            end_year=ExtractYear("date_latest"),
            end_month=ExtractMonth("date_latest"),
        )
        .values("qualified", "open_start", "open_end", "start_year", "start_month", "end_year", "end_month")
        .annotate(count=Count("id"))
    )
    return [
        charts.Group(
            earliest=None if row["open_start"] else date(row["start_year"], row["start_month"], 1),
            latest=None if row["open_end"] else date(row["end_year"], row["end_month"], 1),
            qualified=row["qualified"],
            count=row["count"],
        )
        for row in rows
    ]


def development_page(request, slug: str):
    """The development now; with `?as_of=`, the memento current then (RFC 7089); with
    `Accept-Datetime`, a redirect to that memento."""
    development = get_object_or_404(PublicDevelopment, slug=slug)
    revisions = list(development.revisions.order_by("position"))
    timeline = page_timeline(request, development, revisions)
    if memento.ACCEPT_DATETIME in request.META:
        return timeline.redirect(request.META[memento.ACCEPT_DATETIME])
    if "as_of" not in request.GET:
        return timeline.mark_original(_render_development(request, development, revisions, timeline, None))
    try:
        moment = memento.parse_as_of(request.GET["as_of"])
    except memento.BadDatetime as error:
        return memento.bad_request(str(error))
    index = timeline.index_at(moment)
    if index is None:
        raise Http404("This development was not yet published then.")
    shown = projections.public_after(
        revisions[index], id=development.id, slug=development.slug, first_published_at=development.first_published_at
    )
    response = _render_development(request, shown, revisions[: index + 1], timeline, timeline.mementos[index])
    return timeline.mark_memento(response, index)


def page_timeline(request, development: PublicDevelopment, revisions: list) -> memento.Timeline:
    original = request.build_absolute_uri(reverse("public:development", args=[development.slug]))
    timemap = request.build_absolute_uri(reverse("public:timemap", args=[development.slug]))
    return memento.Timeline.of(original, timemap, revisions)


def timemap(request, slug: str):
    """Every memento of the development's page (RFC 7089 section 5); JSON on `Accept: application/json`."""
    development = get_object_or_404(PublicDevelopment, slug=slug)
    revisions = list(development.revisions.order_by("position").defer("content"))
    return page_timeline(request, development, revisions).timemap_response(request)


def _render_development(request, development, revisions, timeline, shown_memento):
    content = development.content
    links = {m.revision.position: m.url for m in timeline.mementos}
    context = {
        "development": development,
        "retracted": development.status == PublicStatus.RETRACTED,
        "retraction": next((r for r in reversed(revisions) if r.kind == RevisionKind.RETRACTED), None),
        "content": content,
        "kind": _label(KINDS, content["kind"]),
        "is_context": content["kind"] == CONTEXT,
        "date_basis": date_basis_phrase(content["date"], content.get("date_basis", "")),
        "related": _related(development),
        "stage": _label(STAGES, content.get("stage", "")),
        "countries": [(code.lower(), country_name(code)) for code in content["countries"]],
        "topics": [(slug, _label(TOPICS, slug)) for slug in content["topics"]],
        "places": [{**place, "country_name": country_name(place["country"])} for place in content.get("places", [])],
        "amounts": [{**amount, "phrase": amount_phrase(amount)} for amount in content.get("amounts", [])],
        "history": [(revision, links[revision.position]) for revision in revisions],
        "memento": shown_memento,
        "original_url": timeline.original,
        "timemap_url": timeline.timemap,
        "feeds": feed_links(Feed()),
    }
    # A retraction leaves a tombstone: the page says what happened, with 410 Gone so
    # search engines and link checkers drop the address.
    status = 410 if context["retracted"] else 200
    return render(request, "public/development.html", context, status=status)


def _related(development: PublicDevelopment) -> list[dict]:
    """The published developments this one names as related, and those that name it."""
    named = development.content.get("related", [])
    others = (
        PublicDevelopment.objects.filter(status=PublicStatus.PUBLISHED)
        .filter(Q(slug__in=named) | Q(relation_rows__slug=development.slug))
        .exclude(id=development.id)
        .distinct()
        .order_by("date_earliest", "date_latest", "title")
    )
    return [{"development": other, "kind": _label(KINDS, other.kind)} for other in others]


def _summary(development: PublicDevelopment) -> dict:
    return {
        "development": development,
        "kind": _label(KINDS, development.kind),
        "is_context": development.kind == CONTEXT,
        "countries": [country_name(code) for code in development.content["countries"]],
        "corrected": development.updated_at > development.first_published_at,
    }


def _heading(criteria: dict) -> str:
    parts = []
    if criteria.get("country"):
        parts.append(" and ".join(country_name(code) for code in criteria["country"]))
    if criteria.get("topic"):
        parts.append(TOPICS[criteria["topic"]].label)
    if criteria.get("kind"):
        parts.append(KINDS[criteria["kind"]].label)
    if criteria.get("year"):
        parts.append(str(criteria["year"]))
    if criteria.get("q"):
        parts.append(f"“{criteria['q']}”")
    return " · ".join(parts)


def _label(terms: dict, slug: str) -> str:
    return terms[slug].label if slug in terms else slug
