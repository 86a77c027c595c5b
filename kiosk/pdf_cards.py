"""Caption cards and a venue's poster drawn as PDF: text and QR codes as vectors (a code's
modules are filled rectangles), so both print sharp at any size; photos as their JPEG."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import qrcode
import qrcode.constants
from fpdf import FPDF
from fpdf.enums import Align

from kiosk.qr import QUIET_ZONE
from kiosk.wording import LANGUAGE_NAMES, WORDS
from media.models import LANGUAGES

MM = 72 / 25.4  # points in a millimetre


@dataclass(frozen=True)
class Paper:
    name: str
    width: float  # in points
    height: float


# Letter first: the default, what a North American home printer holds.
PAPERS = {
    "letter": Paper("letter", 612.0, 792.0),
    "a4": Paper("a4", 210 * MM, 297 * MM),
}
# Most home printers cannot print the outer 3 to 6 mm of a sheet: 14 mm leaves room to spare.
MARGIN = 14 * MM
CARDS_PER_PAGE = 2  # one per half sheet, cut along the dashed line

# A Unicode font embedded in the PDF (only the glyphs used): DejaVu Sans, from Debian's
# fonts-dejavu-core and most other systems. Without it, PDF's built-in Helvetica, which holds
# the Windows-1252 characters (all of French and Spanish, œ and ’ included) and nothing else.
FONT_DIRS = [
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian, Ubuntu, Raspberry Pi OS
    Path("/usr/share/fonts/dejavu-sans-fonts"),  # Fedora
    Path("/usr/share/fonts/TTF"),  # Arch
    Path("/usr/local/share/fonts/dejavu"),  # FreeBSD
]
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FALLBACK_FONT = "helvetica"
FALLBACK_ENCODING = "windows-1252"

INK = (0, 0, 0)
GREY = (90, 90, 90)
CUT_LINE = (170, 170, 170)
LINE_SPACING = 1.25  # a line's height, in font sizes


@dataclass(frozen=True)
class Card:
    """One framed portrait's card: `photo` a JPEG (None when its file is missing)."""

    photo: bytes | None
    photo_size: tuple[int, int]  # width, height in pixels
    captions: dict[str, str]  # by language: fr, es, en (an empty one is left out)
    place: str
    credit: str
    code_url: str  # the card's QR code: the portrait's page, for this venue
    alt: str = ""  # what the photo shows, for a reader that speaks the PDF


@dataclass(frozen=True)
class PosterCode:
    labels: dict[str, str]  # fr, es, en
    url: str


@dataclass(frozen=True)
class Poster:
    titles: tuple[str, ...]  # the exhibition's title, French first
    venue: str
    dates: tuple[str, ...]  # the dates, in French and English
    codes: Sequence[PosterCode]


def caption_cards_pdf(cards: Sequence[Card], paper: Paper, title: str) -> bytes:
    """Two cards per sheet, one above the other: cut along the dashed line."""
    pdf = _document(paper, title)
    for first in range(0, len(cards), CARDS_PER_PAGE):
        pdf.add_page()
        on_page = cards[first : first + CARDS_PER_PAGE]
        half = paper.height / CARDS_PER_PAGE
        for index, card in enumerate(on_page):
            top = index * half
            _draw_card(pdf, card, MARGIN, top + MARGIN, paper.width - 2 * MARGIN, half - 2 * MARGIN)
        if len(on_page) > 1:
            _cut_line(pdf, paper, half)
    return bytes(pdf.output())


