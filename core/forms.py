"""What the features' forms share: a rule's messages shown on the fields they are about."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm


class RuleCheckedForm(FlaskForm):
    """A form whose fields are also checked by a feature's rules (a service function that
    names each field it finds wrong), so that every field says what is wrong at once."""

    def attach(self, errors: Mapping[str, Any]) -> None:
        """Each rule's message on its field, unless the field already says what is wrong."""
        for name, message in errors.items():
            field = self[name]
            if not field.errors:
                field.errors = [*field.errors, str(message)]
