"""The partner API: thin views over `selectors`, documented for OpenAPI in `docs`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from chronicle import citations, memento, published
from chronicle.developments.models import PublicDevelopment
from chronicle.domain.content import country_name
from chronicle.domain.vocabulary import TOPICS
from chronicle.errors import error_response
from chronicle.eventstore import sealing, store
from chronicle.eventstore.models import Event
from chronicle.twofactor.authentication import SessionAuthentication

from . import answers, docs, filters, selectors, serializers, throttling, timelinejs
from .authentication import ApiKeyAuthentication
from .conditional import etag_for, not_modified, with_validators

NOT_PUBLIC = "No published development has this id or slug."


class PublicApiView(APIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = throttling.PUBLIC_THROTTLES
    renderer_classes = [JSONRenderer]
    keeps_answers = False  # whether `answers` keeps what `respond` builds, until the next public event

    def handle_exception(self, exc):
        # Errors are JSON whichever format was asked for (a TimeMap, a citation).
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    def check_throttles(self, request):
        counted = getattr(request, "counted_with_kept_answer", None)
        if counted is None:
            super().check_throttles(request)
        elif not counted.admitted:
            self.throttled(request, counted.throttle.wait())

    def respond(self, request, etag: str, last_modified, build: Callable[[], dict]):
        """A 304 if the client's copy is current; else the body, built at most once per ETag.

        An ETag names the data version an answer shows, so a body built for it stays right
        until a public event changes the version, and readers share it through the cache.
        """
        if cached := not_modified(request, etag, last_modified):
            return cached
        key = f"api-body:{request.scheme}://{request.get_host()}:{etag}"  # bodies hold absolute URLs
        body = cache.get(key)
        if body is None:
            body = build()
            cache.set(key, body, timeout=settings.API_BODY_CACHE_SECONDS)
        return answers.mark_shareable(with_validators(Response(body), etag, last_modified))


def _next_url(request, **changes) -> str:
    query = request.query_params.copy()
    for name, value in changes.items():
        query[name] = value
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def _page_url(request, cursor: str | None) -> str | None:
    return _next_url(request, cursor=cursor) if cursor else None


class DevelopmentList(PublicApiView):
    keeps_answers = True

    @extend_schema(
        operation_id="developments_list",
        summary="Developments",
        description="Published developments, filtered and ordered, by cursor pages. Filters combine with AND.",
        parameters=[*docs.DEVELOPMENT_FILTERS, docs.AS_OF, docs.CURSOR, docs.limit(20, 100)],
        responses={200: serializers.DevelopmentPageSerializer, 304: docs.NOT_MODIFIED, **docs.COMMON_ERRORS},
        examples=docs.ERROR_EXAMPLES[:2] + docs.ERROR_EXAMPLES[3:],
    )
    def get(self, request):
        params = filters.read(request, filters.DevelopmentListParameters)
        position, last_modified = selectors.public_version(params.get("as_of"))

        def build() -> dict:
            page = selectors.developments(params)
            return {
                "next": _page_url(request, page.next_cursor),
                "results": serializers.DevelopmentSerializer(page.items, many=True, context={"request": request}).data,
            }

        return self.respond(request, etag_for(request, position), last_modified, build)


class Timeline(PublicApiView):
    keeps_answers = True

    @extend_schema(
        operation_id="timeline",
        summary="Developments for TimelineJS",
        description=(
            "The developments the list's filters match, in Knight Lab's TimelineJS JSON format, so a newsroom can "
            "point TimelineJS at this address. Dates keep their precision: `start_date` and `end_date` carry only "
            "the year, month and day the date names; `display_date` writes it for people (“June 2021 (approximate)”, "
            "“before 18 June 2015”). `group` is the kind. One answer, no pages: the latest `limit` developments by "
            "date. Any website may read it from a browser (CORS)."
        ),
        parameters=[
            *(p for p in docs.DEVELOPMENT_FILTERS if p.name not in ("ordering", "include_retracted")),
            docs.AS_OF,
            docs.limit(200, 1000),
        ],
        responses={200: timelinejs.TimelineSerializer, 304: docs.NOT_MODIFIED, **docs.COMMON_ERRORS},
        examples=docs.ERROR_EXAMPLES[:2] + docs.ERROR_EXAMPLES[3:],
    )
    def get(self, request):
        params = filters.read(request, filters.TimelineParameters)
        params.update(include_retracted=False, ordering="-date")
        position, last_modified = selectors.public_version(params.get("as_of"))

        def build() -> dict:
            page = selectors.developments(params)
            return timelinejs.timeline(
                page.items,
                page_url=lambda development: request.build_absolute_uri(published.development_path(development.slug)),
                site_url=request.build_absolute_uri("/"),
                more=page.next_cursor is not None,
                limit=params["limit"],
            )

        return self.respond(request, etag_for(request, position), last_modified, build)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # TimelineJS on a newsroom's page fetches this from the reader's browser; the data is
        # public and no credentials are involved.
        response["Access-Control-Allow-Origin"] = "*"
        return response


def _development(identifier: str, as_of=None) -> PublicDevelopment:
    development = selectors.development(identifier, as_of)
    if development is None:
        raise NotFound(NOT_PUBLIC)
    return development


class TextRenderer(BaseRenderer):
    """A body the view wrote as text (a TimeMap, a citation)."""

    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode()


class LinkFormatRenderer(TextRenderer):
    media_type = memento.LINK_FORMAT
    format = "link"


class CitationRenderer(TextRenderer):
    extension: str  # of the page's cite.* it matches


class BibtexRenderer(CitationRenderer):
    extension = format = "bib"
    media_type = citations.FORMATS[extension].media_type


class RisRenderer(CitationRenderer):
    extension = format = "ris"
    media_type = citations.FORMATS[extension].media_type


class CslJsonRenderer(CitationRenderer):
    extension, format = "json", "csl"
    media_type = citations.FORMATS[extension].media_type


CITATION_RENDERERS = [BibtexRenderer, RisRenderer, CslJsonRenderer]


class DevelopmentDetail(PublicApiView):
    keeps_answers = True
    renderer_classes = [JSONRenderer, *CITATION_RENDERERS]

    @extend_schema(
        operation_id="developments_retrieve",
        summary="One development",
        description=(
            "A development by id (UUID) or slug. A retracted one answers 200 with `status: retracted`, its "
            "title and `retraction`; its other facts are null (see Retracted developments above). A Memento "
            "TimeGate: see Time travel above."
        ),
        parameters=[docs.AS_OF, docs.ACCEPT_DATETIME, docs.NO_FORMAT_PARAMETER],
        responses={
            (200, "application/json"): serializers.DevelopmentSerializer,
            **{(200, fmt.media_type): docs.citation(fmt.label) for fmt in citations.FORMATS.values()},
            302: docs.MEMENTO_REDIRECT,
            304: docs.NOT_MODIFIED,
            404: docs.NOT_FOUND,
            **docs.COMMON_ERRORS,
            400: docs.BAD_DATETIME,
        },
        examples=docs.ERROR_EXAMPLES,
    )
    def get(self, request, identifier: str):
        if memento.ACCEPT_DATETIME in request.META:
            return _timeline(request, _development(identifier).id).redirect(request.META[memento.ACCEPT_DATETIME])
        params = filters.read(request, filters.AsOfParameter)
        development = _development(identifier, params.get("as_of"))
        if isinstance(request.accepted_renderer, CitationRenderer):
            response = self.cite(request, development, request.accepted_renderer.extension)
        else:
            etag = etag_for(request, development.id, development.last_public_position, development.status)
            response = self.respond(
                request,
                etag,
                development.updated_at,
                lambda: serializers.DevelopmentSerializer(development, context={"request": request}).data,
            )
        patch_vary_headers(response, ["Accept"])  # JSON or a citation
        timeline = _timeline(request, development.id)
        if params.get("as_of"):
            return timeline.mark_memento(response, timeline.index_of(development.last_public_position))
        return timeline.mark_original(response)

    def cite(self, request, development: PublicDevelopment, extension: str):
        """The same citation as the page's cite.* for the version shown (`as_of` or now)."""
        accessed = timezone.now().date()
        page = request.build_absolute_uri(reverse("public:development", args=[development.slug]))
        etag = etag_for(request, extension, development.id, development.last_public_position, accessed)
        if cached := not_modified(request, etag, development.updated_at):
            return cached
        text = citations.citation(development, development.last_revision, page, accessed).render(extension)
        return with_validators(Response(text), etag, development.updated_at)


