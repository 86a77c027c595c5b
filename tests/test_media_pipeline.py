"""A photographer's files come out upright, in true colours, with nothing about where or how
they were taken; broken or dangerous files are refused at once; each portrait gets exactly
the sizes and formats promised, as sharp as a careful resize would make them."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import time
import warnings
import zlib

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageStat, PngImagePlugin

from media.ingest import MAX_PIXELS, MAX_UPLOAD_BYTES, CleanImage, ImageRefused, clean_upload
from media.renditions import FORMATS, Rendition, make_renditions, sizes, widths_for

RED, BLUE, GREY = (220, 20, 20), (20, 20, 220), (128, 128, 128)
SCENE = (120, 80)  # landscape, as the photographer framed it
PRIVATE = (  # what the camera and the photographer's software wrote, none of it to be kept
    b"Exif",
    b"http://ns.adobe.com/xap",
    b"Canon",
    b"EOS R6",
    b"SN-0042-7731",
    b"Maria Lopez",
    b"12 rue des Lilas",
    b"WGS-84",
)
PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP")
QUICKLY = 1.0  # seconds: a refusal never waits for a decode


def upright_scene() -> Image.Image:
    """Grey, with a red square in the top-left corner and a blue one in the top-right: where
    both land tells every rotation and mirror apart."""
    scene = Image.new("RGB", SCENE, GREY)
    draw = ImageDraw.Draw(scene)
    draw.rectangle((0, 0, 29, 29), fill=RED)
    draw.rectangle((SCENE[0] - 30, 0, SCENE[0] - 1, 29), fill=BLUE)
    return scene


def saved(image: Image.Image, image_format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def detailed_photo(width: int, height: int, seed: int = 7) -> Image.Image:
    """Texture at every scale and hard edges, like a photo: a resize that cuts corners shows."""
    rng = random.Random(seed)
    bands = []
    for _ in range(3):
        coarse = Image.frombytes("L", (24, 16), rng.randbytes(24 * 16))
        band = coarse.resize((width, height), Image.Resampling.BICUBIC)
        fine = Image.frombytes("L", (width, height), rng.randbytes(width * height))
        bands.append(Image.blend(band, fine.filter(ImageFilter.GaussianBlur(0.8)), 0.5))
    photo = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(photo)
    for _ in range(30):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.line((x, y, x + 400, y + 150), fill=(250, 250, 240), width=rng.randrange(1, 4))
    return photo


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0–255."""
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def colour_at(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    return image.convert("RGB").getpixel(xy)


def close_to(colour: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def opened(data: bytes, image_format: str) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=[image_format.upper()])
    image.load()
    return image


def all_files(clean: CleanImage) -> list[tuple[str, bytes]]:
    """The stored original and every rendition made from it."""
    made = make_renditions(clean.data)
    return [(clean.format, clean.data)] + [(r.format, r.data) for r in made]


# EXIF 2.3, "Orientation": which side of the scene the file's first row and first column
# hold; so, how a camera stores an upright scene under each value.
STORED_UNDER_ORIENTATION = {
    1: None,  # row 0 is the top, column 0 the left
    2: Image.Transpose.FLIP_LEFT_RIGHT,  # top, right
    3: Image.Transpose.ROTATE_180,  # bottom, right
    4: Image.Transpose.FLIP_TOP_BOTTOM,  # bottom, left
    5: Image.Transpose.TRANSPOSE,  # row 0 is the left side, column 0 the top
    6: Image.Transpose.ROTATE_90,  # right side, top: the camera was turned clockwise
    7: Image.Transpose.TRANSVERSE,  # right side, bottom
    8: Image.Transpose.ROTATE_270,  # left side, bottom
}


def as_the_camera_stored_it(orientation: int, image_format: str = "JPEG") -> bytes:
    scene = upright_scene()
    operation = STORED_UNDER_ORIENTATION[orientation]
    stored = scene if operation is None else scene.transpose(operation)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return saved(stored, image_format, exif=exif, quality=95)


def assert_upright(image: Image.Image) -> None:
    assert image.size == SCENE
    assert close_to(colour_at(image, (10, 10)), RED)  # top left
    assert close_to(colour_at(image, (SCENE[0] - 10, 10)), BLUE)  # top right
    assert close_to(colour_at(image, (10, SCENE[1] - 10)), GREY)  # bottom left


@pytest.mark.parametrize("orientation", range(1, 9))
def test_staff_see_every_photo_upright_whichever_way_the_camera_was_held(orientation):
    data = as_the_camera_stored_it(orientation)
    clean = clean_upload(data)
    assert (clean.width, clean.height) == SCENE
    original = opened(clean.data, "jpeg")
    assert_upright(original)
    assert 0x0112 not in original.getexif()  # nothing left to turn it a second time
    for rendition in make_renditions(clean.data):
        assert_upright(opened(rendition.data, rendition.format))


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_a_sideways_png_or_webp_comes_out_upright_too(image_format):
    clean = clean_upload(as_the_camera_stored_it(6, image_format))
    assert_upright(opened(clean.data, clean.format))


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_jpeg_with_private_data(image: Image.Image | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS R6"  # Model
    exif[0x013B] = "Maria Lopez"  # Artist
    exif.get_ifd(0x8769)[0xA431] = "SN-0042-7731"  # the camera body's serial number
    exif.get_ifd(0x8825).update(  # GPS: where the worker lives
        {1: "N", 2: (45.0, 31.0, 12.5), 3: "W", 4: (73.0, 34.0, 5.2), 18: "WGS-84"}
    )
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
        b'"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="12 rue des Lilas"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    data = saved(
        image or upright_scene(),
        "JPEG",
        quality=95,
        exif=exif,
        xmp=xmp,
        comment=b"Maria Lopez, 12 rue des Lilas",
        icc_profile=srgb_profile(),
    )
    for private in PRIVATE:
        assert private in data, private  # the test file really carries it
    return data


def assert_nothing_private(image_format: str, data: bytes) -> None:
    image = opened(data, image_format)
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)
    for private in PRIVATE:
        assert private not in data, private


