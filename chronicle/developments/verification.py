"""Checking an import file against the documents its sources come from.

A source's `locator` names the document it was read in by the document's file name
("000_b649325de8d3ad67.txt, section …"), or, for a primary source, the document that names it
("named in 000_b649325de8d3ad67.txt, reference 5"). Given the folder holding those documents,
every record goes through each function in `RECORD_CHECKS`: a check looks at one record,
counts what it checked and reports what does not hold. A run that checked nothing fails.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from chronicle.domain import edtf
from chronicle.domain.citation import DOCUMENT_FILE

SECTION = re.compile(r"section '([^']+)'")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})

Record = dict[str, Any]


def normalise(text: str) -> str:
    """Compare text modulo whitespace, typographic quotes and Markdown's escaped dollar."""
    return " ".join(text.replace("\\$", "$").translate(TYPOGRAPHY).split())


def numbers_in(text: str) -> set[str]:
    """Every number written in `text`; decimal commas (1,7) count as decimal points."""
    return set(NUMBER.findall(re.sub(r"(?<=\d),(?=\d)", ".", normalise(text))))


def document_named_by(source: dict[str, Any]) -> str | None:
    names = set(DOCUMENT_FILE.findall(source.get("locator", "")))
    return names.pop() if len(names) == 1 else None


def is_the_document(source: dict[str, Any]) -> bool:
    """The source is the document itself, not a work the document names or quotes."""
    return bool(DOCUMENT_FILE.match(source.get("locator", "")))


@dataclass
class Documents:
    folder: Path
    texts: dict[str, str]

    @classmethod
    def read(cls, folder: Path) -> Documents:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        return cls(folder, {p.name: p.read_text(encoding="utf-8") for p in files})

    def cited_by(self, record: Record) -> set[str]:
        return {name for s in record["sources"] if (name := document_named_by(s)) in self.texts}

    def numbers(self, record: Record) -> set[str]:
        return set().union(*(numbers_in(self.texts[name]) for name in self.cited_by(record)))


@dataclass
class Tally:
    checked: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def problem(self, record: Record, message: str) -> None:
        self.problems.append(f"{record.get('key', '?')}: {message}")


Check = Callable[[Record, Documents, Tally], None]


def check_locators(record: Record, documents: Documents, tally: Tally) -> None:
    """Every locator names one document that is in the folder (a section it names is in that
    document), and at least one source is such a document itself."""
    if not any(is_the_document(s) for s in record["sources"]):
        tally.problem(record, "no source is one of the documents itself")
    for source in record["sources"]:
        tally.checked["locators"] += 1
        name = document_named_by(source)
        if name is None:
            tally.problem(record, f"locator names no single document: {source.get('locator')!r}")
        elif name not in documents.texts:
            tally.problem(record, f"locator names {name}, which is not in {documents.folder}")
        else:
            text = normalise(documents.texts[name]).casefold()
            for section in SECTION.findall(source["locator"]):
                if normalise(section).casefold() not in text:
                    tally.problem(record, f"section {section!r} is not in {name}")


def check_titles(record: Record, documents: Documents, tally: Tally) -> None:
    """A source that is a document itself carries that document's title."""
    for source in record["sources"]:
        name = document_named_by(source)
        if name in documents.texts and is_the_document(source):
            tally.checked["titles"] += 1
            if normalise(source["title"]).casefold() not in normalise(documents.texts[name]).casefold():
                tally.problem(record, f"title {source['title']!r} is not the title of {name}")


def check_quotes(record: Record, documents: Documents, tally: Tally) -> None:
    for source in record["sources"]:
        name = document_named_by(source)
        if "quote" in source and name in documents.texts:
            tally.checked["quotes"] += 1
            if normalise(source["quote"]) not in normalise(documents.texts[name]):
                tally.problem(record, f"quote not verbatim in {name}: {source['quote']!r}")


def check_source_details(record: Record, documents: Documents, tally: Tally) -> None:
    """A source's URL and dates are written in the document it comes from, never guessed."""
    for source in record["sources"]:
        name = document_named_by(source)
        if name not in documents.texts:
            continue
        document = documents.texts[name]
        if "url" in source:
            tally.checked["URLs"] += 1
            if source["url"] not in document:
                tally.problem(record, f"URL {source['url']} is not in {name}")
        if "accessed" in source:
            tally.checked["source dates"] += 1
            year, month, day = source["accessed"].split("-")
            if f"{day}.{month}.{year}" not in document:
                tally.problem(record, f"access date {source['accessed']} is not in {name}")
        if "published" in source:
            tally.checked["source dates"] += 1
            if source["published"][:4] not in document:
                tally.problem(record, f"the year of publication {source['published']} is not in {name}")


