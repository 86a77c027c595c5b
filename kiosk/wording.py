"""The kiosk's and the visitor page's own words in the three caption languages: they follow
the caption on screen (Spanish included), not the site's French and English interface."""

from __future__ import annotations

from media.models import LANGUAGES

WORDS: dict[str, dict[str, str]] = {
    "scan": {
        "fr": "Scannez avec votre téléphone",
        "es": "Escanee con su teléfono",
        "en": "Scan with your phone",
    },
    "donate": {"fr": "Faire un don", "es": "Donar", "en": "Donate"},
    "signup": {
        "fr": "S'abonner à l'infolettre",
        "es": "Suscribirse al boletín",
        "en": "Subscribe to the newsletter",
    },
    "story": {"fr": "Lire son histoire", "es": "Leer su historia", "en": "Read their story"},
    "photo": {"fr": "Photo : {credit}", "es": "Foto: {credit}", "en": "Photo: {credit}"},
}


def words_in(language: str) -> dict[str, str]:
    """Every phrase in one language (French when the language is not one of the three)."""
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    return {key: phrases[language] for key, phrases in WORDS.items()}