def test_nothing_about_where_or_how_a_photo_was_taken_is_kept():
    clean = clean_upload(camera_jpeg_with_private_data())
    files = all_files(clean)
    assert len(files) == 1 + 2  # the original, and a 120-wide size in both formats
    for image_format, data in files:
        assert_nothing_private(image_format, data)


def test_renditions_carry_no_metadata_even_from_an_original_that_has_some():
    for rendition in make_renditions(camera_jpeg_with_private_data()):
        assert_nothing_private(rendition.format, rendition.data)


def test_a_png_with_transparency_stays_a_png_without_its_text_chunks():
    scene = upright_scene().convert("RGBA")
    ImageDraw.Draw(scene).rectangle((40, 40, 79, 79), fill=(0, 0, 0, 0))
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Maria Lopez")
    text.add_itxt("XML:com.adobe.xmp", "12 rue des Lilas", zip=True)
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    data = saved(scene, "PNG", pnginfo=text, exif=exif, icc_profile=srgb_profile())
    clean = clean_upload(data)
    assert clean.format == "png"
    for image_format, stored in all_files(clean):
        for chunk in PNG_TEXT_CHUNKS:
            assert chunk not in stored
        assert_nothing_private(image_format, stored)
    original = opened(clean.data, "png")
    assert original.mode == "RGBA" and original.getpixel((60, 60))[3] == 0


def test_an_opaque_png_is_kept_as_a_jpeg():
    clean = clean_upload(saved(upright_scene().convert("RGBA"), "PNG"))
    assert clean.format == "jpeg"
    assert_upright(opened(clean.data, "jpeg"))


def test_a_webp_with_metadata_is_cleaned_like_a_jpeg():
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    data = saved(upright_scene(), "WEBP", exif=exif, xmp=b"12 rue des Lilas", quality=95)
    for image_format, stored in all_files(clean_upload(data)):
        assert_nothing_private(image_format, stored)


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_an_animated_png_or_webp_keeps_its_first_frame(image_format):
    frames = [Image.new("RGB", SCENE, colour) for colour in (RED, BLUE)]
    data = saved(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100)
    clean = clean_upload(data)
    assert close_to(colour_at(opened(clean.data, clean.format), (60, 40)), RED)


def blue_and_red_swapped_profile() -> bytes:
    """An RGB profile whose red primary is sRGB's blue and the reverse: a pixel stored as
    (200, 30, 30) under it is the blue that sRGB writes (30, 30, 200). A wide-gamut camera
    profile differs less, but the same way: the numbers mean other colours."""
    profile = bytearray(srgb_profile())
    (count,) = struct.unpack(">I", profile[128:132])
    entries = {}
    for index in range(count):
        at = 132 + 12 * index
        signature, offset, size = struct.unpack(">4sII", profile[at : at + 12])
        entries[signature] = (at, offset, size)
    red_at, red_offset, red_size = entries[b"rXYZ"]
    blue_at, blue_offset, blue_size = entries[b"bXYZ"]
    profile[red_at : red_at + 12] = struct.pack(">4sII", b"rXYZ", blue_offset, blue_size)
    profile[blue_at : blue_at + 12] = struct.pack(">4sII", b"bXYZ", red_offset, red_size)
    return bytes(profile)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_colours_stay_true_when_the_file_has_another_colour_profile(image_format):
    stored = Image.new("RGB", (64, 48), (200, 30, 30))
    data = saved(stored, image_format, icc_profile=blue_and_red_swapped_profile(), quality=95)
    clean = clean_upload(data)
    for file_format, made in all_files(clean):
        image = opened(made, file_format)
        assert "icc_profile" not in image.info
        assert close_to(colour_at(image, (32, 24)), (30, 30, 200), tolerance=6)


