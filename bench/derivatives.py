"""How fast are a portrait's derivatives made, next to a naive Pillow pipeline and libvips?

Generates a few 24-megapixel camera JPEGs (6000x4000, noise and gradients, quality 92, with
camera and GPS EXIF), cleans each the way an upload is (media.ingest.clean_upload), then
makes the whole derivative set of each clean original (every width of
media.renditions.widths_for, WebP and JPEG, the project's encoder settings) three ways,
each in a child process of its own so its peak memory (ru_maxrss) is its own:

- the project: media.renditions (decoded once, draft mode, a cascade of Lanczos resizes);
- naive Pillow: a full decode, then a Lanczos resize of the full image for each width;
- libvips (when pyvips imports): `thumbnail` for each width, one thread (VIPS_CONCURRENCY=1).

All three encode with the same settings. Then a bulk import of the camera files (clean and
make the derivatives), one by one and with a process pool of 2.

    python bench/derivatives.py [--photos 3]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.ingest import clean_upload  # noqa: E402
from media.renditions import (  # noqa: E402
    FORMATS,
    JPEG_SETTINGS,
    TV_WIDTH,
    WEBP_METHOD,
    WEBP_METHOD_FOR_TV,
    WEBP_QUALITY,
    encode,
    make_renditions,
    sizes,
    widths_for,
)

WIDTH, HEIGHT = 6000, 4000
CAMERA_QUALITY = 92
SEED = 20279
PEAK_GOAL_MB = 256
VIPS_GOAL = 1.0  # the whole set: no slower than libvips
RESIZE_GOAL = 3.0  # decode and resize: at least this many times faster than naive
SPAWN = multiprocessing.get_context("spawn")  # each child starts empty: its peak is its own


@dataclass(frozen=True)
class Run:
    """What one contender measured in its own process: per photo, the seconds spent
    decoding and resizing and the seconds spent encoding; its peak memory; bytes made."""

    resize: list[float]
    encode: list[float]
    peak_mb: float
    before_mb: float  # of which the interpreter, Pillow and the app's modules, before any photo
    output_bytes: int
    label: str = ""
    steps: tuple[float, float, float] = (0.0, 0.0, 0.0)  # decode, first resize, the cascade

    @property
    def whole(self) -> float:
        return statistics.mean(r + e for r, e in zip(self.resize, self.encode, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=3, help="24 MP JPEGs to generate")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="ambulante-bench-") as tmp:
        folder = Path(tmp)
        # Made in a child too: the parent stays small, and a child's ru_maxrss, which starts
        # from its parent's when it is forked, is then its own.
        with ProcessPoolExecutor(max_workers=1, mp_context=SPAWN) as child:
            cameras, originals, cleaning = child.submit(prepare, folder, args.photos).result()
        runs = [
            in_child(project, originals),
            in_child(naive, originals),
        ]
        vips = in_child(libvips, originals)
        if vips is not None:
            runs.append(vips)
        threaded = in_child(project_two_threads, originals)
        bulk = bulk_import(cameras)
        report(runs, threaded, cleaning, bulk, originals)
    print(f"load average after: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


def prepare(folder: Path, count: int) -> tuple[list[Path], list[Path], list[float]]:
    """The camera files, and their clean originals as clean_upload stores them."""
    cameras, originals, cleaning = [], [], []
    for number in range(count):
        camera = folder / f"camera-{number}.jpg"
        camera.write_bytes(camera_jpeg(SEED + number))
        began = time.perf_counter()
        clean = clean_upload(camera.read_bytes())
        cleaning.append(time.perf_counter() - began)
        original = folder / f"original-{number}.jpg"
        original.write_bytes(clean.data)
        cameras.append(camera)
        originals.append(original)
        print(
            f"photo {number + 1}: camera JPEG {camera.stat().st_size / 1e6:.1f} MB, "
            f"clean original {clean.width}x{clean.height} {clean.format} "
            f"{len(clean.data) / 1e6:.1f} MB",
            flush=True,
        )
    return cameras, originals, cleaning


def camera_jpeg(seed: int) -> bytes:
    """A 24 MP photo with a camera's kind of detail: soft gradients, texture at every scale,
    hard edges, sensor grain; quality 92 with camera and GPS EXIF."""
    rng = random.Random(seed)
    bands = []
    for _ in range(3):
        band = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270)))
        band = band.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
        for cells, weight in ((6, 0.3), (24, 0.18), (96, 0.1), (384, 0.06), (1536, 0.03)):
            size = (cells, max(cells * HEIGHT // WIDTH, 1))
            texture = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
            band = Image.blend(
                band, texture.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC), weight
            )
        bands.append(band)
    scene = Image.merge("RGB", bands)
    shapes = scene.copy()
    draw = ImageDraw.Draw(shapes)
    for _ in range(40):
        x, y, radius = rng.randrange(WIDTH), rng.randrange(HEIGHT), rng.randrange(50, 800)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        else:
            end = (x + rng.randrange(-2000, 2000), y + rng.randrange(-2000, 2000))
            draw.line((x, y, *end), fill=colour, width=rng.randrange(2, 30))
    scene = Image.blend(scene, shapes, 0.7).filter(ImageFilter.GaussianBlur(1.0))
    grain = Image.frombytes("L", (WIDTH, HEIGHT), rng.randbytes(WIDTH * HEIGHT))
    scene = Image.blend(scene, Image.merge("RGB", (grain, grain, grain)), 0.15)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS R6"  # Make, Model
    exif.get_ifd(0x8825).update({1: "N", 2: (45.0, 31.0, 12.5), 3: "W", 4: (73.0, 34.0, 5.2)})
    buffer = io.BytesIO()
    scene.save(buffer, "JPEG", quality=CAMERA_QUALITY, exif=exif)
    return buffer.getvalue()


def in_child(contender: Callable[[list[Path]], Run | None], paths: list[Path]) -> Run | None:
    with ProcessPoolExecutor(max_workers=1, mp_context=SPAWN) as child:
        run = child.submit(contender, paths).result()
    print(f"measured: {run.label if run else contender.__name__ + ' (not available)'}", flush=True)
    return run


def warm_up() -> float:
    """Pillow's plugins and encoders loaded before anything is timed; the peak so far."""
    small = Image.new("RGB", (64, 48), "grey")
    for image_format in FORMATS:
        encode(small, image_format)
    return peak_mb()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def project(paths: list[Path]) -> Run:
    before = warm_up()
    resize_times, encode_times, output = [], [], 0
    steps: list[tuple[float, float, float]] = []
    for path in paths:
        data = path.read_bytes()
        began = time.perf_counter()
        cascade = sizes(data)
        images = [next(cascade)]  # decoded, and resized to the largest width
        first = time.perf_counter()
        images.extend(cascade)
        decoded = time.perf_counter()
        renditions = [encode(image, image_format) for image in images for image_format in FORMATS]
        resize_times.append(decoded - began)
        encode_times.append(time.perf_counter() - decoded)
        output += sum(len(rendition.data) for rendition in renditions)
        del images, renditions
        decode = decode_only(data)
        steps.append((decode, first - began - decode, decoded - first))
    mean_steps = tuple(statistics.mean(step) for step in zip(*steps, strict=True))
    return Run(
        resize_times,
        encode_times,
        peak_mb(),
        before,
        output,
        "project (media.renditions)",
        mean_steps,  # type: ignore[arg-type]
    )


