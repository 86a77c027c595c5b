"""Whether a value can stand inside one header line, of an HTTP response or of a message."""

from __future__ import annotations

import unicodedata

LINE_SEPARATORS = "\u2028\u2029"  # not control characters, yet some parsers end lines there


def breaks_a_header_line(value: str) -> bool:
    """A control character (line breaks, NUL, NEL…) or a Unicode line separator."""
    return any(
        unicodedata.category(character) == "Cc" or character in LINE_SEPARATORS
        for character in value
    )


# Line breaks and tabs belong in a paragraph; other control characters (NUL above all,
# which PostgreSQL refuses in text) belong nowhere.
PARAGRAPH_WHITESPACE = "\n\r\t"


def breaks_a_paragraph(value: str) -> bool:
    """A control character other than a line break or a tab, in text of several lines."""
    return breaks_a_header_line(value.translate(dict.fromkeys(map(ord, PARAGRAPH_WHITESPACE))))
