"""The kiosk's and the visitor page's own words in the three caption languages: they follow
the caption on screen (Spanish included), not the site's French and English interface."""

from __future__ import annotations

from media.models import LANGUAGES

# What the slideshow shows (sent in every screen's bundle).
WORDS: dict[str, dict[str, str]] = {
    "scan": {
        "fr": "Scannez avec votre téléphone",
        "es": "Escanee con su teléfono",
        "en": "Scan with your phone",
    },
    "story": {"fr": "Lire son histoire", "es": "Leer su historia", "en": "Read their story"},
    "photo": {"fr": "Photo : {credit}", "es": "Foto: {credit}", "en": "Photo: {credit}"},
}

# What only the visitor page and its "nothing here" page say, on a phone.
VISITOR_WORDS: dict[str, dict[str, str]] = {
    "heading": {
        "fr": "Un portrait de l'exposition Ambulante",
        "es": "Un retrato de la exposición Ambulante",
        "en": "A portrait from the Ambulante exhibition",
    },
    "support": {
        "fr": "Soutenir le centre",
        "es": "Apoyar al centro",
        "en": "Support the centre",
    },
    "share": {
        "fr": "Montrez ce portrait à quelqu'un",
        "es": "Muestre este retrato a alguien",
        "en": "Show this portrait to a friend",
    },
    "share_hint": {
        "fr": "Ce code mène à cette page.",
        "es": "Este código lleva a esta página.",
        "en": "This code leads to this page.",
    },
    "share_alt": {
        "fr": "Code QR de cette page",
        "es": "Código QR de esta página",
        "en": "QR code of this page",
    },
    "other_languages": {
        "fr": "Autres langues",
        "es": "Otros idiomas",
        "en": "Other languages",
    },
    "home": {
        "fr": "Ambulante : l'exposition et la formation du centre",
        "es": "Ambulante: la exposición y la formación del centro",
        "en": "Ambulante: the centre's exhibition and training",
    },
    "code_gone": {
        "fr": "Ce code ne mène plus nulle part",
        "es": "Este código ya no lleva a ninguna parte",
        "en": "This code leads nowhere now",
    },
    "code_gone_why": {
        "fr": "L'exposition qui l'affichait est peut-être repartie.",
        "es": "Es posible que la exposición que lo mostraba se haya ido.",
        "en": "The exhibition that showed it may have moved on.",
    },
    "portrait_gone": {
        "fr": "Ce portrait n'est pas présenté",
        "es": "Este retrato no se presenta",
        "en": "This portrait is not shown",
    },
    "portrait_gone_why": {
        "fr": "Il a peut-être été retiré de l'exposition, ou l'adresse est incomplète.",
        "es": "Quizás fue retirado de la exposición, o la dirección está incompleta.",
        "en": "It may have been withdrawn from the exhibition, or the address is incomplete.",
    },
    "still_here": {
        "fr": "Les pages du centre sont toujours là :",
        "es": "Las páginas del centro siguen aquí:",
        "en": "The centre's pages are still here:",
    },
    "exhibition": {
        "fr": "L'exposition et la formation",
        "es": "La exposición y la formación",
        "en": "The exhibition and the training",
    },
    "signup": {
        "fr": "S'abonner à l'infolettre",
        "es": "Suscribirse al boletín",
        "en": "Subscribe to the newsletter",
    },
    "donate_centre": {
        "fr": "Faire un don au centre",
        "es": "Donar al centro",
        "en": "Donate to the centre",
    },
}

# Each language named in itself, as a switch between them shows it.
LANGUAGE_NAMES = {"fr": "Français", "es": "Español", "en": "English"}


def words_in(language: str) -> dict[str, str]:
    """Every phrase of the slideshow in one language (French when the language is not one
    of the three)."""
    return _in(WORDS, language)


def visitor_words_in(language: str) -> dict[str, str]:
    """The slideshow's phrases and the visitor page's own, in one language."""
    return {**words_in(language), **_in(VISITOR_WORDS, language)}


def _in(words: dict[str, dict[str, str]], language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    return {key: phrases[language] for key, phrases in words.items()}
