"""Image files in the data dir, named by the hash of their content: a file never changes
under its name, so any process on the same data dir serves it, and browsers keep it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from core.data_dir import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE

MEDIA_DIR = "media"
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
FORMATS_BY_EXTENSION = {extension: image_format for image_format, extension in EXTENSIONS.items()}
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def file_name(sha256: str, image_format: str) -> str:
    return f"{sha256}.{EXTENSIONS[image_format]}"


def path_of(data_dir: Path, sha256: str, image_format: str) -> Path:
    """Spread over 256 folders by the hash's first two characters."""
    return data_dir / MEDIA_DIR / sha256[:2] / file_name(sha256, image_format)


def store(data_dir: Path, sha256: str, image_format: str, data: bytes) -> Path:
    """Write once, atomically (a reader never sees half a file), private to the app's user.
    A file already there has the same content: it is kept as it is."""
    path = path_of(data_dir, sha256, image_format)
    if path.exists():
        return path
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    (data_dir / MEDIA_DIR).chmod(PRIVATE_DIR_MODE)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, PRIVATE_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read(data_dir: Path, sha256: str, image_format: str) -> bytes:
    return path_of(data_dir, sha256, image_format).read_bytes()


def remove(data_dir: Path, sha256: str, image_format: str) -> None:
    path_of(data_dir, sha256, image_format).unlink(missing_ok=True)