def check_numbers(record: Record, documents: Documents, tally: Tally) -> None:
    """Every number in the title and summary is written in a document the record cites."""
    stated = numbers_in(record["title"]) | numbers_in(record["summary"])
    tally.checked["numbers"] += len(stated)
    for number in sorted(stated - documents.numbers(record)):
        tally.problem(record, f"the number {number} is in none of its documents")


def check_amounts(record: Record, documents: Documents, tally: Tally) -> None:
    """An amount is written out in full (200000000); the document may say "$200 million"."""
    available = documents.numbers(record)
    for amount in record.get("amounts", []):
        tally.checked["amounts"] += 1
        try:
            value = Decimal(str(amount["value"]))
        except InvalidOperation:
            tally.problem(record, f"amount {amount['value']!r} is not a number")
            continue
        if not _spellings(value) & available:
            unit = amount.get("currency") or amount.get("unit")
            tally.problem(record, f"the amount {amount['value']} {unit} is in none of its documents")


def check_date(record: Record, documents: Documents, tally: Tally) -> None:
    """The year a date starts in is written in the documents the record cites; a year they do
    not write was inferred, so the date must say it is uncertain or approximate."""
    tally.checked["dates"] += 1
    start = record["date"].partition("/")[0]
    if start in ("", ".."):
        return
    parsed = edtf.parse(record["date"])
    year = start[:4].replace("X", "0")  # a decade (199X) is written as "the 1990s"
    if year not in documents.numbers(record) and not (parsed.uncertain or parsed.approximate):
        tally.problem(
            record,
            f"the year {start[:4]} of {record['date']!r} is in none of its documents; "
            "mark an inferred date with ? or ~",
        )


# The words a document uses to say a figure is not exact, and the qualifier each stands for.
QUALIFIER_WORDS = {
    "more-than": ("more than", "over", "exceeded", "exceeds", "exceed", "above", "in excess of"),
    "less-than": ("less than", "fewer than", "under", "below"),
    "about": ("about", "around", "approximately", "roughly", "nearly", "almost", "some"),
}
QUALIFIER_PATTERNS = {
    qualifier: re.compile(r"\b(?:" + "|".join(re.escape(word) for word in words) + r")\b", re.IGNORECASE)
    for qualifier, words in QUALIFIER_WORDS.items()
}
WINDOW = 40  # characters before a number in which a qualifying word counts
DATE_IN_TITLE = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December) (\d{1,2}), (\d{4})\b"
)
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]


def qualifiers_in(text: str) -> dict[str, set[str]]:
    """Every number written in `text` and how the text qualifies it each time it is written:
    by the words just before it, within its sentence and after the number before it."""
    text = re.sub(r"(?<=\d),(?=\d)", ".", normalise(text))
    found: dict[str, set[str]] = {}
    previous_end = 0
    for match in NUMBER.finditer(text):
        before = text[previous_end : match.start()]
        before = before[before.rfind(". ") + 1 :][-WINDOW:]
        qualifier = next((q for q, pattern in QUALIFIER_PATTERNS.items() if pattern.search(before)), "exact")
        found.setdefault(match.group(), set()).add(qualifier)
        previous_end = match.end()
    return found


def _spellings(value: Decimal) -> set[str]:
    return {format((value / Decimal(10) ** power).normalize(), "f") for power in (0, 3, 6, 9)}


def check_qualifiers(record: Record, documents: Documents, tally: Tally) -> None:
    """An amount's qualifier is the one its documents use: "exceeded $8.4 billion" is
    more-than, "$3.1 billion" exact. Where a document writes the number several times, one
    of them must match."""
    written: dict[str, set[str]] = {}
    for name in documents.cited_by(record):
        for number, qualifiers in qualifiers_in(documents.texts[name]).items():
            written.setdefault(number, set()).update(qualifiers)
    for amount in record.get("amounts", []):
        try:
            spellings = _spellings(Decimal(str(amount["value"])))
        except InvalidOperation:
            continue  # check_amounts reports it
        seen = set().union(*(written.get(spelling, set()) for spelling in spellings))
        if not seen:
            continue  # check_amounts reports it
        tally.checked["qualifiers"] += 1
        qualifier = amount.get("qualifier") or "exact"
        if qualifier not in seen:
            tally.problem(
                record,
                f"the amount {amount['value']} is {qualifier} but its documents write it as "
                f"{' or '.join(sorted(seen))}",
            )


