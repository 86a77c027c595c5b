"""Eight placeholder portraits drawn with Pillow, clearly marked as demo images, with short
sample captions in three languages: a newcomer sees the library, the screens and the visitor
pages working before any real photograph is added."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import now_utc, today_local
from media.ingest import clean_upload
from media.jobs import work_due_jobs
from media.models import Portrait
from media.portraits import AlreadyImported, PortraitText, add_portrait

SIZE = (1200, 1600)  # portrait orientation, as a camera's vertical frame
PEOPLE = [
    # (place, country, colours, French, Spanish, English)
    (
        "Ciudad Juárez",
        "México",
        ((120, 72, 40), (230, 180, 120)),
        "Démo : une pepenadora trie le carton au lever du jour.",
        "Demo: una pepenadora separa el cartón al amanecer.",
        "Demo: a pepenadora sorts cardboard at dawn.",
    ),
    (
        "Montréal",
        "Canada",
        ((30, 70, 110), (150, 200, 230)),
        "Démo : un valoriste rapporte des canettes au dépôt.",
        "Demo: un valoriste lleva latas al depósito.",
        "Demo: a valoriste brings cans to the depot.",
    ),
    (
        "Oaxaca",
        "México",
        ((90, 40, 90), (220, 160, 200)),
        "Démo : une coopérative de recycleuses en assemblée.",
        "Demo: una cooperativa de recicladoras en asamblea.",
        "Demo: a recyclers' cooperative in assembly.",
    ),
    (
        "Québec",
        "Canada",
        ((40, 90, 50), (170, 220, 160)),
        "Démo : un chariot chargé traverse la basse-ville.",
        "Demo: un carrito cargado cruza la ciudad baja.",
        "Demo: a loaded cart crosses the lower town.",
    ),
    (
        "Ciudad de México",
        "México",
        ((110, 60, 20), (240, 200, 90)),
        "Démo : le tri du plastique sous un soleil de plomb.",
        "Demo: la separación del plástico bajo el sol.",
        "Demo: sorting plastic under a hard sun.",
    ),
    (
        "Sherbrooke",
        "Canada",
        ((60, 60, 100), (180, 180, 230)),
        "Démo : une valoriste compte sa journée.",
        "Demo: una valorista cuenta su jornada.",
        "Demo: a valoriste counts the day's work.",
    ),
    (
        "Monterrey",
        "México",
        ((100, 30, 30), (230, 140, 120)),
        "Démo : des sacs de verre attendent le camion.",
        "Demo: bolsas de vidrio esperan el camión.",
        "Demo: bags of glass wait for the truck.",
    ),
    (
        "Gatineau",
        "Canada",
        ((20, 80, 80), (140, 210, 200)),
        "Démo : la pause, entre deux tournées.",
        "Demo: la pausa, entre dos recorridos.",
        "Demo: a break between two rounds.",
    ),
]


def draw_placeholder(number: int, colours: tuple[tuple[int, ...], tuple[int, ...]]) -> bytes:
    """A figure on a gradient, stamped DEMO: plainly not a photograph of anyone."""
    top, bottom = colours
    image = Image.linear_gradient("L").resize(SIZE)
    image = Image.merge(
        "RGB",
        [
            image.point(lambda v, a=a, b=b: a + (b - a) * v // 255)
            for a, b in zip(top, bottom, strict=True)
        ],
    )
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    draw.ellipse((width * 0.35, height * 0.22, width * 0.65, height * 0.45), fill=top)
    draw.rounded_rectangle((width * 0.2, height * 0.48, width * 0.8, height), 120, fill=top)
    font = ImageFont.load_default(size=150)
    draw.text((width / 2, height * 0.1), "DEMO", font=font, fill="white", anchor="mm")
    small = ImageFont.load_default(size=48)
    draw.text(
        (width / 2, height * 0.17),
        f"exemple {number}",  # Pillow's own font has no accented letters
        font=small,
        fill="white",
        anchor="mm",
    )
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def seed_demo_portraits(session: Session, data_dir: Path) -> bool:
    """Add the eight placeholders to an empty library and make their sizes at once."""
    if session.scalar(select(func.count()).select_from(Portrait)):
        session.rollback()
        return False
    today = today_local()
    try:
        _add_placeholders(session, data_dir, today)
    except (AlreadyImported, IntegrityError):  # another process seeded them first
        session.rollback()
        return False
    work_due_jobs(session, data_dir, now_utc())
    return True


def _add_placeholders(session: Session, data_dir: Path, today: dt.date) -> None:
    for number, (place, country, colours, fr, es, en) in enumerate(PEOPLE, start=1):
        text = PortraitText(
            caption_fr=fr,
            caption_es=es,
            caption_en=en,
            alt_fr=f"Image de démonstration {number} : silhouette dessinée, marquée DEMO",
            alt_es=f"Imagen de demostración {number}: silueta dibujada, marcada DEMO",
            alt_en=f"Demo image {number}: a drawn silhouette marked DEMO",
            place=place,
            country=country,
            credit="Ambulante (démo)",
            published=True,
            consent_given_on=today - dt.timedelta(days=1),
        )
        image = clean_upload(draw_placeholder(number, colours))
        add_portrait(session, data_dir, image, None, now_utc(), text)
        session.commit()