def decode_only(data: bytes) -> float:
    """The decode alone, as sizes() does it (after the timed run: the peak is not its)."""
    began = time.perf_counter()
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (max(widths_for(image.width)), 1))
        image.load()
    return time.perf_counter() - began


def project_two_threads(paths: list[Path]) -> Run:
    before = warm_up()
    wholes, output = [], 0
    for path in paths:
        data = path.read_bytes()
        began = time.perf_counter()
        renditions = make_renditions(data, threads=2)
        wholes.append(time.perf_counter() - began)
        output += sum(len(rendition.data) for rendition in renditions)
    return Run(wholes, [0.0] * len(wholes), peak_mb(), before, output, "project, threads=2")


def naive(paths: list[Path]) -> Run:
    before = warm_up()
    resize_times, encode_times, output = [], [], 0
    for path in paths:
        data = path.read_bytes()
        began = time.perf_counter()
        full = Image.open(io.BytesIO(data))
        full.load()
        widths = widths_for(full.width)
        images = [
            full.resize((width, round(full.height * width / full.width)), Image.Resampling.LANCZOS)
            for width in widths
        ]
        decoded = time.perf_counter()
        renditions = [encode(image, image_format) for image in images for image_format in FORMATS]
        resize_times.append(decoded - began)
        encode_times.append(time.perf_counter() - decoded)
        output += sum(len(rendition.data) for rendition in renditions)
        del full, images, renditions
    return Run(
        resize_times, encode_times, peak_mb(), before, output, "naive Pillow (resize from full)"
    )


def libvips(paths: list[Path]) -> Run | None:
    os.environ["VIPS_CONCURRENCY"] = "1"  # read when libvips starts, at the import
    try:
        import pyvips
    except (ImportError, OSError):
        return None
    pyvips.cache_set_max(0)
    before = warm_up()
    resize_times, encode_times, output = [], [], 0
    jpeg = {
        "Q": JPEG_SETTINGS["quality"],
        "interlace": JPEG_SETTINGS["progressive"],
        "optimize_coding": JPEG_SETTINGS["optimize"],
        "subsample_mode": "on",  # 4:2:0, as JPEG_SETTINGS
        "strip": True,
    }
    for path in paths:
        data = path.read_bytes()
        width = pyvips.Image.new_from_buffer(data, "").width
        resize_time = encode_time = 0.0
        for target in widths_for(width):
            began = time.perf_counter()
            # Shrink-on-load where it can, then its own Lanczos; copy_memory makes the lazy
            # pipeline run here, so the resize and the encode are timed apart.
            image = pyvips.Image.thumbnail_buffer(data, target, height=100_000).copy_memory()
            decoded = time.perf_counter()
            effort = WEBP_METHOD_FOR_TV if target >= TV_WIDTH else WEBP_METHOD
            output += len(image.webpsave_buffer(Q=WEBP_QUALITY, effort=effort, strip=True))
            output += len(image.jpegsave_buffer(**jpeg))
            resize_time += decoded - began
            encode_time += time.perf_counter() - decoded
        resize_times.append(resize_time)
        encode_times.append(encode_time)
    version = ".".join(str(pyvips.version(part)) for part in range(3))
    return Run(
        resize_times, encode_times, peak_mb(), before, output, f"libvips {version}, 1 thread"
    )


