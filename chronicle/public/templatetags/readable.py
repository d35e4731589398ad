"""Dates and sources written for people, wherever Chronicle shows them (pages, feeds)."""

from django import template
from django.utils.html import format_html

from chronicle.domain import citation, edtf
from chronicle.domain.content import amount_line

register = template.Library()


@register.filter
def edtf_words(text: str) -> str:
    return edtf.humanize(text)


@register.simple_tag
def edtf_time(text: str) -> str:
    """The date in words, keeping the EDTF text machine-readable: in <time datetime> where HTML
    has a form for it, and always in data-edtf."""
    machine = edtf.html_datetime(text)
    if machine is None:
        return format_html('<span class="date" data-edtf="{}">{}</span>', text, edtf.humanize(text))
    return format_html('<time datetime="{}" data-edtf="{}">{}</time>', machine, text, edtf.humanize(text))


@register.filter
def amount_words(amount: dict) -> str:
    """An amount with its qualifier, what it measures and its period, as a reader says it."""
    return amount_line(amount)


@register.filter
def citations(sources: list[dict]) -> list[citation.Citation]:
    return citation.cite_all(sources)