def poster_pdf(poster: Poster, paper: Paper, title: str) -> bytes:
    """One sheet: the exhibition, the venue and its dates, then a large code per target;
    more sheets, each with the same heading, when the codes would be too small on one."""
    pdf = _document(paper, title)
    pdf.add_page()
    width = paper.width - 2 * MARGIN
    heading = [
        _Block(line, scale=1.0 if index == 0 else 0.65, bold=index == 0, space_after=0.3)
        for index, line in enumerate(poster.titles)
    ]
    heading[-1] = _Block(heading[-1].text, heading[-1].scale, heading[-1].bold, space_after=0.8)
    heading.append(_Block(poster.venue, scale=0.62, bold=True, space_after=0.1))
    heading.extend(_Block(line, scale=0.5) for line in poster.dates)
    scan = " · ".join(WORDS["scan"][language] for language in LANGUAGES)
    heading.append(_Block(scan, scale=0.46, colour=GREY))
    # However long the titles and the venue's name, the codes keep most of the sheet.
    most = paper.height * POSTER_HEADING_SHARE
    size, lines = _fit(pdf, heading, width, most, POSTER_HEADING_SIZES)
    top = MARGIN + _height(heading, lines, size) + 18
    room = paper.height - MARGIN - top
    per_sheet = _codes_per_sheet(width, room)
    codes = list(poster.codes)
    for first in range(0, max(len(codes), 1), per_sheet):
        if first:
            pdf.add_page()
        y = _draw_blocks(pdf, heading, lines, size, MARGIN, MARGIN, width, align=Align.C) + 18
        if codes:
            _code_grid(pdf, codes[first : first + per_sheet], MARGIN, y, width, room)
    return bytes(pdf.output())


# -- the document and its font


def _document(paper: Paper, title: str) -> _Document:
    pdf = _Document(paper)
    pdf.set_title(title)
    pdf.set_creator("Ambulante")
    return pdf


class _Document(FPDF):
    """An FPDF in points, with no automatic page break (each page is laid out whole), that
    writes every text in the font it has: characters the font lacks are replaced."""

    def __init__(self, paper: Paper) -> None:
        super().__init__(unit="pt", format=(paper.width, paper.height))
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.set_line_width(0)
        files = font_files()
        if files is not None:
            for style, path in files.items():
                self.add_font("DejaVu", style, path)
            self.text_font = "DejaVu"
            self.glyphs = self.fonts["dejavu"].cmap
        else:
            self.core_fonts_encoding = FALLBACK_ENCODING
            self.text_font = FALLBACK_FONT
            self.glyphs = None

    def use(self, size: float, bold: bool = False, colour: tuple[int, int, int] = INK) -> None:
        self.set_font(self.text_font, "B" if bold else "", size)
        self.set_text_color(*colour)

    def printable(self, text: str) -> str:
        return printable(text, self.glyphs)


def font_files() -> dict[str, Path] | None:
    """The embedded font's regular and bold files, from the first folder holding both."""
    for folder in FONT_DIRS:
        files = {style: folder / name for style, name in FONT_FILES.items()}
        if all(path.is_file() for path in files.values()):
            return files
    return None


def printable(text: str, known: dict[int, int] | None) -> str:
    """The text as the font can draw it: each character it lacks becomes its unaccented
    form (or a space's plain form), else "?"; control characters other than line breaks go.
    `known`: the font's characters, None for the built-in Helvetica (Windows-1252)."""

    def has(character: str) -> bool:
        if known is not None:
            return ord(character) in known
        try:
            character.encode(FALLBACK_ENCODING)
        except UnicodeEncodeError:
            return False
        return True

    kept = []
    for character in text:
        if character == "\n":
            kept.append(character)
        elif unicodedata.category(character).startswith("C"):
            continue
        elif has(character):
            kept.append(character)
        else:
            plain = "".join(
                part
                for part in unicodedata.normalize("NFKD", character)
                if has(part) and not unicodedata.combining(part)
            )
            kept.append(plain or "?")
    return "".join(kept)


# -- text


def _lines(pdf: _Document, text: str, width: float, size: float, bold: bool = False) -> list[str]:
    pdf.use(size, bold)
    lines = pdf.multi_cell(width, size, pdf.printable(text), dry_run=True, output="LINES")
    if pdf.glyphs is None:  # the built-in font's lines come back as its bytes: text again
        return [line.encode("latin-1").decode(FALLBACK_ENCODING) for line in lines]
    return list(lines)


@dataclass(frozen=True)
class _Block:
    """A piece of text laid out at a size relative to the others (a label smaller)."""

    text: str
    scale: float = 1.0
    bold: bool = False
    colour: tuple[int, int, int] = INK
    space_after: float = 0.0  # in font sizes