def _timeline(request, development_id) -> memento.Timeline:
    original = request.build_absolute_uri(reverse("api:development-detail", args=[development_id]))
    timemap = request.build_absolute_uri(reverse("api:development-timemap", args=[development_id]))
    return memento.Timeline.of(original, timemap, selectors.revision_times(development_id))


class DevelopmentTimeMap(PublicApiView):
    renderer_classes = [LinkFormatRenderer, JSONRenderer]

    @extend_schema(
        operation_id="developments_timemap",
        parameters=[docs.NO_FORMAT_PARAMETER],
        summary="Its versions (Memento TimeMap)",
        description=(
            "Every public revision as a memento of the development's detail (RFC 7089 section 5), oldest "
            "first: `application/link-format`, or JSON with each revision's kind and note."
        ),
        responses={
            (200, memento.LINK_FORMAT): OpenApiTypes.STR,
            (200, "application/json"): serializers.TimeMapSerializer,
            404: docs.NOT_FOUND,
            **docs.COMMON_ERRORS,
        },
        examples=docs.ERROR_EXAMPLES,
    )
    def get(self, request, identifier: str):
        filters.read(request, filters.NoParameters)
        timeline = _timeline(request, _development(identifier).id)
        if request.accepted_renderer.format == "json":
            return Response(timeline.json())
        return Response(timeline.link_format())


