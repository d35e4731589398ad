"""Errors raised when a command would break an invariant.

Every message is written for a curator: it says what is wrong and what to do.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidContent(DomainError):
    """One or more fields are invalid. `errors` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        details = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
        super().__init__(f"Some fields are invalid — {details}")


class InvalidDate(DomainError):
    """A date is not in the supported EDTF subset."""


class TransitionNotAllowed(DomainError):
    """The step is not allowed from the development's current workflow state."""


class SourceRequired(DomainError):
    """Publishing requires at least one source."""


class FourEyesViolation(DomainError):
    """An editor tried to publish a revision they authored."""


class ReasonRequired(DomainError):
    """A retraction needs a reason; a correction or update needs a public note."""


class NothingToSubmit(DomainError):
    """A revision of a published development must change something before review."""


class VersionConflict(DomainError):
    """Someone else changed the development since it was loaded; nothing was recorded."""

    def __init__(self, message: str, *, expected: int, actual: int | None) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual  # None when the store only knows it is newer
