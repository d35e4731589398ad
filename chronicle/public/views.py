"""The public site: the timeline of published developments and one page per development."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django import forms
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control

from chronicle import citations, memento, published
from chronicle.developments import projections
from chronicle.developments.models import PublicDevelopment, PublicStatus
from chronicle.domain import edtf, vocabulary
from chronicle.domain.content import amount_phrase, country_name, date_basis_phrase, is_country
from chronicle.domain.events import RevisionKind
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
    topic = forms.ChoiceField(required=False, choices=[("", "Any topic"), *vocabulary.choices(TOPICS)])
    year = forms.IntegerField(required=False, min_value=1, max_value=9999)

    def clean_country(self) -> list[str]:
        return list(dict.fromkeys(self.cleaned_data["country"]))

    def filters(self) -> published.Filters:
        """The timeline's criteria as the public read side's filters (the API's too): every
        country chosen; without a kind, developments only (figures have their own choice)."""
        data = self.cleaned_data
        criteria = {
            "countries": tuple(data.get("country") or ()),
            "every_country": True,
            "topics": (data["topic"],) if data.get("topic") else (),
            "kinds": (data["kind"],) if data.get("kind") else (),
            "other_kinds_than": () if data.get("kind") else (FIGURES,),
            "text": data.get("q") or "",
        }
        year = data.get("year")
        return published.Filters.for_year(year, **criteria) if year else published.Filters(**criteria)


def timeline(request):
    form = TimelineFilter(request.GET)
    criteria = form.cleaned_data if form.is_valid() else {}
    developments = published.developments(form.filters()) if form.is_valid() else PublicDevelopment.objects.none()
    feeds = feed_links(Feed())
    for code in reversed(criteria.get("country", [])):
        feeds = feed_links(Feed(country=code)) + feeds
    if criteria.get("topic"):
        feeds = feed_links(Feed(topic=criteria["topic"])) + feeds
    chosen_countries = [code.lower() for code in criteria.get("country", [])]
    page = Paginator(developments, PAGE_SIZE).get_page(request.GET.get("page"))
    codes = [code for code, _ in published.country_counts()]
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
        "chart": timeline_chart(developments, page.paginator.count),
        "figures": (
            figure_charts(developments.order_by().values_list("slug", "content")[:FIGURE_SOURCES_LIMIT])
            if criteria.get("kind") == FIGURES
            else []
        ),
    }
    return render(request, "public/timeline.html", context, status=200 if form.is_valid() else 400)


def timeline_chart(developments: QuerySet[PublicDevelopment], count: int) -> charts.Chart | None:
    """The chart of the `count` `developments`: a mark each, or counts per period."""
    if count > charts.MAX_MARKS:
        return charts.aggregate(span_groups(developments))
    rows = developments.order_by().values_list("slug", "title", "date")
    return charts.timeline(
        [charts.Dated(slug, title, edtf.humanize(text), charts.span_of(text)) for slug, title, text in rows]
    )


def span_groups(developments: QuerySet[PublicDevelopment]) -> list[charts.Group]:
    """Developments counted by the date as entered, which is all the chart needs to know
    of them: far fewer dates than developments."""
    counts = developments.order_by().values_list("date").annotate(count=Count("id"))
    spans = [(charts.span_of(text), count) for text, count in counts]
    return [charts.Group(span.earliest, span.latest, span.qualified, count) for span, count in spans]


FIGURE_SOURCES_LIMIT = 1000  # figures developments a Figures view charts; a curated chronicle has far fewer


def figure_charts(rows, current: str = "") -> list[charts.FigureChart]:
    """A chart per measure (what it measures, in one unit) of the amounts that state their
    period, from `rows` of (slug, content); most observations first."""
    series: dict[tuple[str, str], list[charts.Observation]] = {}
    for slug, content in rows:
        sources = content.get("sources") or [{}]
        source = next((s for s in sources if s.get("url")), sources[0])
        for amount in content.get("amounts", []):
            if not amount.get("period"):
                continue
            key = (amount["measures"], amount.get("currency") or amount.get("unit") or "")
            series.setdefault(key, []).append(
                charts.Observation(
                    key=slug,
                    value=Decimal(str(amount["value"])),
                    qualifier=amount.get("qualifier") or "exact",
                    period=charts.span_of(amount["period"]),
                    value_text=amount_phrase(amount),
                    when=edtf.humanize(amount["period"]),
                    source=source.get("title", ""),
                    source_url=source.get("url", ""),
                    current=slug == current,
                )
            )
    found = []
    for (measures, unit), observations in sorted(series.items(), key=lambda item: (-len(item[1]), item[0])):
        # Axis labels carry a currency sign or %; other units are named in the caption.
        units = {"currency": unit} if len(unit) == 3 and unit.isupper() else {"unit": unit if unit == "%" else ""}
        chart = charts.figure(
            (measures, unit),
            f"{measures} ({unit})",
            observations,
            lambda number, units=units: amount_phrase({"value": format(number.normalize(), "f"), **units}),
        )
        if chart is not None:
            found.append(chart)
    return found


def _figures_with(development: PublicDevelopment) -> list[charts.FigureChart]:
    """The measures this development gives figures of, with every published figure of them."""
    measures = {
        (amount["measures"], amount.get("currency") or amount.get("unit") or "")
        for amount in development.content.get("amounts", [])
        if amount.get("period")
    }
    if not measures:
        return []
    rows = list(
        PublicDevelopment.objects.filter(status=PublicStatus.PUBLISHED, kind=FIGURES)
        .exclude(id=development.id)
        .values_list("slug", "content")[:FIGURE_SOURCES_LIMIT]
    )
    rows.append((development.slug, development.content))
    return [chart for chart in figure_charts(rows, development.slug) if chart.key in measures]


def development_page(request, slug: str):
    """The development now; with `?as_of=`, the memento current then (RFC 7089); with
    `Accept-Datetime`, a redirect to that memento."""
    development = get_object_or_404(PublicDevelopment, slug=slug)
    revisions = list(published.revisions(development.id))
    timeline = page_timeline(request, development, revisions)
    if memento.ACCEPT_DATETIME in request.META:
        return timeline.redirect(request.META[memento.ACCEPT_DATETIME])
    if "as_of" not in request.GET:
        response = _render_development(request, development, revisions, timeline, None)
        return timeline.mark_original(response)
    index = _memento_index(request, timeline)
    if isinstance(index, HttpResponse):
        return index
    shown = _public_after(development, revisions[index])
    response = _render_development(request, shown, revisions[: index + 1], timeline, timeline.mementos[index])
    return timeline.mark_memento(response, index)


def cite(request, slug: str, extension: str):
    """The citation of the development's current version, or with `?as_of=` of the version current then."""
    development = get_object_or_404(PublicDevelopment, slug=slug)
    revisions = list(development.revisions.order_by("position"))
    timeline = page_timeline(request, development, revisions)
    index = _memento_index(request, timeline) if "as_of" in request.GET else len(revisions) - 1
    if isinstance(index, HttpResponse):
        return index
    citation = citations.citation(
        _public_after(development, revisions[index]), revisions[index], timeline.original, timezone.now().date()
    )
    format = citations.FORMATS[extension]
    response = HttpResponse(citation.render(extension), content_type=f"{format.media_type}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{citation.key}.{extension}"'
    return response


def _memento_index(request, timeline: memento.Timeline) -> int | HttpResponse:
    """The memento `?as_of=` names; a 400 saying why if it is not a datetime, a 404 if
    nothing was public then."""
    try:
        moment = memento.parse_as_of(request.GET["as_of"])
    except memento.BadDatetime as error:
        return memento.bad_request(str(error))
    index = timeline.index_at(moment)
    if index is None:
        raise Http404("This development was not yet published then.")
    return index


def _public_after(development: PublicDevelopment, revision) -> PublicDevelopment:
    return projections.public_after(
        revision, id=development.id, slug=development.slug, first_published_at=development.first_published_at
    )


def page_timeline(request, development: PublicDevelopment, revisions: list) -> memento.Timeline:
    original = request.build_absolute_uri(reverse("public:development", args=[development.slug]))
    timemap = request.build_absolute_uri(reverse("public:timemap", args=[development.slug]))
    return memento.Timeline.of(original, timemap, revisions)


def timemap(request, slug: str):
    """Every memento of the development's page (RFC 7089 section 5); JSON on `Accept: application/json`."""
    development = get_object_or_404(PublicDevelopment, slug=slug)
    revisions = list(published.revisions(development.id).defer("content"))
    return page_timeline(request, development, revisions).timemap_response(request)


def _render_development(request, development, revisions, timeline, shown_memento):
    content = development.content
    links = {m.revision.position: m.url for m in timeline.mementos}
    as_of = urlencode({"as_of": memento.as_of_text(revisions[-1].recorded_at)})
    context = {
        "development": development,
        "retracted": development.status == PublicStatus.RETRACTED,
        "retraction": next((r for r in reversed(revisions) if r.kind == RevisionKind.RETRACTED), None),
        "content": content,
        "kind": vocabulary.label(KINDS, content["kind"]),
        "is_context": content["kind"] == CONTEXT,
        "date_basis": date_basis_phrase(content["date"], content.get("date_basis", "")),
        "related": _related(development),
        "stage": vocabulary.label(STAGES, content.get("stage", "")),
        "countries": [(code.lower(), country_name(code)) for code in content["countries"]],
        "topics": [(slug, vocabulary.label(TOPICS, slug)) for slug in content["topics"]],
        "places": [{**place, "country_name": country_name(place["country"])} for place in content.get("places", [])],
        "amounts": [{**amount, "phrase": amount_phrase(amount)} for amount in content.get("amounts", [])],
        "figures": [] if development.status == PublicStatus.RETRACTED else _figures_with(development),
        "history": [(revision, links[revision.position]) for revision in revisions],
        "citation": citations.citation(development, revisions[-1], timeline.original, timezone.now().date()),
        "citation_links": [
            (format, f"{reverse(f'public:cite-{extension}', args=[development.slug])}?{as_of}")
            for extension, format in citations.FORMATS.items()
        ],
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
    return [{"development": other, "kind": vocabulary.label(KINDS, other.kind)} for other in others]


def _summary(development: PublicDevelopment) -> dict:
    return {
        "development": development,
        "kind": vocabulary.label(KINDS, development.kind),
        "is_context": development.kind == CONTEXT,
        "figures": development.content.get("amounts", []) if development.kind == FIGURES else [],
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


FAVICON = Path(__file__).parent / "static" / "public" / "favicon.ico"


@cache_control(public=True, max_age=86400)
def favicon(request):
    return HttpResponse(FAVICON.read_bytes(), content_type="image/vnd.microsoft.icon")
