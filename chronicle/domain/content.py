"""What a development says: its facts, as one immutable value.

`Content.from_dict` is the only way in from outside (admin forms, API, imports); it checks
every field and reports all problems at once, so a curator can fix them in one go.

Plain text — every free-text field, and the notes of the workflow — follows one rule,
whichever way it comes in (`clean_text`):

- kept exactly as given: letters of any script, right-to-left and other format marks,
  emoji, combining characters, tabs and line breaks, and markup such as `<script>`, which
  is text like any other and is escaped wherever it is shown;
- normalised: leading and trailing whitespace is trimmed first (`str.strip`, as Django's
  forms do), and line breaks are stored as "\n" (browsers send a textarea's as "\r\n");
- refused, with a message naming the character and where it is: control characters other
  than tab and line breaks (C0, DEL and C1 — NUL among them, which PostgreSQL cannot
  store), surrogates (not characters; UTF-8 cannot encode them) and noncharacters such as
  U+FFFE (XML feeds cannot carry them);
- refused when longer than its field's limit below, never truncated.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import pycountry

from . import edtf
from .errors import InvalidContent, InvalidDate
from .vocabulary import AMOUNT_QUALIFIERS, DATE_BASES, KINDS, STAGES, TOPICS

# Limits in characters (after trimming): title; summary; names, roles, source titles and
# the like; source URLs and quotes; a unit.
MAX_TITLE = 300
MAX_SUMMARY = 5000
MAX_SHORT_TEXT = 300
MAX_LONG_TEXT = 2000
MAX_UNIT = 40
MAX_ITEMS = 100

# A development's slug (and an import record's key), which `related` refers to.
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,119}$")
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LINE_BREAK = re.compile(r"\r\n?")
# U+FDD0..U+FDEF and the last two code points of every plane.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")


def clean_text(value: str) -> tuple[str, str]:
    """`value` as stored, and what is wrong with it ("" if nothing); see the rule above."""
    trimmed = value.strip()
    if match := _FORBIDDEN.search(trimmed):
        place = len(value) - len(value.lstrip()) + match.start() + 1
        return value, f"contains {_describe(match.group())} at character {place}; remove it."
    return _LINE_BREAK.sub("\n", trimmed), ""


def _describe(character: str) -> str:
    code = f"U+{ord(character):04X}"
    if unicodedata.category(character) == "Cc":
        return f"a control character ({code})"
    if unicodedata.category(character) == "Cs":
        return f"a lone surrogate ({code}), which is not a character"
    return f"a noncharacter ({code})"


def is_country(code: str) -> bool:
    return isinstance(code, str) and len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or country.name if country else code


def _country_code(value: Any) -> str | None:
    code = value.strip().upper() if isinstance(value, str) else value
    return code if is_country(code) else None


def _topic(value: Any) -> str | None:
    return value if isinstance(value, str) and value in TOPICS else None


def _slug(value: Any) -> str | None:
    return value if isinstance(value, str) and SLUG.match(value) else None


def is_currency(code: str) -> bool:
    return isinstance(code, str) and len(code) == 3 and pycountry.currencies.get(alpha_3=code) is not None


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


@dataclass(frozen=True)
class Amount:
    value: str
    measures: str
    currency: str = ""
    unit: str = ""
    qualifier: str = "exact"
    period: str = ""  # EDTF: the time the amount covers, e.g. 2021 or 2019/2021


@dataclass(frozen=True)
class Place:
    name: str
    country: str
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Source:
    title: str
    publisher: str = ""
    author: str = ""
    url: str = ""
    published: str = ""
    accessed: str = ""
    locator: str = ""
    quote: str = ""


@dataclass(frozen=True)
class Content:
    title: str
    kind: str
    date: str
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    summary: str = ""
    stage: str = ""
    date_basis: str = ""  # a DATE_BASES slug; "" where nobody said
    actors: tuple[Actor, ...] = ()
    amounts: tuple[Amount, ...] = ()
    places: tuple[Place, ...] = ()
    sources: tuple[Source, ...] = field(default=())
    related: tuple[str, ...] = ()  # slugs of other developments, e.g. the treaty a test followed

    @property
    def edtf(self) -> edtf.EdtfDate:
        return edtf.parse(self.date)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; `from_dict(c.to_dict()) == c`."""
        # Not dataclasses.asdict: it deep-copies every value, and cost an import more than its SQL.
        data = dict(vars(self))
        for key in ("countries", "topics", "related"):
            data[key] = list(data[key])
        for key in ("actors", "amounts", "places", "sources"):
            data[key] = [_without_empty(vars(item)) for item in data[key]]
        # Facts added later are left out when empty, so content that never had them is stored as before.
        for key in ("date_basis", "related"):
            if not data[key]:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Content:
        """Validate and normalise `data`; raise InvalidContent listing every problem."""
        return _ContentReader(data).read()