def _fit(
    pdf: _Document, blocks: Sequence[_Block], width: float, height: float, sizes: Sequence[float]
) -> tuple[float, list[list[str]]]:
    """The largest size at which the blocks fit the box, and their lines. Text too long to
    fit even at the smallest size is cut, each block keeping its share, with an ellipsis."""
    for size in sizes:
        lines = [_lines(pdf, block.text, width, size * block.scale, block.bold) for block in blocks]
        if _height(blocks, lines, size) <= height:
            return size, lines
    size = sizes[-1]
    lines = [_lines(pdf, block.text, width, size * block.scale, block.bold) for block in blocks]
    while _height(blocks, lines, size) > height:
        longest = max(range(len(lines)), key=lambda index: len(lines[index]))
        if len(lines[longest]) <= 1:
            break
        lines[longest] = lines[longest][:-1]
        lines[longest][-1] = lines[longest][-1].rstrip(" ,;:.") + "…"
    return size, lines


def _height(blocks: Sequence[_Block], lines: Sequence[Sequence[str]], size: float) -> float:
    return sum(
        len(block_lines) * size * block.scale * LINE_SPACING + block.space_after * size
        for block, block_lines in zip(blocks, lines, strict=True)
    )


def _draw_blocks(
    pdf: _Document,
    blocks: Sequence[_Block],
    lines: Sequence[Sequence[str]],
    size: float,
    x: float,
    y: float,
    width: float,
    align: Align = Align.L,
) -> float:
    for block, block_lines in zip(blocks, lines, strict=True):
        block_size = size * block.scale
        pdf.use(block_size, block.bold, block.colour)
        for line in block_lines:
            pdf.set_xy(x, y)
            pdf.cell(width, block_size * LINE_SPACING, line, align=align)
            y += block_size * LINE_SPACING
        y += block.space_after * size
    return y


# -- QR codes


def _qr_code(pdf: _Document, url: str, x: float, y: float, size: float) -> None:
    """The code as filled squares (each run of dark modules in a row one rectangle), on
    white, its quiet zone included in `size`."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    module = size / len(matrix)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(*INK)
    for row, modules in enumerate(matrix):
        column = 0
        while column < len(modules):
            if not modules[column]:
                column += 1
                continue
            start = column
            while column < len(modules) and modules[column]:
                column += 1
            pdf.rect(x + start * module, y + row * module, (column - start) * module, module, "F")


# -- caption cards


PHOTO_SHARE = 0.46  # of the card's width, beside the captions
GUTTER = 16.0
CARD_CODE_SIZE = 1.45 * 72  # a code read from arm's length
CAPTION_SIZES = tuple(size / 2 for size in range(24, 12, -1))  # 12 pt down to 6.5 pt


def _draw_card(pdf: _Document, card: Card, x: float, y: float, width: float, height: float) -> None:
    photo_width = width * PHOTO_SHARE
    credit = " · ".join(part for part in (card.place, _credit(card.credit)) if part)
    credit_blocks = [_Block(credit, colour=GREY)] if credit else []
    credit_size, credit_lines = _fit(pdf, credit_blocks, photo_width, 30, (8.5, 8, 7.5, 7))
    credit_height = _height(credit_blocks, credit_lines, credit_size)
    photo_box = height - credit_height - (6 if credit_blocks else 0)
    bottom = y
    if card.photo is not None:
        shown_width, shown_height = _fitted(card.photo_size, photo_width, photo_box)
        pdf.image(
            io.BytesIO(card.photo), x, y, shown_width, shown_height, alt_text=card.alt or None
        )
        bottom = y + shown_height
    else:  # the file is missing: a frame where the photo goes, the card still useful
        pdf.set_draw_color(*CUT_LINE)
        pdf.rect(x, y, photo_width, photo_box * 0.8)
        bottom = y + photo_box * 0.8
    _draw_blocks(pdf, credit_blocks, credit_lines, credit_size, x, bottom + 6, photo_width)

    text_x = x + photo_width + GUTTER
    text_width = width - photo_width - GUTTER
    blocks: list[_Block] = []
    for language in LANGUAGES:
        caption = card.captions.get(language, "").strip()
        if caption:
            name = LANGUAGE_NAMES[language].upper()
            blocks.append(_Block(name, scale=0.62, bold=True, colour=GREY, space_after=0.15))
            blocks.append(_Block(caption, space_after=0.7))
    text_height = height - CARD_CODE_SIZE - 10
    size, lines = _fit(pdf, blocks, text_width, text_height, CAPTION_SIZES)
    _draw_blocks(pdf, blocks, lines, size, text_x, y, text_width)

    code_y = y + height - CARD_CODE_SIZE
    _qr_code(pdf, card.code_url, text_x, code_y, CARD_CODE_SIZE)
    invitation = [_Block(WORDS["story"][language], bold=language == "fr") for language in LANGUAGES]
    invitation.append(_Block(_without_scheme(card.code_url), scale=0.8, colour=GREY))
    beside = text_width - CARD_CODE_SIZE - 8
    size, lines = _fit(pdf, invitation, beside, CARD_CODE_SIZE, (10, 9, 8, 7))
    middle = code_y + (CARD_CODE_SIZE - _height(invitation, lines, size)) / 2
    _draw_blocks(pdf, invitation, lines, size, text_x + CARD_CODE_SIZE + 8, middle, beside)


def _credit(credit: str) -> str:
    return f"Photo : {credit}" if credit.strip() else ""


def _fitted(size: tuple[int, int], width: float, height: float) -> tuple[float, float]:
    """The photo's size on paper: as large as the box allows, its proportions kept."""
    pixels_wide, pixels_high = size
    scale = min(width / max(pixels_wide, 1), height / max(pixels_high, 1))
    return pixels_wide * scale, pixels_high * scale