@dataclass(frozen=True)
class Bulk:
    one_by_one: float
    pool_of_two: float


def import_one(path: Path) -> float:
    """What a bulk import does with one file: clean it, make its derivatives."""
    began = time.perf_counter()
    make_renditions(clean_upload(path.read_bytes()).data)
    return time.perf_counter() - began


def start_worker(_: int) -> float:
    warm_up()
    time.sleep(0.5)  # long enough for the other worker to be started too
    return 0.0


def bulk_import(paths: list[Path]) -> Bulk:
    walls = {}
    for workers in (1, 2):
        with ProcessPoolExecutor(max_workers=workers, mp_context=SPAWN) as pool:
            list(pool.map(start_worker, range(workers)))
            began = time.perf_counter()
            list(pool.map(import_one, paths))
            walls[workers] = time.perf_counter() - began
    return Bulk(walls[1], walls[2])


def report(
    runs: list[Run], threaded: Run | None, cleaning: list[float], bulk: Bulk, paths: list[Path]
) -> None:
    with Image.open(paths[0]) as first:
        widths = widths_for(first.width)
    print(
        f"\nDerivative set of each photo: widths {', '.join(map(str, widths))} x "
        f"WebP q{WEBP_QUALITY} (method {WEBP_METHOD}, {WEBP_METHOD_FOR_TV} at {TV_WIDTH}) and "
        f"JPEG q{JPEG_SETTINGS['quality']} progressive, optimized, 4:2:0"
    )
    print(f"clean_upload of a camera JPEG: {statistics.mean(cleaning):.2f} s per photo")
    print(
        f"\nSeconds per photo (mean of {len(paths)})  decode+resize  encode  whole set"
        "   peak memory (before)  output/photo"
    )
    for run in [*runs, *([threaded] if threaded else [])]:
        split = f"{statistics.mean(run.resize):13.2f}{statistics.mean(run.encode):8.2f}"
        if run is threaded:
            split = f"{'(overlapped)':>21}"
        print(
            f"{run.label:36}{split}{run.whole:11.2f}{run.peak_mb:10.0f} MB "
            f"({run.before_mb:3.0f} MB){run.output_bytes / len(paths) / 1e6:11.2f} MB"
        )
    ours, simple = runs[0], runs[1]
    decode, first_resize, cascade = ours.steps
    print(
        f"\nThe project's decode+resize: decode {decode:.2f} s (draft mode), resize to the "
        f"largest width {first_resize:.2f} s, the cascade below it {cascade:.2f} s"
    )
    print()
    if len(runs) > 2:
        ratio = ours.whole / runs[2].whole
        verdict = "ok" if ratio <= VIPS_GOAL else "SLOWER"
        print(
            f"whole set, project / libvips:     {ratio:5.2f}  (goal <= {VIPS_GOAL:g})   {verdict}"
        )
    else:
        print("whole set, project / libvips:     pyvips does not import: not measured")
    speedup = statistics.mean(simple.resize) / statistics.mean(ours.resize)
    verdict = "ok" if speedup >= RESIZE_GOAL else "BELOW GOAL"
    print(
        f"decode+resize, naive / project:   {speedup:5.2f}x (goal >= {RESIZE_GOAL:g}x)  {verdict}"
    )
    verdict = "ok" if ours.peak_mb < PEAK_GOAL_MB else "ABOVE GOAL"
    print(
        f"peak memory of the project:       {ours.peak_mb:5.0f} MB "
        f"(goal < {PEAK_GOAL_MB} MB) {verdict}"
    )
    rounds = -(-len(paths) // 2)
    print(
        f"\nBulk import of the {len(paths)} camera files (clean_upload + make_renditions):\n"
        f"  one by one {bulk.one_by_one:.2f} s, process pool of 2 {bulk.pool_of_two:.2f} s: "
        f"{bulk.one_by_one / bulk.pool_of_two:.2f}x faster\n  (expected about "
        f"{len(paths) / rounds:.2f}x: {len(paths)} files on 2 processes take {rounds} rounds "
        f"instead of {len(paths)})"
    )


if __name__ == "__main__":
    main()
