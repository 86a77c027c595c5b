"""Uploaded image files made safe: checked by content, upright, sRGB, no metadata."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from media.renditions import can_be_made

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # a camera JPEG is 10–25 MB
MAX_PIXELS = 60_000_000  # below Pillow's own bomb limit (about 89 MP)

# Accepted by what the bytes are, never by the file's name.
ACCEPTED_FORMATS = ["JPEG", "PNG", "WEBP"]
# How each accepted format begins: a file that starts like one but does not open is damaged,
# not "something else".
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
WEBP_SIGNATURE = (b"RIFF", b"WEBP")

# The original as stored: the master every rendition is made from, so it keeps nearly all
# the detail (quality 95, full-resolution colour). Baseline, not progressive: a progressive
# 24 MP file takes about 3x longer to decode and libjpeg holds every coefficient of it in
# memory (about 140 MB), once at every rendition job. Huffman tables not optimized either,
# which would also buffer the whole image while encoding, for about 10% of the file size.
ORIGINAL_JPEG = {"quality": 95, "subsampling": 0, "progressive": False, "optimize": False}
ORIGINAL_PNG = {"compress_level": 6}

SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
PROFILE_MODES = ("RGB", "RGBA", "CMYK", "L")  # the modes a colour transform is built for


class ImageRefused(Exception):
    """The file is not kept; `reason` tells the person who sent it why."""

    def __init__(self, reason: LazyString) -> None:
        super().__init__(reason)
        self.reason = reason


def too_large_message(max_bytes: int) -> LazyString:
    return _l(
        "This file is larger than the limit of %(megabytes)d MB.",
        megabytes=max(max_bytes // (1024 * 1024), 1),
    )


def too_many_pixels_message(max_pixels: int) -> LazyString:
    return _l(
        "This image has more than %(megapixels)d megapixels: reduce its size and send it again.",
        megapixels=max(max_pixels // 1_000_000, 1),
    )


NOT_AN_IMAGE = _l("This file is not a JPEG, PNG or WebP image.")
DAMAGED = _l("This image is damaged or incomplete: export it again and send the new file.")
TOO_NARROW = _l("This image is too long and narrow to be shown: crop it and send it again.")


@dataclass(frozen=True)
class CleanImage:
    data: bytes  # the original as stored, re-encoded with no metadata at all
    format: str  # "jpeg" or "png" (png when the image has transparency)
    width: int
    height: int
    source_sha256: str  # of the bytes as uploaded: "already imported"
    sha256: str  # of `data`: where it is stored


def clean_upload(
    data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS
) -> CleanImage:
    """The upload decoded, turned upright and into sRGB, and written again with nothing but
    its pixels; ImageRefused when it is too large, not an accepted image, or damaged.

    Animated PNG and WebP files keep their first frame only: a portrait is a still image.
    Pure and thread-safe: it touches no global state (no warning filters, no Pillow setting).
    """
    if len(data) > max_bytes:
        raise ImageRefused(too_large_message(max_bytes))
    source_sha256 = hashlib.sha256(data).hexdigest()
    image = open_checked(data, max_pixels)
    try:
        # Decodes every byte: a truncated or corrupt file fails here (Pillow's
        # LOAD_TRUNCATED_IMAGES stays off, so a missing end is an error, not grey).
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as error:  # whatever a broken file makes a decoder raise
        raise ImageRefused(DAMAGED) from error
    if not can_be_made(image.width, image.height):  # upright: the sides as they will be shown
        raise ImageRefused(TOO_NARROW)
    # Rebound, not kept beside: a 24 MP image is about 100 MB in memory.
    image = to_srgb(image)
    # Nothing read from the file goes back into it: Pillow writes a JPEG's comment and a
    # PNG's colour profile from `info` unless told otherwise, so `info` is emptied.
    image.info = {}
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image_format = "png"
        image.save(buffer, "PNG", **ORIGINAL_PNG)
    else:
        image_format = "jpeg"
        image.save(buffer, "JPEG", **ORIGINAL_JPEG)
    stored = buffer.getvalue()
    return CleanImage(
        data=stored,
        format=image_format,
        width=image.width,
        height=image.height,
        source_sha256=source_sha256,
        sha256=hashlib.sha256(stored).hexdigest(),
    )


def open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """The image opened from its header only, its declared size checked before a single
    pixel is decoded: a bomb is refused in microseconds, whatever its file size."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own limit (above ours) fired first, while reading the header. Where
        # warnings are errors (the tests) the warning arrives here as an exception too;
        # elsewhere it is only logged, and the check below refuses the image.
        raise ImageRefused(too_many_pixels_message(max_pixels)) from error
    except UnidentifiedImageError as error:
        raise ImageRefused(DAMAGED if looks_like_an_image(data) else NOT_AN_IMAGE) from error
    except Exception as error:  # a header that makes a plugin fail outright
        raise ImageRefused(DAMAGED) from error
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise ImageRefused(too_many_pixels_message(max_pixels))
    return image


def looks_like_an_image(data: bytes) -> bool:
    return data.startswith(SIGNATURES) or (
        data[:4] == WEBP_SIGNATURE[0] and data[8:12] == WEBP_SIGNATURE[1]
    )


def to_srgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when some pixel is see-through, in sRGB (what browsers assume of an
    image without a profile)."""
    transparent = image.mode in ALPHA_MODES or "transparency" in image.info
    profile = image.info.get("icc_profile")
    if image.mode in SIXTEEN_BIT_MODES:
        # Scaled, not clipped: a 16-bit grey PNG would otherwise come out nearly white.
        image = image.point(lambda value: value / 257).convert("L")
    elif image.mode not in PROFILE_MODES:
        image = image.convert("RGBA" if transparent else "RGB")
    if profile:
        image = with_profile_applied(image, profile)
    target = "RGBA" if transparent else "RGB"
    if image.mode != target:
        image = image.convert(target)
    if target == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")  # an alpha channel nobody uses: a JPEG will do
    return image


def with_profile_applied(image: Image.Image, profile: bytes) -> Image.Image:
    """The pixels converted from the embedded profile's colours to sRGB's. A profile that
    cannot be read, or does not fit the pixels, is ignored the way browsers ignore it."""
    output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    try:
        transform = ImageCms.buildTransform(
            ImageCms.ImageCmsProfile(io.BytesIO(profile)),
            # Built for each image: lcms profiles are not to be shared between threads.
            ImageCms.createProfile("sRGB"),
            image.mode,
            output_mode,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    if image.mode == output_mode:
        ImageCms.applyTransform(image, transform, inPlace=True)  # no second 100 MB copy
        return image
    converted = ImageCms.applyTransform(image, transform)
    assert converted is not None
    return converted
