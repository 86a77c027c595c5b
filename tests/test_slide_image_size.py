"""A slide's image stays light on the venue's Wi-Fi: a photograph from a 24-megapixel camera,
made into the sizes screens are sent, weighs under 400 KB at 1920 px in WebP and in JPEG."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from media.ingest import clean_upload
from media.renditions import make_renditions

WIDTH, HEIGHT = 6000, 4000  # a 24-megapixel camera's frame
SLIDE_WIDTH = 1920
SLIDE_LIMIT = 400 * 1024
# What a camera's JPEG of that size weighs (quality 92): a flat or blurred stand-in would be
# far lighter, pure noise far heavier; either would say nothing about real photographs.
CAMERA_FILE = (2 * 1024 * 1024, 12 * 1024 * 1024)


def _octave(rnd: random.Random, cells: int, mode: str) -> Image.Image:
    size = (cells, max(cells * HEIGHT // WIDTH, 1))
    bands = len(mode)
    raw = Image.frombytes(mode, size, rnd.randbytes(size[0] * size[1] * bands))
    return raw.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC).convert("RGB")


def _texture(rnd: random.Random, colour: bool) -> Image.Image:
    """Light and detail at every scale, the finer the fainter, as in a real scene: broad
    gradients of colour, then shapes, surfaces and fine grain in grey."""
    image, total, weight, cells = None, 0.0, 1.0, 4
    while cells <= 3200:
        layer = _octave(rnd, cells, "RGB" if colour and cells < 200 else "L")
        total += weight
        image = layer if image is None else Image.blend(image, layer, weight / total)
        weight *= 0.8
        cells *= 2
    assert image is not None
    return ImageOps.autocontrast(image, cutoff=0.5)


def photograph(seed: int = 7) -> bytes:
    """A stand-in for a camera's photograph: smooth light, sharp-edged things in front of
    it, textured surfaces, the softness of a lens and a sensor's grain; saved as a camera
    saves it."""
    rnd = random.Random(seed)
    image = _texture(rnd, colour=True)
    draw = ImageDraw.Draw(image)
    for _ in range(120):
        x, y, r = rnd.randrange(WIDTH), rnd.randrange(HEIGHT), rnd.randrange(40, 700)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        if rnd.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r // 2), fill=colour)
        else:
            corners = [(x + rnd.randrange(-r, r), y + rnd.randrange(-r, r)) for _ in range(5)]
            draw.polygon(corners, fill=colour)
    image = Image.blend(image, _texture(rnd, colour=False), 0.35)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    grain = Image.frombytes("L", (WIDTH, HEIGHT), rnd.randbytes(WIDTH * HEIGHT))
    image = Image.blend(image, grain.convert("RGB"), 0.04)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_each_slide_image_at_1920_px_is_under_400_kb():
    camera_file = photograph()
    low, high = CAMERA_FILE
    assert low < len(camera_file) < high, f"not like a camera's file: {len(camera_file)} bytes"

    renditions = make_renditions(clean_upload(camera_file).data, threads=2)

    slides = {r.format: r for r in renditions if r.width == SLIDE_WIDTH}
    assert set(slides) == {"webp", "jpeg"}
    for rendition in slides.values():
        assert rendition.height == 1280
        size = len(rendition.data)
        assert size < SLIDE_LIMIT, f"{rendition.format} at 1920 px: {size // 1024} KB"
