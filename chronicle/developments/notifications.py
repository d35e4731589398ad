"""Emails to the editorial team; each renders `emails/<name>.subject.txt`, `.txt` and `.html`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse


def editors_emails() -> list[str]:
    """Everyone who may publish, by their address."""
    users = get_user_model().objects.with_perm("developments.publish_development", include_superusers=False)
    return sorted({user.email for user in users.filter(is_active=True).exclude(email="")})


def schedule_cancelled(development_id, reason: str) -> int:
    from .models import DevelopmentRecord

    record = DevelopmentRecord.objects.filter(pk=development_id).first()
    recipients = editors_emails()
    if record is None or not recipients:
        return 0
    context = {
        "record": record,
        "reason": reason,
        "admin_url": settings.SITE_URL + reverse("admin:developments_developmentrecord_change", args=[record.pk]),
    }
    subject = " ".join(render_to_string("emails/schedule-cancelled.subject.txt", context).split())
    email = EmailMultiAlternatives(subject, render_to_string("emails/schedule-cancelled.txt", context), bcc=recipients)
    email.attach_alternative(render_to_string("emails/schedule-cancelled.html", context), "text/html")
    return email.send()
