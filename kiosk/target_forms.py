"""The staff's QR target forms: a new target's name, and any target's labels in the three
caption languages, its address, and whether it is offered."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, URLField

from core.forms import RuleCheckedForm
from kiosk.targets import KEY_MAX_LENGTH, LABEL_MAX_LENGTH, URL_MAX_LENGTH, TargetFields


class _TargetFieldsForm(RuleCheckedForm):
    """What every target has: labels and an address. The target rules (kiosk.targets)
    judge them, and name the field each message is about."""

    label_fr = StringField(_l("Label in French"), render_kw={"maxlength": LABEL_MAX_LENGTH})
    label_es = StringField(_l("Label in Spanish"), render_kw={"maxlength": LABEL_MAX_LENGTH})
    label_en = StringField(_l("Label in English"), render_kw={"maxlength": LABEL_MAX_LENGTH})
    url = URLField(_l("Address of the page"), render_kw={"maxlength": URL_MAX_LENGTH})

    def fields(self) -> TargetFields:
        """What was sent (an absent field reads as empty: the rules say what is missing)."""
        return TargetFields(
            label_fr=self.label_fr.data or "",
            label_es=self.label_es.data or "",
            label_en=self.label_en.data or "",
            url=self.url.data or "",
        )


class NewTargetForm(_TargetFieldsForm):
    """A target staff add: its name gives its key, for good; it is offered from the start."""

    name = StringField(_l("Name"), render_kw={"maxlength": KEY_MAX_LENGTH})


class TargetForm(_TargetFieldsForm):
    """A target's labels, address, and whether it is offered now."""

    active = BooleanField(_l("Offered: its code shows on the screens that chose it"))

    def fields(self) -> TargetFields:
        return replace(super().fields(), active=bool(self.active.data))
