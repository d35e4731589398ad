"""The words readers are told a public revision by: feeds, digests and pages all use these.

Keyed by revision kind (published, corrected, updated, retracted). A first publication
needs no word: it is the development itself.
"""

from __future__ import annotations

NOTICE_WORDS = {"corrected": "Correction", "updated": "Update", "retracted": "Retracted"}


def notice_word(kind: str) -> str:
    """The word for a revision of this kind: Correction, Update or Retracted; empty for a first publication."""
    return NOTICE_WORDS.get(kind, "")


def notice_title(kind: str, title: str) -> str:
    """The title of a revision's notice: "Correction: …", "Update: …", "Retracted: …"."""
    word = notice_word(kind)
    return f"{word}: {title}" if word else title
