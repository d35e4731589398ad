"""Request bodies: JSON that no field could hold is a 400 parse error, never a server error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONParser(parsers.JSONParser):
    """Refuses lone surrogates (a `\\ud800` escape is valid JSON but not a character: it can be
    neither stored nor written back out as UTF-8, even in an error message quoting it) and
    nesting too deep for the parser."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        if any(_SURROGATE.search(text) for text in _strings(data)):
            raise ParseError("JSON parse error - a string holds a lone surrogate (\\ud800 to \\udfff).")
        return data


def _strings(data: Any) -> Iterator[str]:
    """Every key and string value in parsed JSON, without recursion."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from value.keys()
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
