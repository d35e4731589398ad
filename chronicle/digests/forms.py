from django import forms

from chronicle.developments.models import PublicCountry
from chronicle.domain import vocabulary
from chronicle.domain.content import country_name
from chronicle.domain.vocabulary import TOPICS

from .models import Frequency
from .subscriptions import MAX_EMAIL_LENGTH


def country_choices(extra=()) -> list[tuple[str, str]]:
    """The countries the chronicle covers (plus any already chosen), by name."""
    codes = set(PublicCountry.objects.values_list("code", flat=True).distinct()) | set(extra)
    return sorted(((code, country_name(code)) for code in codes), key=lambda choice: choice[1])


class PreferencesForm(forms.Form):
    topics = forms.MultipleChoiceField(
        choices=vocabulary.choices(TOPICS),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None chosen: every topic.",
    )
    countries = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple, help_text="None chosen: every country."
    )
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.WEEKLY, widget=forms.RadioSelect)

    def __init__(self, *args, chosen_countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["countries"].choices = country_choices(chosen_countries)


class SubscribeForm(PreferencesForm):
    email = forms.EmailField(
        label="Email address",
        max_length=MAX_EMAIL_LENGTH,
        error_messages={"max_length": f"An email address has at most {MAX_EMAIL_LENGTH} characters (RFC 5321)."},
    )

    field_order = ["email", "frequency", "topics", "countries"]
