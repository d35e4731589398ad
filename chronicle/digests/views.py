"""The subscription pages. Every page answers the same for a known and an unknown address."""

from functools import wraps

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from chronicle.api.throttling import count_request
from chronicle.security import client_address

from . import delivery, subscriptions, tokens
from .forms import PreferencesForm, SubscribeForm


def signed_link(purpose: str):
    """A page reached by a link mailed to a subscriber: the view gets the subscriber the
    link's token names; a link that is forged, expired or out of date gets the invalid-link page."""

    def decorate(view):
        @wraps(view)
        def with_subscriber(request, token: str):
            subscriber = tokens.read(purpose, token)
            if subscriber is None:
                return _invalid_link(request)
            return view(request, subscriber)

        return with_subscriber

    return decorate


@require_http_methods(["GET", "POST"])
def subscribe(request):
    form = SubscribeForm(request.POST or None)
    address = client_address(request)
    if request.method == "POST" and not count_request(f"subscribe-page:{address}", settings.DIGEST_SUBSCRIBE_RATE)[0]:
        return _too_many(request, form)
    if request.method == "POST" and form.is_valid():
        if not subscriptions.request_allowed(form.cleaned_data["email"]):
            return _too_many(request, form)
        subscriptions.subscribe(
            form.cleaned_data["email"],
            topics=form.cleaned_data["topics"],
            countries=form.cleaned_data["countries"],
            frequency=form.cleaned_data["frequency"],
        )
        return render(request, "digests/check_inbox.html", {"email": form.cleaned_data["email"]})
    return render(request, "digests/subscribe.html", {"form": form})


@require_http_methods(["GET", "POST"])
@signed_link(tokens.CONFIRM)
def confirm(request, subscriber):
    if request.method == "POST":
        subscriptions.confirm(subscriber)
    return render(
        request,
        "digests/confirm.html",
        {
            "subscriber": subscriber,
            "manage_path": tokens.path(tokens.MANAGE, subscriber),
            "next_pass": delivery.schedule_phrase(subscriber.frequency),
        },
    )


@require_http_methods(["GET", "POST"])
@signed_link(tokens.MANAGE)
def manage(request, subscriber):
    current = {"topics": subscriber.topics, "countries": subscriber.countries, "frequency": subscriber.frequency}
    form = PreferencesForm(request.POST or None, initial=current, chosen_countries=subscriber.countries)
    saved = False
    if request.method == "POST" and form.is_valid():
        subscriptions.update_preferences(subscriber, **form.cleaned_data)
        saved = True
    context = {
        "subscriber": subscriber,
        "form": form,
        "saved": saved,
        "unsubscribe_path": tokens.path(tokens.UNSUBSCRIBE, subscriber),
    }
    return render(request, "digests/manage.html", context)


# RFC 8058: mail clients POST here without a session or CSRF token, with the body
# "List-Unsubscribe=One-Click"; the signed token is the authorisation.
@csrf_exempt
@require_http_methods(["GET", "POST"])
@signed_link(tokens.UNSUBSCRIBE)
def unsubscribe(request, subscriber):
    if request.method == "POST":
        subscriptions.unsubscribe(subscriber)
    return render(request, "digests/unsubscribe.html", {"subscriber": subscriber, "done": request.method == "POST"})


def _too_many(request, form) -> HttpResponse:
    form.add_error(None, "Too many subscription requests from your address or for this mailbox; try again later.")
    return render(request, "digests/subscribe.html", {"form": form}, status=429)


def _invalid_link(request) -> HttpResponse:
    return render(request, "digests/invalid_link.html", status=404)
