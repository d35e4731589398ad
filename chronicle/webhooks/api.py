"""`/api/v1/webhooks/`: partners register, list, pause, replay and delete their endpoints.

Thin views over `endpoints`; a partner sees and touches only their own endpoints.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from chronicle.api import docs
from chronicle.api.authentication import ApiKeyAuthentication
from chronicle.api.throttling import PartnerThrottle

from . import endpoints
from .models import Endpoint

NOT_YOURS = "You have no webhook endpoint with this id."


class EndpointSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.CharField(max_length=2000, help_text="http(s) URL on a public address that receives POSTs.")
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    countries = serializers.ListField(
        child=serializers.CharField(max_length=2), required=False, default=list, max_length=300,
        help_text="Only events of developments involving one of these countries (ISO 3166-1 alpha-2); empty: all.",
    )  # fmt: skip
    topics = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list, max_length=100,
        help_text="Only events of developments on one of these topics; empty: all.",
    )  # fmt: skip
    status = serializers.CharField(read_only=True, help_text="active, paused, or disabled (after a day of failures).")
    disabled_reason = serializers.CharField(read_only=True)
    position = serializers.IntegerField(read_only=True, help_text="Every public event up to here was dealt with.")
    failing_since = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    api_url = serializers.SerializerMethodField(help_text="This endpoint in the API.")

    def get_api_url(self, endpoint: Endpoint) -> str:
        return self.context["request"].build_absolute_uri(reverse("webhooks:endpoint", args=[endpoint.pk]))


class CreatedEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret (whsec_…). Shown this once only.")


class EndpointListSerializer(serializers.Serializer):
    results = EndpointSerializer(many=True)


class ChangeSerializer(serializers.Serializer):
    paused = serializers.BooleanField(help_text="true to pause deliveries, false to resume (a disabled one too).")


class ReplaySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, help_text="Deliver again every public event after this position.")


class PartnerView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = [PartnerThrottle]
    renderer_classes = [JSONRenderer]

    def endpoint(self, request, endpoint_id) -> Endpoint:
        endpoint = Endpoint.objects.filter(pk=endpoint_id, owner=request.user).first()
        if endpoint is None:
            raise NotFound(NOT_YOURS)
        return endpoint

    def valid(self, serializer_class, request) -> dict:
        serializer = serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _invalid(error: endpoints.InvalidEndpoint) -> ValidationError:
    return ValidationError(error.fields)


ERRORS = {400: docs.ERROR, 401: docs.ERROR, 429: docs.ERROR}


class EndpointList(PartnerView):
    @extend_schema(
        operation_id="webhooks_list",
        summary="Your webhook endpoints",
        description="The endpoints registered with your API key's account.",
        responses={200: EndpointListSerializer, **ERRORS},
    )
    def get(self, request):
        mine = Endpoint.objects.filter(owner=request.user).order_by("created_at")
        return Response({"results": EndpointSerializer(mine, many=True, context={"request": request}).data})

    @extend_schema(
        operation_id="webhooks_create",
        summary="Register a webhook endpoint",
        description=(
            "Chronicle POSTs every public event (published, corrected, updated, retracted) from now on to `url`, "
            "signed by the Standard Webhooks spec with the `secret` in this answer, which is shown only once. "
            "Verify each request with a Standard Webhooks library; drop repeats by `webhook-id` (the same on "
            "every retry). Events arrive in position order; a 5xx, 429 or no answer is retried with growing "
            "pauses, any other non-2xx is not. After a day of failures the endpoint is disabled and you get an email."
        ),
        request=EndpointSerializer,
        responses={201: CreatedEndpointSerializer, **ERRORS},
        examples=[OpenApiExample("Belarus only", value={"url": "https://example.org/hooks", "countries": ["BY"]})],
    )
    def post(self, request):
        data = self.valid(EndpointSerializer, request)
        try:
            endpoint, secret = endpoints.register(**data, owner=request.user)
        except endpoints.InvalidEndpoint as invalid:
            raise _invalid(invalid) from None
        body = EndpointSerializer(endpoint, context={"request": request}).data
        return Response({**body, "secret": secret}, status=201)


class EndpointDetail(PartnerView):
    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="One of your endpoints",
        responses={200: EndpointSerializer, 404: docs.ERROR, **ERRORS},
    )
    def get(self, request, endpoint_id):
        return Response(EndpointSerializer(self.endpoint(request, endpoint_id), context={"request": request}).data)

    @extend_schema(
        operation_id="webhooks_pause",
        summary="Pause or resume an endpoint",
        description="A paused endpoint keeps its place; resumed, it gets what was published meanwhile.",
        request=ChangeSerializer,
        responses={200: EndpointSerializer, 404: docs.ERROR, **ERRORS},
    )
    def patch(self, request, endpoint_id):
        endpoint = self.endpoint(request, endpoint_id)
        data = self.valid(ChangeSerializer, request)
        endpoint = endpoints.set_paused(endpoint, data["paused"])
        return Response(EndpointSerializer(endpoint, context={"request": request}).data)

    @extend_schema(
        operation_id="webhooks_destroy", summary="Delete an endpoint", responses={204: None, 404: docs.ERROR, **ERRORS}
    )
    def delete(self, request, endpoint_id):
        endpoints.delete(self.endpoint(request, endpoint_id))
        return Response(status=204)


class EndpointReplay(PartnerView):
    @extend_schema(
        operation_id="webhooks_replay",
        summary="Replay events from a position",
        description="Deliver again, in order, every public event after `after` (0: all of them).",
        request=ReplaySerializer,
        responses={202: EndpointSerializer, 404: docs.ERROR, **ERRORS},
    )
    def post(self, request, endpoint_id):
        endpoint = self.endpoint(request, endpoint_id)
        data = self.valid(ReplaySerializer, request)
        endpoint = endpoints.replay(endpoint, data["after"])
        return Response(EndpointSerializer(endpoint, context={"request": request}).data, status=202)
