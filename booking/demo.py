"""The demo content a fresh install starts with: the exhibition's two sets and the training."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.models import Offering, Unit
from core.database import begin_write

DEMO_OFFERINGS = [
    {
        "slug": "expo-interieure",
        "kind": "exhibition",
        "venue_setting": "indoor",
        "title_fr": "Exposition photo : pepenadores et valoristes — version intérieure",
        "title_en": "Photo exhibition: pepenadores and valoristes — indoor set",
        "description_fr": (
            "Les portraits de Benoit Taillefer des récupératrices et récupérateurs de déchets "
            "du Mexique (pepenadores) et du Québec (valoristes), encadrés pour les salles "
            "syndicales, les congrès et les bibliothèques. Livrée en caisses, avec deux jours "
            "de transport et de montage avant et après."
        ),
        "description_en": (
            "Benoit Taillefer's portraits of waste pickers from Mexico (pepenadores) and "
            "Québec (valoristes), framed for union halls, conventions and libraries. Shipped "
            "in crates, with two days of transit and set-up before and after."
        ),
        "buffer_before_days": 2,
        "buffer_after_days": 2,
        "min_days": 3,
        "max_days": 42,
        "lead_days": 21,
        "units": ["Caisse A", "Caisse B"],
    },
    {
        "slug": "expo-exterieure",
        "kind": "exhibition",
        "venue_setting": "outdoor",
        "title_fr": "Exposition photo : pepenadores et valoristes — version extérieure",
        "title_en": "Photo exhibition: pepenadores and valoristes — outdoor set",
        "description_fr": (
            "Les mêmes portraits en grand format sur panneaux résistants aux intempéries, "
            "comme près de la Place Émilie-Gamelin. Trois jours d'installation avant et après."
        ),
        "description_en": (
            "The same portraits, large and on weatherproof panels, as shown near Place "
            "Émilie-Gamelin. Three days of installation before and after."
        ),
        "buffer_before_days": 3,
        "buffer_after_days": 3,
        "min_days": 7,
        "max_days": 90,
        "lead_days": 30,
        "units": ["Panneaux extérieurs"],
    },
    {
        "slug": "formation-bd-textile",
        "kind": "training",
        "venue_setting": None,
        "title_fr": "Formation : la bande dessinée sur l'industrie textile",
        "title_en": "Training: the comic about the textile industry",
        "description_fr": (
            "Une journée de formation autour de la bande dessinée de Chloloula sur la "
            "mondialisation du textile, du Québec au Mexique et au Bangladesh, et sur la "
            "solidarité avec les travailleuses de la fast fashion."
        ),
        "description_en": (
            "A one-day training built on Chloloula's comic about the globalized textile "
            "industry, from Québec to Mexico and Bangladesh, and on solidarity with fast "
            "fashion's workers."
        ),
        "buffer_before_days": 0,
        "buffer_after_days": 0,
        "min_days": 1,
        "max_days": 1,
        "lead_days": 14,
        "closed_on_holidays": True,  # the trainers do not work on statutory holidays
        "units": ["Équipe de formation 1", "Équipe de formation 2"],
    },
]


def seed_demo_offerings(session: Session) -> bool:
    """Add the demo offerings to an empty database; returns whether anything was added."""
    begin_write(session)
    if session.scalar(select(func.count()).select_from(Offering)):
        session.rollback()
        return False
    for position, data in enumerate(DEMO_OFFERINGS):
        fields = {key: value for key, value in data.items() if key != "units"}
        offering = Offering(**fields, position=position, active=True)
        offering.units = [
            Unit(name=name, position=index, active=True) for index, name in enumerate(data["units"])
        ]
        session.add(offering)
    try:
        session.commit()
    except IntegrityError:  # another process seeded first (PostgreSQL)
        session.rollback()
        return False
    return True