class DevelopmentHistory(PublicApiView):
    keeps_answers = True

    @extend_schema(
        operation_id="developments_history",
        summary="Its public revisions",
        description=(
            "Its first publication, corrections, updates and retraction, oldest first, each with its note and "
            "the content it left public. With `as_of`, only revisions recorded by then."
        ),
        parameters=[docs.AS_OF, docs.CURSOR, docs.limit(100, 100)],
        responses={
            200: serializers.HistoryPageSerializer,
            304: docs.NOT_MODIFIED,
            404: docs.NOT_FOUND,
            **docs.COMMON_ERRORS,
        },
        examples=docs.ERROR_EXAMPLES,
    )
    def get(self, request, identifier: str):
        params = filters.read(request, filters.HistoryParameters)
        development = _development(identifier)

        def build() -> dict:
            page = selectors.history(development.id, params)
            if not page.items and not params.get("cursor"):
                raise NotFound(NOT_PUBLIC)  # not yet published at as_of
            return {
                "next": _page_url(request, page.next_cursor),
                "results": serializers.RevisionSerializer(page.items, many=True).data,
            }

        return self.respond(request, etag_for(request, development.last_public_position), development.updated_at, build)


class PublicEvents(PublicApiView):
    @extend_schema(
        operation_id="events_list",
        summary="The public change stream",
        description=(
            "Every public event — published, corrected, updated, retracted — in position order. Start with "
            "`after=0`, then pass the `next` you got. Never skips an event, even under concurrent publishing."
        ),
        parameters=[
            docs._param(
                "after",
                "Return events with a position above this one (default 0: from the start).",
                type=int,
                examples={"Resume": 1200},
            ),
            docs.limit(100, 1000),
        ],
        responses={200: serializers.EventPageSerializer, 304: docs.NOT_MODIFIED, **docs.COMMON_ERRORS},
        examples=[docs.ERROR_EXAMPLES[0], docs.ERROR_EXAMPLES[1], docs.ERROR_EXAMPLES[3]],
    )
    def get(self, request):
        params = filters.read(request, filters.EventsParameters)
        items = selectors.public_events(params["after"], params["limit"])
        next_position = items[-1].event.position if items else params["after"]
        last_modified = items[-1].event.recorded_at if items else None
        etag = etag_for(request, *(f"{item.event.position}:{item.seal}" for item in items))
        return self.respond(
            request,
            etag,
            last_modified,
            lambda: {
                "next": next_position,
                "next_url": _next_url(request, after=next_position),
                "results": serializers.PublicEventSerializer(items, many=True, context={"request": request}).data,
            },
        )


