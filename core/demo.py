"""Demo content: what each feature puts into an empty database when AMBULANTE_SEED_DEMO is on."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy.orm import Session

from core.database import session_for

SEEDS = "ambulante_demo_seeds"

Seed = Callable[[Session], object]


def add_demo_content(app: Flask, seed: Seed) -> None:
    """`seed(session)` must add nothing when its content is already there."""
    app.extensions.setdefault(SEEDS, []).append(seed)


def seed_demo_content(app: Flask) -> None:
    for seed in app.extensions.get(SEEDS, []):
        with session_for(app) as session:
            seed(session)
