"""The sign-in form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import InputRequired, Length

from core.staff.accounts import PASSWORD_MAX_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[InputRequired(_l("Enter your email.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Enter your password.")),
            Length(max=PASSWORD_MAX_LENGTH, message=_l("Wrong email or password.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
