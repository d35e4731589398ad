"""Hypothesis strategies for the plain-text rule of chronicle/domain/content.py.

`accepted_text` mixes what must be stored as given (any script, RTL and other format marks,
emoji, combining characters, tabs and line breaks, markup); `forbidden_character` is one
character the rule refuses; `stored` is what the rule keeps of accepted text, written out
independently of the code under test.
"""

from __future__ import annotations

from hypothesis import strategies as st

NONCHARACTERS = [chr(code) for code in range(0xFDD0, 0xFDF0)] + [
    chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF)
]

SCRIPT = "<script>alert(1)</script>"
FRAGMENTS = [
    SCRIPT,
    '<img src=x onerror="alert(1)">',
    "</textarea></title>]]><!--",
    "&amp; &lt; &#0; &nbsp;",
    "{{ request }} {% csrf_token %}",
    "'\"`\\",
    "\u200f\u05e9\u05dc\u05d5\u05dd\u200e",  # RLM, Hebrew, LRM
    "\u202e\u0645\u0631\u062d\u0628\u0627\u202c",  # RTL override, Arabic, pop
    "\u2067isolate\u2069",
    "👩🏽\u200d💻 🇧🇾 🏳️\u200d🌈",  # skin tone, ZWJ, flag, variation selector
    "e\u0301 a\u0308\u0332 Z\u0351\u0364\u036b",  # combining marks
    "Беларусь 中国 Россия",
    "\t tab",
    "line\nbreak",
    "crlf\r\nbreak",
    "\u2028\u2029",
    "\u00a0\u3000",
]
_PRINTABLE = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cs"),
    exclude_characters=NONCHARACTERS,
)

accepted_text = (
    st.lists(st.sampled_from(FRAGMENTS) | st.text(_PRINTABLE, min_size=1, max_size=12), min_size=1, max_size=6)
    .map(" ".join)
    .filter(lambda text: text.strip())
)

# What a browser can send in a form: anything but a surrogate, which it cannot encode.
sendable_forbidden_character = st.one_of(
    st.sampled_from(["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]),
    st.sampled_from(NONCHARACTERS),
)
forbidden_character = sendable_forbidden_character | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)


@st.composite
def refused_text(draw, character=forbidden_character) -> tuple[str, int]:
    """Accepted text with one forbidden character inserted; and that character's 1-based place.

    The character sits between guillemets: some (\x0b, \x1f, \x85) count as whitespace,
    and the rule trims whitespace at either end before it looks.
    """
    text = draw(accepted_text)
    at = draw(st.integers(min_value=0, max_value=len(text)))
    return f"{text[:at]}«{draw(character)}»{text[at:]}", at + 2


def stored(text: str) -> str:
    """What the rule keeps: line breaks as \\n, surrounding whitespace trimmed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()