def source_date(source: dict[str, Any]) -> edtf.EdtfDate | None:
    """When a source was written: its publication date, or the date its title gives it
    ("Commentary to Decree No. 326 of June 30, 2014")."""
    if source.get("published"):
        return edtf.parse(source["published"])
    if match := DATE_IN_TITLE.search(source.get("title", "")):
        month, day, year = match.groups()
        return edtf.parse(f"{year}-{MONTHS.index(month.lower()) + 1:02d}-{int(day):02d}")
    return None


def check_sources_can_know(record: Record, documents: Documents, tally: Tally) -> None:
    """A source written before an event cannot witness it (a 2012 journal for an event of
    2013), unless the record is only of an announcement. An event known only as "by" a
    date (../2023) happens at that date for this check."""
    if record.get("stage") == "announced":
        return
    event = edtf.parse(record["date"])
    start = event.latest if event.earliest == edtf.EARLIEST else event.earliest
    for source in record["sources"]:
        written = source_date(source)
        if written is None:
            continue
        tally.checked["source dates before events"] += 1
        if written.latest < start:
            tally.problem(record, f"{source['title']!r} ({written.text}) was written before the event it is cited for")


def check_date_basis(record: Record, documents: Documents, tally: Tally) -> None:
    """Every record says how its date is known. A date given by the documents has every year
    written in them; one inferred from a document's own date cites a dated document, or is
    marked uncertain or approximate."""
    tally.checked["date bases"] += 1
    basis = record.get("date_basis")
    date = edtf.parse(record["date"])
    if not basis:
        tally.problem(record, "no date_basis: say whether the date is given, inferred or bounded")
    elif basis == "given":
        # check_date has looked at the year the date starts in
        later_years = set(re.findall(r"\d{4}", record["date"].partition("/")[2]))
        for year in sorted(later_years - documents.numbers(record)):
            tally.problem(record, f"the date is given, but the year {year} is in none of its documents")
    elif basis == "inferred":
        dated = any(is_the_document(s) and s.get("published") for s in record["sources"])
        if not (dated or date.uncertain or date.approximate):
            tally.problem(record, "the date is inferred, but no cited document is dated and it is not marked ? or ~")


def check_figures(record: Record, documents: Documents, tally: Tally) -> None:
    """A record of figures carries them as amounts, each with the period it measures; a
    period's years are written in the documents or marked as inferred."""
    if record["kind"] == "indicator" and not record.get("amounts"):
        tally.problem(record, "a record of kind indicator carries no amounts")
    for amount in record.get("amounts", []):
        period = amount.get("period")
        if record["kind"] == "indicator":
            tally.checked["figures"] += 1
            if not period:
                tally.problem(record, f"the figure {amount['value']} has no period")
        if period:
            parsed = edtf.parse(period)
            missing = set(re.findall(r"\d{4}", period)) - documents.numbers(record)
            if missing and not (parsed.uncertain or parsed.approximate):
                tally.problem(record, f"the period {period!r} of {amount['value']} is in none of its documents")


RECORD_CHECKS: list[Check] = [
    check_locators,
    check_titles,
    check_quotes,
    check_source_details,
    check_numbers,
    check_amounts,
    check_qualifiers,
    check_date,
    check_date_basis,
    check_sources_can_know,
    check_figures,
]


@dataclass
class Verification:
    documents: int
    records: int
    sources: int
    checked: Counter[str]
    problems: list[str]

    @property
    def checked_nothing(self) -> bool:
        return not self.checked["quotes"]

    def summary(self) -> str:
        counts = ", ".join(f"{count} {what}" for what, count in sorted(self.checked.items()))
        return (
            f"checked {self.records} records and {self.sources} sources against {self.documents} documents"
            f" ({counts or 'nothing'}): {len(self.problems)} problem(s)"
        )


def records_in(chronicle_path: Path) -> list[Record]:
    return json.loads(chronicle_path.read_text(encoding="utf-8"))["developments"]


def verify(records: list[Record], folder: Path, on_record: Callable[[], object] = lambda: None) -> Verification:
    """Put every record through RECORD_CHECKS. When the folder holds none of the documents
    the records cite, nothing is checked (rather than every record reported as missing)."""
    documents = Documents.read(folder)
    tally = Tally()
    cited: set[str] = set().union(*(documents.cited_by(record) for record in records))
    if cited:
        for record in records:
            for check in RECORD_CHECKS:
                check(record, documents, tally)
            on_record()
        for name in sorted(set(documents.texts) - cited):
            tally.problems.append(f"{name}: no record cites this document")
    return Verification(
        documents=len(documents.texts),
        records=len(records),
        sources=sum(len(record["sources"]) for record in records),
        checked=tally.checked,
        problems=tally.problems,
    )