def _without_empty(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if value not in ("", None)}


class _ContentReader:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.errors: dict[str, list[str]] = {}

    def error(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(message)

    def read(self) -> Content:
        if not isinstance(self.data, dict) or not self.data:
            raise InvalidContent({"content": ["No content was given."]})
        unknown = set(self.data) - set(Content.__dataclass_fields__)
        for name in sorted(unknown):
            self.error(name, "is not a field of a development.")
        title = self.text("title", MAX_TITLE, required=True)
        summary = self.text("summary", MAX_SUMMARY)
        kind = self.choice("kind", KINDS, required=True)
        stage = self.choice("stage", STAGES)
        date = self.date()
        date_basis = self.date_basis(date)
        countries = self.distinct(
            "countries", _country_code, "is not an ISO 3166-1 alpha-2 country code", needed="needs at least one entry."
        )
        topics = self.distinct("topics", _topic, "is not a known topic", needed="needs at least one topic.")
        actors = tuple(self.items("actors", self.actor))
        amounts = tuple(self.items("amounts", self.amount))
        places = tuple(self.items("places", self.place))
        sources = tuple(self.items("sources", self.source))
        related = self.distinct(
            "related", _slug, "is not a slug (lower-case letters, digits and hyphens)", of=" of slugs"
        )
        if self.errors:
            raise InvalidContent(self.errors)
        return Content(
            title=title,
            summary=summary,
            kind=kind,
            stage=stage,
            date=date,
            date_basis=date_basis,
            countries=countries,
            topics=topics,
            actors=actors,
            amounts=amounts,
            places=places,
            sources=sources,
            related=related,
        )

    # -- scalar fields -------------------------------------------------------------------

    def text(self, name: str, limit: int, *, required: bool = False, source: Any = None, label: str = "") -> str:
        container = self.data if source is None else source
        label = label or name
        value = container.get(name, "") if isinstance(container, dict) else ""
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error(label, "must be text.")
            return ""
        value, problem = clean_text(value)
        if problem:
            self.error(label, problem)
        if required and not value:
            self.error(label, "is required.")
        elif len(value) > limit:
            self.error(label, f"is {len(value)} characters long; the limit is {limit}.")
        return value

    def choice(self, name: str, terms: dict[str, Any], *, required: bool = False) -> str:
        value = self.data.get(name) or ""
        if not value:
            if required:
                self.error(name, f"is required; choose one of: {', '.join(terms)}.")
            return ""
        if not isinstance(value, str) or value not in terms:
            self.error(name, f"“{value}” is not one of: {', '.join(terms)}.")
            return ""
        return value

    def date(self) -> str:
        value = self.data.get("date")
        try:
            return edtf.parse(value if isinstance(value, str) else "").text
        except InvalidDate as error:
            self.error("date", error.message)
            return ""

    def date_basis(self, date: str) -> str:
        basis = self.choice("date_basis", DATE_BASES)
        if basis and date:
            open_ended = edtf.parse(date).is_open_ended
            if open_ended and basis != "bounded":
                self.error("date_basis", f"“{date}” is open-ended, so its basis is “bounded”.")
            elif basis == "bounded" and not open_ended:
                self.error("date_basis", "“bounded” needs an open-ended date: ../DATE (by then), DATE/.. (from then).")
        return basis

    def distinct(self, name: str, read: Any, problem: str, *, of: str = "", needed: str = "") -> tuple[str, ...]:
        """A list of terms, each once, in the order given; `read` gives a value's term or None."""
        values = self.data.get(name) or []
        if isinstance(values, str) or not isinstance(values, (list, tuple)):
            self.error(name, f"must be a list{of}.")
            return ()
        if len(values) > MAX_ITEMS:
            self.error(name, f"has {len(values)} entries; the limit is {MAX_ITEMS}.")
            return ()
        if needed and not values:
            self.error(name, needed)
        result: list[str] = []
        for value in values:
            term = read(value)
            if term is None:
                self.error(name, f"“{value}” {problem}.")
            elif term not in result:
                result.append(term)
        return tuple(result)

    # -- repeated records ----------------------------------------------------------------

    def items(self, name: str, read_one: Any) -> list[Any]:
        values = self.data.get(name) or []
        if not isinstance(values, (list, tuple)):
            self.error(name, "must be a list.")
            return []
        if len(values) > MAX_ITEMS:
            self.error(name, f"has {len(values)} entries; the limit is {MAX_ITEMS}.")
            return []
        result = []
        for index, value in enumerate(values, start=1):
            label = f"{name}[{index}]"
            if not isinstance(value, dict):
                self.error(label, "must be an object.")
                continue
            item = read_one(value, label)
            if item is not None:
                result.append(item)
        return result

    def actor(self, value: dict[str, Any], label: str) -> Actor:
        return Actor(
            name=self.text("name", MAX_SHORT_TEXT, required=True, source=value, label=f"{label}.name"),
            role=self.text("role", MAX_SHORT_TEXT, required=True, source=value, label=f"{label}.role"),
        )

    def amount(self, value: dict[str, Any], label: str) -> Amount:
        raw = value.get("value")
        number = ""
        try:
            parsed = Decimal(str(raw).strip())
            if not parsed.is_finite():
                raise InvalidOperation
            number = str(raw).strip()
        except (InvalidOperation, ValueError):
            self.error(f"{label}.value", f"“{raw}” is not a number.")
        if len(number) > MAX_UNIT:
            self.error(f"{label}.value", f"is {len(number)} characters long; the limit is {MAX_UNIT}.")
        currency = _upper_code(value.get("currency"))
        unit = self.text("unit", MAX_UNIT, source=value, label=f"{label}.unit")
        if currency and unit:
            self.error(label, "give a currency or a unit, not both.")
        elif not currency and not unit:
            self.error(label, "needs a currency (ISO 4217, e.g. USD) or a unit (e.g. Gbit/s).")
        elif currency and not is_currency(currency):
            self.error(f"{label}.currency", f"“{currency}” is not an ISO 4217 currency code.")
        measures = self.text("measures", MAX_SHORT_TEXT, required=True, source=value, label=f"{label}.measures")
        qualifier = value.get("qualifier") or "exact"
        if qualifier not in AMOUNT_QUALIFIERS:
            self.error(
                f"{label}.qualifier",
                f"“{qualifier}” is not one of: {', '.join(AMOUNT_QUALIFIERS)} (leave it out for an exact value).",
            )
        period = self.period(value.get("period"), f"{label}.period")
        return Amount(value=number, currency=currency, unit=unit, measures=measures, qualifier=qualifier, period=period)

    def period(self, value: Any, label: str) -> str:
        if value in (None, ""):
            return ""
        if not isinstance(value, str):
            self.error(label, "must be text: an EDTF date or interval such as 2021 or 2019/2021.")
            return ""
        try:
            return edtf.parse(value).text
        except InvalidDate as error:
            self.error(label, error.message)
            return ""

    def place(self, value: dict[str, Any], label: str) -> Place:
        name = self.text("name", MAX_SHORT_TEXT, required=True, source=value, label=f"{label}.name")
        country = _upper_code(value.get("country"))
        if not is_country(country):
            self.error(f"{label}.country", f"“{value.get('country')}” is not an ISO 3166-1 alpha-2 code.")
        lat, lon = value.get("lat"), value.get("lon")
        if (lat is None) != (lon is None):
            self.error(label, "give both latitude and longitude, or neither.")
            return Place(name, country)
        if lat is not None:
            try:
                lat, lon = float(lat), float(lon)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                self.error(label, "latitude and longitude must be numbers.")
                return Place(name, country)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                self.error(label, "latitude must be within ±90 and longitude within ±180.")
        return Place(name, country, lat, lon)

    def source(self, value: dict[str, Any], label: str) -> Source:
        def text(name: str, limit: int = MAX_SHORT_TEXT, required: bool = False) -> str:
            return self.text(name, limit, required=required, source=value, label=f"{label}.{name}")

        source = Source(
            title=text("title", required=True),
            publisher=text("publisher"),
            author=text("author"),
            url=text("url", MAX_LONG_TEXT),
            published=text("published", 10),
            accessed=text("accessed", 10),
            locator=text("locator"),
            quote=text("quote", MAX_LONG_TEXT),
        )
        if not source.publisher and not source.author:
            self.error(label, "needs a publisher or an author.")
        if source.url:
            parts = urlsplit(source.url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.error(f"{label}.url", f"“{source.url}” is not an http(s) address.")
        if source.published and not _PARTIAL_DATE.match(source.published):
            self.error(f"{label}.published", "use YYYY, YYYY-MM or YYYY-MM-DD.")
        if source.accessed and not _FULL_DATE.match(source.accessed):
            self.error(f"{label}.accessed", "use YYYY-MM-DD.")
        return source


def _upper_code(value: Any) -> str:
    """A code as written, trimmed and upper-cased; anything but text is left to fail its check."""
    return value.strip().upper() if isinstance(value, str) else value or ""


def content_from_stored(data: dict[str, Any]) -> Content:
    """Rebuild Content from an event's data, which was validated when it was recorded."""
    return Content(
        title=data["title"],
        summary=data.get("summary", ""),
        kind=data["kind"],
        stage=data.get("stage", ""),
        date=data["date"],
        date_basis=data.get("date_basis", ""),
        countries=tuple(data["countries"]),
        topics=tuple(data["topics"]),
        actors=tuple(Actor(**item) for item in data.get("actors", [])),
        amounts=tuple(Amount(**item) for item in data.get("amounts", [])),
        places=tuple(Place(**item) for item in data.get("places", [])),
        sources=tuple(Source(**item) for item in data.get("sources", [])),
        related=tuple(data.get("related", [])),
    )


# Large numbers are said in words, money with its sign where it has one the reader knows.
_SCALES = ((Decimal(10) ** 12, "trillion"), (Decimal(10) ** 9, "billion"), (Decimal(10) ** 6, "million"))
_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}


def number_words(value: str) -> str:
    """A decimal string as a reader says it: "8400000000" → "8.4 billion", "25000" → "25,000"."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    for size, word in _SCALES:
        if abs(number) >= size:
            return f"{format((number / size).normalize(), 'f')} {word}"
    if number == number.to_integral_value():
        return f"{int(number):,}" if abs(number) >= 10000 else str(int(number))
    return format(number.normalize(), "f")


def amount_phrase(item: dict[str, Any]) -> str:
    """An amount as a reader says it, with its qualifier: "more than $8.4 billion", "1.235 Gbit/s",
    "about 12 km²", "35%"."""
    qualifier = item.get("qualifier") or "exact"
    word = "" if qualifier == "exact" else AMOUNT_QUALIFIERS[qualifier].label
    number = number_words(str(item.get("value", "")))
    currency, unit = item.get("currency") or "", item.get("unit") or ""
    if currency in _CURRENCY_SIGNS:
        quantity = f"{_CURRENCY_SIGNS[currency]}{number}"
    elif unit == "%":
        quantity = f"{number}%"
    else:
        quantity = " ".join(filter(None, [number, currency or unit]))
    return " ".join(filter(None, [word, quantity]))


def amount_line(item: dict[str, Any]) -> str:
    """An amount on one line: "more than $8.4 billion — trade volume, 2024"."""
    period = f", {edtf.humanize(item['period'])}" if item.get("period") else ""
    return f"{amount_phrase(item)} — {item.get('measures', '')}{period}"


def date_basis_phrase(date: str, basis: str) -> str:
    """How the date is known, in a sentence for a reader; "" when nobody said."""
    if basis == "bounded":
        side = "by" if date.partition("/")[0] in ("", "..") else "from"
        return f"The source says only that it happened {side} this date."
    return DATE_BASES[basis].description if basis in DATE_BASES else ""


def changed_fields(before: Content | None, after: Content) -> list[str]:
    """Names of the fields that differ, in field order."""
    if before is None:
        return [name for name in Content.__dataclass_fields__ if getattr(after, name)]
    return [name for name in Content.__dataclass_fields__ if getattr(before, name) != getattr(after, name)]