class LogHead(PublicApiView):
    @extend_schema(
        operation_id="events_head",
        summary="The latest sealed position of the log and its seal",
        description=(
            "Every event in the log — public or not — is sealed in position order: its seal is a SHA-256 over the "
            "previous seal and the event. The head vouches for the whole log up to its position. Keep the heads "
            "you see; `python manage.py verify_log --kept POSITION:SEAL` later shows whether history was changed."
        ),
        responses={200: serializers.LogHeadSerializer, 304: docs.NOT_MODIFIED, **docs.COMMON_ERRORS},
    )
    def get(self, request):
        head = sealing.head()
        position, seal = (head.position, head.seal) if head else (0, None)
        sealed = Event.objects.filter(position=position).values_list("recorded_at", flat=True).first()
        latest = store.last_position()
        return self.respond(
            request,
            etag_for(request, position, seal, latest),
            sealed,
            lambda: {
                "position": position,
                "seal": seal,
                "recorded_at": sealed.astimezone(UTC).isoformat().replace("+00:00", "Z") if sealed else None,
                "latest_position": latest,
            },
        )


def _developments_url(request, **query) -> str:
    return request.build_absolute_uri(f"{reverse('api:development-list')}?{urlencode(query)}")


class VocabularyView(PublicApiView):
    keeps_answers = True
    parameters = filters.NoParameters

    def get(self, request):
        params = filters.read(request, self.parameters)
        position, last_modified = selectors.public_version()
        return self.respond(request, etag_for(request, position), last_modified, lambda: self.body(request, params))


class Topics(VocabularyView):
    @extend_schema(
        operation_id="topics_list",
        summary="Topics",
        description="The topic vocabulary, each with its number of published developments.",
        responses={200: serializers.TopicListSerializer, 304: docs.NOT_MODIFIED, **docs.COMMON_ERRORS},
    )
    def get(self, request):
        return super().get(request)

    def body(self, request, params) -> dict:
        counts = published.topic_counts()
        return {
            "results": [
                {
                    "slug": term.slug,
                    "label": term.label,
                    "description": term.description,
                    "count": counts.get(term.slug, 0),
                    "url": _developments_url(request, topic=term.slug),
                }
                for term in TOPICS.values()
            ]
        }


class Countries(VocabularyView):
    @extend_schema(
        operation_id="countries_list",
        summary="Countries",
        description="Every country that published developments involve, by ISO code, with their number.",
        responses={200: serializers.CountryListSerializer, 304: docs.NOT_MODIFIED, **docs.COMMON_ERRORS},
    )
    def get(self, request):
        return super().get(request)

    def body(self, request, params) -> dict:
        return {
            "results": [
                {
                    "code": code,
                    "name": country_name(code),
                    "count": count,
                    "url": _developments_url(request, country=code),
                }
                for code, count in published.country_counts()
            ]
        }


class Actors(VocabularyView):
    parameters = filters.ActorsParameters

    @extend_schema(
        operation_id="actors_list",
        summary="Actors",
        description="Organisations and people named by published developments, by name, with their roles and count.",
        parameters=[
            docs._param("q", "Only names containing this text (case-insensitive).", examples={"Huawei": "huawei"}),
            docs.CURSOR,
            docs.limit(100, 500),
        ],
        responses={200: serializers.ActorPageSerializer, 304: docs.NOT_MODIFIED, **docs.COMMON_ERRORS},
    )
    def get(self, request):
        return super().get(request)

    def body(self, request, params) -> dict:
        page = selectors.actors(params)
        return {
            "next": _page_url(request, page.next_cursor),
            "results": [{**item, "url": _developments_url(request, actor=item["name"])} for item in page.items],
        }


def unknown_address(request):
    """JSON 404 for any other address under /api/ (after Django's usual slash redirect)."""
    if not request.path.endswith("/"):
        try:
            if resolve(request.path + "/").func is not unknown_address:
                query = request.META.get("QUERY_STRING", "")
                return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
        except Resolver404:
            pass
    return error_response(404, "not_found", "There is no API endpoint at this address; see /api/docs/.")