def test_an_srgb_photo_keeps_its_colours():
    data = saved(Image.new("RGB", (64, 48), (200, 30, 30)), "JPEG", icc_profile=srgb_profile())
    assert close_to(colour_at(opened(clean_upload(data).data, "jpeg"), (32, 24)), (200, 30, 30), 4)


def test_a_cmyk_or_16_bit_grey_file_becomes_an_rgb_jpeg():
    cmyk = saved(Image.new("CMYK", (64, 48), (0, 255, 255, 0)), "JPEG", quality=95)
    assert close_to(colour_at(opened(clean_upload(cmyk).data, "jpeg"), (32, 24)), (255, 0, 0))
    grey = Image.new("I;16", (64, 48), 32896)  # half of 65535
    clean = clean_upload(saved(grey, "PNG"))
    assert close_to(colour_at(opened(clean.data, "jpeg"), (32, 24)), (128, 128, 128), 2)


def refusal(data: bytes, **limits) -> tuple[str, float]:
    began = time.perf_counter()
    with pytest.raises(ImageRefused) as refused:
        clean_upload(data, **limits)
    return str(refused.value.reason), time.perf_counter() - began


def png_declaring(width: int, height: int) -> bytes:
    """A few bytes of PNG whose header announces width x height pixels: the decompression
    bomb's shape (its data would inflate to gigabytes)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows = zlib.compress(b"\0" * (1 + 3 * width) * 4, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose frame header is changed to announce width x height."""
    data = bytearray(saved(upright_scene(), "JPEG"))
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        png_declaring(20_000, 20_000),  # past twice Pillow's limit: Pillow's own error
        png_declaring(10_000, 10_000),  # past Pillow's limit: its warning
        png_declaring(10_000, 7_000),  # under Pillow's limit, over ours: our check
        jpeg_declaring(10_000, 7_000),
    ],
    ids=["png-400MP", "png-100MP", "png-70MP", "jpeg-70MP"],
)
def test_a_decompression_bomb_or_a_huge_declared_size_is_refused_at_once(data):
    message, seconds = refusal(data)
    assert message == "This image has more than 60 megapixels: reduce its size and send it again."
    assert seconds < QUICKLY


def test_a_bomb_is_refused_where_pillows_warning_is_only_logged():
    # Outside the tests warnings are not errors: Pillow logs it, our own limit refuses.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        message, seconds = refusal(png_declaring(10_000, 10_000))
    assert "more than 60 megapixels" in message and seconds < QUICKLY


def test_an_image_exactly_at_the_pixel_limit_is_accepted_and_one_pixel_more_is_not():
    data = saved(Image.new("RGB", (100, 50), GREY), "PNG")
    assert clean_upload(data, max_pixels=5000).width == 100
    message, _ = refusal(data, max_pixels=4999)
    assert "more than 1 megapixels" in message  # the limit, rounded down, never 0
    assert MAX_PIXELS < Image.MAX_IMAGE_PIXELS  # ours fires before Pillow's


