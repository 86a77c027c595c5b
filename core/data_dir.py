"""The data dir on disk: created private to the app's user at start, with the generated key."""

from __future__ import annotations

import logging
import os
import secrets
import time
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
KEY_FILE = "secret_key"

log = logging.getLogger(__name__)


def prepare(data_dir: Path) -> None:
    """Made, or kept, readable by the app's user alone."""
    data_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    keep_private(data_dir, PRIVATE_DIR_MODE)


def keep_private(path: Path, mode: int) -> None:
    """Give an existing file or folder the app's private mode; one that someone else owns
    keeps the mode its owner chose (logged)."""
    try:
        path.chmod(mode)
    except PermissionError:
        log.warning("could not make %s private to the app's user", path)


def secret_key(data_dir: Path) -> str:
    """Keep one generated key in the data dir so sessions survive restarts and every
    process sharing the data dir signs cookies the same way."""
    key_file = data_dir / KEY_FILE
    try:
        # O_EXCL: of processes starting together, exactly one writes the key.
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as key:
            key.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another process may have created it and not written it yet
        key = key_file.read_text().strip()
        if key:
            return key
        time.sleep(0.05)
    raise RuntimeError(f"{key_file} is empty; delete it and start again")
