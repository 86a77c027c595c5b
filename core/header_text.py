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
