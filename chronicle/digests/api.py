"""POST /api/v1/subscriptions/: the API's way to ask for a digest (double opt-in)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from chronicle.api.authentication import ApiKeyAuthentication
from chronicle.api.errors import field_errors
from chronicle.domain.content import is_country
from chronicle.domain.vocabulary import TOPICS

from . import subscriptions
from .models import Frequency
from .subscriptions import MAX_EMAIL_LENGTH

ACCEPTED = {
    "status": "pending_confirmation",
    "message": "If this address can receive digests, a message is on its way to it. "
    "Nothing is sent until the link in that message is followed.",
}


class SubscriptionSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=MAX_EMAIL_LENGTH,
        error_messages={"max_length": f"An email address has at most {MAX_EMAIL_LENGTH} characters (RFC 5321)."},
    )
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(TOPICS)),
        required=False,
        default=list,
        help_text="Topic slugs (see /api/v1/topics/); none means every topic.",
    )
    countries = serializers.ListField(
        child=serializers.CharField(max_length=2, min_length=2),
        required=False,
        default=list,
        help_text="ISO 3166-1 alpha-2 codes; none means every country.",
    )
    frequency = serializers.ChoiceField(choices=Frequency.choices, default=Frequency.WEEKLY)

    def validate_countries(self, codes: list[str]) -> list[str]:
        codes = [code.upper() for code in codes]
        unknown = [code for code in codes if not is_country(code)]
        if unknown:
            raise serializers.ValidationError(f"Not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}.")
        return codes


class SubscriptionThrottle(ScopedRateThrottle):
    """Per client address; the rate is the DIGEST_SUBSCRIBE_RATE setting."""

    def get_rate(self) -> str:
        return settings.DIGEST_SUBSCRIBE_RATE


ERROR_EXAMPLE = {
    "error": {
        "code": "invalid",
        "message": "The subscription has errors; see fields.",
        "fields": {"email": ["Enter a valid email address."]},
    }
}


class SubscriptionView(APIView):
    # No session (so no CSRF token to send): anyone may ask, and double opt-in decides. A key
    # is optional, but an expired or revoked one is refused, as everywhere in the API.
    authentication_classes = [ApiKeyAuthentication]
    permission_classes: list = []
    throttle_classes = [SubscriptionThrottle]
    throttle_scope = "subscriptions"

    @extend_schema(
        operation_id="subscribe_to_digest",
        summary="Subscribe an address to the digest",
        description=(
            "Sends a confirmation email with a signed link that expires; the address receives no digest until "
            "it is confirmed. The answer is the same whether the address is new, waiting for confirmation or "
            "already subscribed, so it discloses nothing; a known address gets at most one message an hour "
            "(an already confirmed one gets a link to its preferences, which this request does not change)."
        ),
        request=SubscriptionSerializer,
        responses={
            202: OpenApiResponse(
                inline_serializer(
                    "SubscriptionAccepted",
                    {"status": serializers.CharField(), "message": serializers.CharField()},
                ),
                description="Accepted; a confirmation email may follow.",
            ),
            400: OpenApiResponse(
                inline_serializer(
                    "SubscriptionError",
                    {
                        "error": inline_serializer(
                            "SubscriptionErrorBody",
                            {
                                "code": serializers.CharField(),
                                "message": serializers.CharField(),
                                "fields": serializers.DictField(child=serializers.ListField()),
                            },
                        )
                    },
                ),
                description="The input is invalid.",
            ),
            401: OpenApiResponse(
                description="An Authorization header that is not a valid `Api-Key <key>` (none is needed here)."
            ),
            413: OpenApiResponse(description="The request body is too large."),
            429: OpenApiResponse(
                description="Too many subscription requests from this client, or for this mailbox; retry later."
            ),
        },
        examples=[
            OpenApiExample(
                "5G and ICT policy in Belarus, weekly",
                value={"email": "reader@example.org", "topics": ["5g", "ict-policy"], "countries": ["BY"]},
                request_only=True,
            ),
            OpenApiExample(
                "Everything, daily", value={"email": "reader@example.org", "frequency": "daily"}, request_only=True
            ),
            OpenApiExample("Accepted", value=ACCEPTED, response_only=True, status_codes=["202"]),
            OpenApiExample("Invalid", value=ERROR_EXAMPLE, response_only=True, status_codes=["400"]),
        ],
    )
    def post(self, request):
        serializer = SubscriptionSerializer(data=request.data)
        if not serializer.is_valid():
            return Response(
                {
                    "error": {
                        "code": "invalid",
                        "message": "The subscription has errors; see fields.",
                        "fields": field_errors(serializer.errors),
                    }
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        if not subscriptions.request_allowed(serializer.validated_data["email"]):
            return Response(
                {
                    "error": {
                        "code": "throttled",
                        "message": "Too many subscription requests for this mailbox; retry later.",
                        "fields": {},
                    }
                },
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        subscriptions.subscribe(**serializer.validated_data)
        return Response(ACCEPTED, status=status.HTTP_202_ACCEPTED)