def _cut_line(pdf: _Document, paper: Paper, y: float) -> None:
    pdf.set_draw_color(*CUT_LINE)
    pdf.set_line_width(0.5)
    pdf.set_dash_pattern(dash=4, gap=3)
    pdf.line(MARGIN, y, paper.width - MARGIN, y)
    pdf.set_dash_pattern()
    pdf.set_line_width(0)


def _without_scheme(url: str) -> str:
    return url.split("://", 1)[-1]


# -- the poster's codes


POSTER_CODE_LARGEST = 3.4 * 72
POSTER_HEADING_SHARE = 0.33  # of the sheet's height, at most
POSTER_HEADING_SIZES = (26, 24, 22, 20, 18, 16, 14, 12)
POSTER_LABEL_HEIGHT = 64.0
POSTER_GUTTER = 18.0


def _code_grid(
    pdf: _Document, codes: Sequence[PosterCode], x: float, y: float, width: float, height: float
) -> None:
    """The codes in the columns that make them largest, the last row centred."""
    count = len(codes)
    columns = _best_columns(count, width, height)
    rows = ceil(count / columns)
    size = _code_size(count, columns, width, height)
    cell_width = width / columns
    cell_height = height / rows
    for index, code in enumerate(codes):
        row, column = divmod(index, columns)
        in_row = min(columns, count - row * columns)
        left = x + (width - in_row * cell_width) / 2 + column * cell_width
        top = y + row * cell_height
        _qr_code(pdf, code.url, left + (cell_width - size) / 2, top, size)
        blocks = [
            _Block(code.labels.get(language, ""), scale=1.0 if language == "fr" else 0.85)
            for language in LANGUAGES
        ]
        blocks[0] = _Block(blocks[0].text, bold=True)
        blocks.append(_Block(_without_scheme(code.url), scale=0.6, colour=GREY))
        label_width = cell_width - POSTER_GUTTER
        label_size, lines = _fit(
            pdf, blocks, label_width, POSTER_LABEL_HEIGHT, (14, 13, 12, 11, 10, 9)
        )
        _draw_blocks(
            pdf,
            blocks,
            lines,
            label_size,
            left + POSTER_GUTTER / 2,
            top + size + 4,
            label_width,
            align=Align.C,
        )


def _codes_per_sheet(width: float, height: float) -> int:
    """How many codes a sheet holds with each at least as large as a caption card's (read
    from arm's length); one at the least."""
    count = 1
    while _code_size(count + 1, _best_columns(count + 1, width, height), width, height) >= (
        CARD_CODE_SIZE
    ):
        count += 1
    return count


def _best_columns(count: int, width: float, height: float) -> int:
    """The number of columns that makes `count` codes largest."""
    return max(range(1, count + 1), key=lambda each: _code_size(count, each, width, height))


def _code_size(count: int, columns: int, width: float, height: float) -> float:
    rows = ceil(count / columns)
    return min(
        width / columns - POSTER_GUTTER,
        height / rows - POSTER_LABEL_HEIGHT - POSTER_GUTTER,
        POSTER_CODE_LARGEST,
    )
