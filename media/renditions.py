"""The sizes each portrait is served in, made fast from the clean original."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image

WIDTHS = (480, 960, 1920, 3840)  # a phone, a tablet or laptop, a large screen, the kiosk's TV
FORMATS = ("webp", "jpeg")

# Encoding is half the work or more, so these settings decide the speed as much as the
# resizing does (bench/derivatives.py).
WEBP_QUALITY = 80
# libwebp's `method` (0 fastest … 6 smallest). 4, libwebp's default, for the sizes phones
# download (at 960 and 1920, method 2 makes files about 6% larger). 2 for the kiosk's TV
# size, sent over the local network: 2 to 3x faster than 4 at 3840 wide (about 0.3 s instead
# of 0.9 s), for a file within 2% of the size.
WEBP_METHOD = 4
WEBP_METHOD_FOR_TV = 2
TV_WIDTH = 3840
JPEG_SETTINGS = {"quality": 82, "subsampling": "4:2:0", "progressive": True, "optimize": True}
# The first (largest) resize works on strips of this many output rows: Pillow's horizontal
# pass would otherwise keep a second copy of the whole image's height (60 MB for a 24 MP
# photo). Each strip reads the source rows around it, so the seams are exact.
BAND_ROWS = 256
FLATTEN_ON = (255, 255, 255)  # JPEG has no transparency: see-through pixels become white
# The longest side each format can hold: libwebp's, and libjpeg's (the original's format).
WEBP_MAX_SIDE = 16_383
JPEG_MAX_SIDE = 65_500


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    format: str  # "webp" or "jpeg"
    data: bytes


def widths_for(original_width: int) -> tuple[int, ...]:
    """Never upscaled: the WIDTHS up to the original's width, or, for an original narrower
    than the smallest, one rendition at its own width."""
    fitting = tuple(width for width in WIDTHS if width <= original_width)
    return fitting or (original_width,)


def shapes(original_width: int, original_height: int) -> list[tuple[int, int]]:
    """The (width, height) of each rendition, the original's proportions kept."""
    return [
        (width, max(round(original_height * width / original_width), 1))
        for width in widths_for(original_width)
    ]


def can_be_made(original_width: int, original_height: int) -> bool:
    """Whether the original and every rendition fit in their formats: a very tall, narrow
    image (a strip 300 pixels wide and 20,000 high) does not."""
    return max(original_width, original_height) <= JPEG_MAX_SIDE and all(
        height <= WEBP_MAX_SIDE for _width, height in shapes(original_width, original_height)
    )


def make_renditions(original: bytes, *, threads: int = 1) -> list[Rendition]:
    """Every width of `widths_for` in every format, from a clean original (clean_upload's
    `data`: sRGB, upright, no metadata), smallest first, WebP before JPEG.

    threads=1 keeps to one core (a bulk import runs one process per core instead);
    threads=2 encodes while it resizes and finishes one portrait sooner on two cores.
    """
    if threads <= 1:
        return sort(
            [encode(image, image_format) for image in sizes(original) for image_format in FORMATS]
        )
    with ThreadPoolExecutor(max_workers=threads) as pool:
        # Encodes start as soon as each size exists (the largest, which takes longest,
        # first), while the next size is made from it.
        # Each format saves its own Image object: Pillow keeps a save's settings on the
        # object while it saves, and two saves of one object at once mix them up.
        futures: list[Future[Rendition]] = [
            pool.submit(encode, image if index == 0 else image.copy(), image_format)
            for image in sizes(original, pool.map)
            for index, image_format in enumerate(FORMATS)
        ]
        return sort([future.result() for future in futures])


def sizes(
    original: bytes, run: Callable[..., Iterator[Image.Image]] = map
) -> Iterator[Image.Image]:
    """The original decoded once, then each width made from the one above it, largest first.

    A JPEG is decoded in draft mode, reduced by libjpeg as far as it can (1/2, 1/4, 1/8)
    while staying at least as large as the largest width: an 8000-wide original is decoded
    at 4000, a 6000-wide one in full. Then one Lanczos resize to the largest width, and each
    smaller width from the one above it (halving each time): far less work than resizing
    the full image for every width, for the same pixels to within rounding
    (tests/test_media_pipeline.py)."""
    image = Image.open(io.BytesIO(original), formats=["JPEG", "PNG", "WEBP"])
    wanted = shapes(*image.size)
    largest = max(wanted)
    if image.format == "JPEG":
        image.draft("RGB", largest)
    image.load()
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Premultiplied once for the whole cascade: no dark fringes at transparent edges.
        image = image.convert("RGBA").convert("RGBa")
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.info = {}  # a rendition carries nothing but its pixels (Pillow copies `info`)
    current = resize_in_bands(image, largest, run)
    del image  # the full-size decode (about 100 MB for 24 MP) is not needed any more
    yield current
    for shape in sorted(wanted, reverse=True)[1:]:
        current = current.resize(shape, Image.Resampling.LANCZOS)
        yield current


def resize_in_bands(
    image: Image.Image, size: tuple[int, int], run: Callable[..., Iterator[Image.Image]] = map
) -> Image.Image:
    """The same as image.resize(size, LANCZOS), strip by strip; `run` may map the strips
    over threads (Pillow lets go of the GIL while it resamples)."""
    if image.size == size:
        return image
    width, height = size
    scale = image.height / height
    tops = list(range(0, height, BAND_ROWS))

    def strip(top: int) -> Image.Image:
        bottom = min(top + BAND_ROWS, height)
        box = (0, top * scale, image.width, bottom * scale)
        return image.resize((width, bottom - top), Image.Resampling.LANCZOS, box=box)

    result = Image.new(image.mode, size)
    for top, band in zip(tops, run(strip, tops), strict=True):
        result.paste(band, (0, top))
    return result


def encode(image: Image.Image, image_format: str) -> Rendition:
    """One size in one format, with the settings above and no metadata. Not twice at once on
    the same Image object (see make_renditions)."""
    buffer = io.BytesIO()
    if image_format == "webp":
        method = WEBP_METHOD_FOR_TV if image.width >= TV_WIDTH else WEBP_METHOD
        visible = image.convert("RGBA") if image.mode == "RGBa" else image
        visible.save(buffer, "WEBP", quality=WEBP_QUALITY, method=method)
    elif image_format == "jpeg":
        flat = image
        if image.mode == "RGBa":
            visible = image.convert("RGBA")
            flat = Image.new("RGB", image.size, FLATTEN_ON)
            flat.paste(visible, mask=visible.getchannel("A"))
        flat.save(buffer, "JPEG", **JPEG_SETTINGS)
    else:
        raise ValueError(f"unknown format {image_format!r}")
    return Rendition(image.width, image.height, image_format, buffer.getvalue())


def sort(renditions: list[Rendition]) -> list[Rendition]:
    return sorted(
        renditions, key=lambda rendition: (rendition.width, FORMATS.index(rendition.format))
    )
