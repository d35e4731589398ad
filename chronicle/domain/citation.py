"""A source as a reader cites it: title, author, publisher, date and where in the work.

An import file's locator may name the document a source was read in by its file name
("000_b649325de8d3ad67.txt, section 2"), or the document that names a primary source
("named in 000_b649325de8d3ad67.txt, reference 5"). Readers never see those file names: the
document's own locator keeps only the place within it, and a reference to another document
becomes that document's title, as the same development cites it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import edtf

DOCUMENT_FILE = re.compile(r"\b[\w-]+\.(?:txt|md|html?)\b")
_LEADING_DOCUMENT = re.compile(rf"^{DOCUMENT_FILE.pattern}[,:;]?\s*")

Source = Mapping[str, Any]


@dataclass(frozen=True)
class Citation:
    title: str
    url: str
    author: str
    publisher: str
    published: str
    locator: str
    accessed: str
    quote: str


def document_titles(sources: Sequence[Source]) -> dict[str, str]:
    """The title under which the sources cite each document they were read in."""
    titles: dict[str, str] = {}
    for source in sources:
        match = DOCUMENT_FILE.match(source.get("locator") or "")
        if match:
            titles.setdefault(match.group(), source.get("title", ""))
    return titles


def reader_locator(locator: str, titles: Mapping[str, str]) -> str:
    text = _LEADING_DOCUMENT.sub("", locator)
    text = DOCUMENT_FILE.sub(lambda m: f"“{titles[m.group()]}”" if m.group() in titles else "the cited work", text)
    return text[:1].upper() + text[1:]


def cite(source: Source, sources: Sequence[Source] = ()) -> Citation:
    """`source` as a reader cites it; `sources` are the development's others, whose titles
    stand in for document file names."""
    return Citation(
        title=source.get("title") or "",
        url=source.get("url") or "",
        author=source.get("author") or "",
        publisher=source.get("publisher") or "",
        published=edtf.humanize(source["published"]) if source.get("published") else "",
        locator=reader_locator(source.get("locator") or "", document_titles(sources or [source])),
        accessed=edtf.humanize(source["accessed"]) if source.get("accessed") else "",
        quote=source.get("quote") or "",
    )


def cite_all(sources: Sequence[Source]) -> list[Citation]:
    return [cite(source, sources) for source in sources]
