"""The app's URL map as tests walk it: a path for every rule, built from real values where a
test has them and plain stand-ins elsewhere, so a new route is walked without a new line."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

STAND_INS: dict[str, Any] = {"slug": "expo-interieure", "code": "en"}


def path_of(rule: Rule, values: dict[str, Any]) -> str:
    known = {**STAND_INS, **values}
    arguments = {}
    for name in rule.arguments:
        if name in known:
            arguments[name] = known[name]
        else:
            converter = rule._converters[name]  # noqa: SLF001 - werkzeug keeps them there
            arguments[name] = 1 if isinstance(converter, IntegerConverter) else "x"
    return rule.build(arguments)[1]


def rules(app: Flask, method: str | None = None, prefix: str = "/") -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefix) and (method is None or method in (rule.methods or ()))
    ]