@pytest.mark.parametrize(
    "data",
    [
        b"Liste d'epicerie\n- pain\n- lait\n",  # a text file someone named portrait.jpg
        b"",
        saved(upright_scene(), "GIF"),  # an image, but not one we accept
        saved(upright_scene(), "BMP"),
    ],
    ids=["text", "empty", "gif", "bmp"],
)
def test_a_file_that_is_not_a_jpeg_png_or_webp_is_refused_whatever_its_name(data):
    message, seconds = refusal(data)
    assert message == "This file is not a JPEG, PNG or WebP image."
    assert seconds < QUICKLY


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_truncated_file_is_refused_as_damaged(image_format):
    data = saved(detailed_photo(400, 300), image_format, quality=90)
    message, seconds = refusal(data[: len(data) // 2])
    assert message == "This image is damaged or incomplete: export it again and send the new file."
    assert seconds < QUICKLY


def test_a_file_that_starts_like_a_jpeg_but_is_not_one_is_damaged():
    message, _ = refusal(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 20)
    assert "damaged or incomplete" in message


@pytest.mark.parametrize(
    "size",
    [(1, 70_000), (300, 20_000)],
    ids=["longer-than-a-jpeg-holds", "taller-than-a-webp-holds"],
)
def test_a_long_narrow_strip_no_size_could_be_made_of_is_refused_with_a_reason(size):
    message, _ = refusal(saved(Image.new("L", size, 128), "PNG"))
    assert message == "This image is too long and narrow to be shown: crop it and send it again."


def test_a_wide_panorama_is_kept_and_each_size_made_from_it():
    clean = clean_upload(saved(Image.new("RGB", (20_000, 3), GREY), "PNG"))
    made = make_renditions(clean.data)
    assert [(r.width, r.height) for r in made] == [
        (w, 1) for w in (480, 960, 1920, 3840) for _ in FORMATS
    ]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    data = saved(upright_scene(), "JPEG")
    assert clean_upload(data, max_bytes=len(data)).width == SCENE[0]
    message, _ = refusal(data, max_bytes=len(data) - 1)
    assert message == "This file is larger than the limit of 1 MB."
    message, seconds = refusal(b"\xff\xd8\xff" + bytes(MAX_UPLOAD_BYTES))
    assert message == "This file is larger than the limit of 50 MB."
    assert seconds < QUICKLY


def test_the_same_upload_is_recognised_by_its_hash_and_stored_under_its_clean_hash():
    data = camera_jpeg_with_private_data()
    first, again = clean_upload(data), clean_upload(data)
    assert first.source_sha256 == hashlib.sha256(data).hexdigest() == again.source_sha256
    assert first.sha256 == hashlib.sha256(first.data).hexdigest() == again.sha256
    assert first.sha256 != first.source_sha256


@pytest.mark.parametrize(
    ("original_width", "widths"),
    [
        (5000, (480, 960, 1920, 3840)),
        (3840, (480, 960, 1920, 3840)),
        (2000, (480, 960, 1920)),
        (480, (480,)),
        (300, (300,)),  # narrower than the smallest: its own width, never more
    ],
)
def test_each_portrait_gets_exactly_the_promised_sizes_never_upscaled(original_width, widths):
    assert widths_for(original_width) == widths
    height = max(original_width // 5, 1)
    clean = clean_upload(saved(detailed_photo(original_width, height), "JPEG", quality=90))
    made = make_renditions(clean.data)
    assert [(r.width, r.format) for r in made] == [(w, f) for w in widths for f in FORMATS]
    for rendition in made:
        image = opened(rendition.data, rendition.format)  # really that format, by content
        assert image.size == (rendition.width, rendition.height)
        assert rendition.height == round(height * rendition.width / original_width)
        if rendition.format == "jpeg":
            assert image.info.get("progressive") or image.info.get("progression")


def test_the_fast_cascade_is_as_sharp_as_resizing_the_full_photo_for_each_size():
    photo = detailed_photo(2400, 1600)
    data = saved(photo, "JPEG", quality=95, subsampling=0)
    decoded = opened(data, "jpeg")
    for image in sizes(data):
        careful = decoded.resize(image.size, Image.Resampling.LANCZOS)
        assert mean_difference(image, careful) < 0.5, image.size


def test_a_very_wide_jpeg_decoded_at_half_size_stays_close_to_a_careful_resize():
    # libjpeg's half-scale decode is a box-like filter, as good as Pillow's own reduce():
    # on this grainy photo about 2.3 from a full Lanczos (bilinear is 3.0, nearest 8).
    photo = detailed_photo(7680, 240)
    data = saved(photo, "JPEG", quality=95, subsampling=0)
    largest = next(sizes(data))
    assert largest.size == (3840, 120)
    careful = opened(data, "jpeg").resize((3840, 120), Image.Resampling.LANCZOS)
    assert mean_difference(largest, careful) < 2.5


def test_see_through_parts_stay_see_through_in_webp_and_white_in_jpeg():
    scene = Image.new("RGBA", (600, 400), (*RED, 255))
    ImageDraw.Draw(scene).rectangle((300, 0, 599, 399), fill=(0, 0, 0, 0))
    clean = clean_upload(saved(scene, "PNG"))
    for rendition in make_renditions(clean.data):
        image = opened(rendition.data, rendition.format)
        right, left = (rendition.width * 7 // 8, 10), (rendition.width // 8, 10)
        if rendition.format == "webp":
            assert image.mode == "RGBA" and image.getpixel(right)[3] == 0
        else:
            assert close_to(colour_at(image, right), (255, 255, 255), 4)
        assert close_to(colour_at(image, left), RED)


def test_a_portrait_made_on_two_cores_is_the_same_as_on_one():
    clean = clean_upload(saved(detailed_photo(2000, 1300), "JPEG", quality=92))
    one: list[Rendition] = make_renditions(clean.data)
    assert make_renditions(clean.data, threads=2) == one
