"""Phone numbers as people write them ("514 555-0199 poste 224", "+1 (514) 383-2266 x225",
"1-800-…"): read with the phonenumbers library, kept in one form (E.164, and ";ext=" with
the extension), and shown as each language writes them ("514 383-2266, poste 225",
"514-383-2266, ext. 225")."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

from booking.holidays import reader_language

HOME_REGION = "CA"  # a number written without a country code is a Canadian one
STORED_MAX_LENGTH = 40  # the bookings.phone column
MAX_EXTENSION_DIGITS = 10
NORTH_AMERICA = 1

# How Québec offices write an extension: phonenumbers reads "ext.", "x" and "#" itself.
EXTENSION_WORDS = re.compile(r",?\s*\b(?:poste|post\.|p\.|local)\s*:?\s*(?=\d)", re.IGNORECASE)
STORED = re.compile(rf"\+[1-9][0-9]{{1,14}}(?:;ext=[0-9]{{1,{MAX_EXTENSION_DIGITS}}})?")

# Each language's way of writing a North American number and its extension. Toll-free
# numbers keep their leading 1, as they are dialled ("1 800 363-0000").
STYLES = {
    "fr": ("{area} {exchange}-{line}", "1 ", ", poste {extension}"),
    "en": ("{area}-{exchange}-{line}", "1-", ", ext. {extension}"),
}


def read_phone(text: str) -> str | None:
    """The number in its stored form ("+15143832266;ext=225"), or None when the text is not
    a phone number that can exist (too short, too long, no such area code, words)."""
    try:
        number = phonenumbers.parse(EXTENSION_WORDS.sub(" ext. ", text), HOME_REGION)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    extension = number.extension or ""
    if extension and (len(extension) > MAX_EXTENSION_DIGITS or not extension.isdigit()):
        return None
    # phonenumbers gives the extension in the digits typed ("٢٢٤", "２２４"): kept in ASCII,
    # as E.164 keeps the number itself, so it is shown and dialled like any other.
    extension = phonenumbers.normalize_digits_only(extension)
    stored = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if extension:
        stored += f";ext={extension}"
    return stored if len(stored) <= STORED_MAX_LENGTH else None


def _stored_number(value: str) -> PhoneNumber | None:
    """A number kept by read_phone; None for what bookings made before kept as typed."""
    if not STORED.fullmatch(value):
        return None
    try:
        return phonenumbers.parse(value)
    except NumberParseException:
        return None


def show_phone(value: str | None, language: str | None = None) -> str:
    """The number as the reader's language writes it; text kept as typed before numbers
    were read (bookings made before migration 0007) is shown as typed."""
    if not value:
        return ""
    number = _stored_number(value)
    if number is None:
        return value
    grouping, toll_free_prefix, extension = STYLES.get(language or reader_language(), STYLES["en"])
    if number.country_code == NORTH_AMERICA:
        digits = phonenumbers.national_significant_number(number)
        shown = grouping.format(area=digits[:3], exchange=digits[3:6], line=digits[6:])
        if phonenumbers.number_type(number) == PhoneNumberType.TOLL_FREE:
            shown = toll_free_prefix + shown
    else:
        without_extension = PhoneNumber(
            country_code=number.country_code, national_number=number.national_number
        )
        shown = phonenumbers.format_number(without_extension, PhoneNumberFormat.INTERNATIONAL)
    if number.extension:
        shown += extension.format(extension=number.extension)
    return shown


def phone_link(value: str | None) -> str:
    """A tel: link that dials the extension too (after the comma, once the call is
    answered: many phones ignore RFC 3966's ";ext="); "" for text kept as typed."""
    number = _stored_number(value or "")
    if number is None:
        return ""
    link = "tel:" + phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return f"{link},{number.extension}" if number.extension else link
