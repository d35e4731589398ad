"""What `q` matches: every word of the query begins a word of the text, ignoring case, in any
script. The same on PostgreSQL and SQLite because the text is folded here, in Python, once
(`document`), and the databases only look for " word" in it."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
# Between the title's words and the summary's: not a word character, so no match spans it.
TITLE_END = "|"


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFC", text).casefold())


def terms(query: str) -> list[str]:
    """The words of a query, each once, in order."""
    return list(dict.fromkeys(words(query)))


def document(title: str, summary: str) -> str:
    """The searchable form of a development: " title words | summary words "."""
    return f" {' '.join(words(title))} {TITLE_END} {' '.join(words(summary))} "


def matches(query: str, title: str, summary: str) -> bool:
    text = document(title, summary)
    return all(f" {term}" in text for term in terms(query))
