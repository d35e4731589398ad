"""Citations of one version of a development: BibTeX, RIS and CSL-JSON.

A citation names Chronicle as publisher, the development's title as that version gave it,
the version (its revision and record time), the memento URL that shows exactly that
version (RFC 7089), the date it was accessed, and the development's own date (EDTF).
The same text answers `/developments/<slug>/cite.*` and the API detail's content
negotiation.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from chronicle.developments.models import PublicDevelopment, PublicRevision
from chronicle.domain import edtf
from chronicle.domain.events import RevisionKind
from chronicle.memento import memento_url

PUBLISHER = "Chronicle"


@dataclass(frozen=True)
class Format:
    extension: str
    media_type: str
    label: str


FORMATS = {
    "bib": Format("bib", "application/x-bibtex", "BibTeX"),
    "ris": Format("ris", "application/x-research-info-systems", "RIS"),
    "json": Format("json", "application/vnd.citationstyles.csl+json", "CSL-JSON"),
}


@dataclass(frozen=True)
class Citation:
    slug: str
    title: str
    date: str  # the development's own date, EDTF as entered
    revision: PublicRevision
    memento_url: str
    accessed: date

    @property
    def key(self) -> str:
        return f"chronicle-{self.slug}-v{self.revision.version}"

    @property
    def recorded_at(self) -> datetime:
        return self.revision.recorded_at.astimezone(UTC)

    @property
    def version(self) -> str:
        """e.g. "revision 6 (correction), recorded 2024-06-01T09:00:00Z"."""
        kind = RevisionKind(self.revision.kind).label.lower()
        recorded = self.recorded_at.isoformat(timespec="seconds").replace("+00:00", "Z")
        return f"revision {self.revision.version} ({kind}), recorded {recorded}"

    @property
    def note(self) -> str:
        return f"Development dated {edtf.humanize(self.date)} (EDTF {self.date}); version cited: {self.version}."

    def render(self, extension: str) -> str:
        return {"bib": self.bibtex, "ris": self.ris, "json": self.csl_json}[extension]()

    def bibtex(self) -> str:
        fields = [
            # Double braces keep the title's capitals as written.
            ("title", f"{{{_bibtex_text(self.title)}}}"),
            ("publisher", PUBLISHER),
            ("organization", PUBLISHER),
            ("version", _bibtex_text(self.version)),
            ("date", self.recorded_at.date().isoformat()),
            ("year", str(self.recorded_at.year)),
            ("eventdate", _bibtex_text(self.date)),
            ("url", self.memento_url),  # verbatim in biblatex; a URL has no braces or spaces
            ("urldate", self.accessed.isoformat()),
            ("note", _bibtex_text(self.note)),
        ]
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        return f"@online{{{self.key},\n{body}\n}}\n"

    def ris(self) -> str:
        lines = [
            ("TY", "ELEC"),
            ("ID", self.key),
            ("TI", _one_line(self.title)),
            ("PB", PUBLISHER),
            ("ET", self.version),
            ("PY", str(self.recorded_at.year)),
            ("DA", self.recorded_at.strftime("%Y/%m/%d")),
            ("UR", self.memento_url),
            ("Y2", self.accessed.strftime("%Y/%m/%d")),
            ("N1", self.note),
            ("ER", ""),
        ]
        return "".join(f"{tag}  - {value}\r\n" for tag, value in lines)

    def csl(self) -> dict:
        item = {
            "id": self.key,
            "type": "webpage",
            "title": self.title,
            "publisher": PUBLISHER,
            "container-title": PUBLISHER,
            "version": self.version,
            "URL": self.memento_url,
            "issued": {"date-parts": [_parts(self.recorded_at.date(), "day")]},
            "accessed": {"date-parts": [_parts(self.accessed, "day")]},
            "event-date": _csl_date(self.date),
            "note": self.note,
        }
        return item

    def csl_json(self) -> str:
        return json.dumps([self.csl()], ensure_ascii=False, indent=2) + "\n"


def citation(development: PublicDevelopment, revision: PublicRevision, page_url: str, accessed: date) -> Citation:
    """The citation of `development` as it was public after `revision` (its title and date
    then), pointing at the page's memento of that version."""
    return Citation(
        slug=development.slug,
        title=development.title,
        date=development.date,
        revision=revision,
        memento_url=memento_url(page_url, revision.recorded_at),
        accessed=accessed,
    )


def _parts(day: date, precision: str) -> list[int]:
    return [day.year, day.month, day.day][: {"year": 1, "month": 2, "day": 3}[precision]]


def _csl_date(text: str) -> dict:
    start, end = edtf.bounds(text)
    parts = [_parts(bound.earliest, bound.precision) for bound in (start, end) if bound is not None]
    if start is not None and start == end:
        parts = parts[:1]
    result: dict = {"date-parts": parts, "raw": text}
    if any(bound is not None and bound.approximate for bound in (start, end)):
        result["circa"] = True
    return result


_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_BIBTEX_PATTERN = re.compile("|".join(re.escape(character) for character in _BIBTEX_SPECIAL))


def _bibtex_text(text: str) -> str:
    return _BIBTEX_PATTERN.sub(lambda match: _BIBTEX_SPECIAL[match.group()], _one_line(text))


def _one_line(text: str) -> str:
    """Both formats are line-based: a line break inside a value would end the field."""
    return " ".join(text.split())
