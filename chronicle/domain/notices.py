"""The words readers are told a public revision by: feeds, digests and pages all use these.

A notice's word differs from the kind's label ("Retracted", not "Retraction"), and a first
publication needs none: it is the development itself.
"""

from __future__ import annotations

from .events import RevisionKind

NOTICE_WORDS: dict[str, str] = {
    RevisionKind.PUBLISHED: "",
    RevisionKind.CORRECTED: "Correction",
    RevisionKind.UPDATED: "Update",
    RevisionKind.RETRACTED: "Retracted",
}


def notice_word(kind: str) -> str:
    """The word for a revision of this kind: Correction, Update or Retracted; empty for a first publication."""
    return NOTICE_WORDS.get(kind, "")


def notice_title(kind: str, title: str) -> str:
    """The title of a revision's notice: "Correction: …", "Update: …", "Retracted: …"."""
    word = notice_word(kind)
    return f"{word}: {title}" if word else title
