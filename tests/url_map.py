"""The app's URL map as tests walk it: a path for every rule, built from real values where a
test has them and plain stand-ins elsewhere, so a new route is walked without a new line."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from core.database import engine_of
from core.staff import guards
from run import create_app

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


@dataclass(frozen=True)
class Route:
    """One rule of the URL map, as a test parameter."""

    rule: str
    endpoint: str
    methods: frozenset[str]
    admin_only: bool

    def __str__(self) -> str:
        return f"{'+'.join(sorted(self.methods))} {self.rule}"

    def in_(self, app: Flask) -> Rule:
        """The same rule in a test's own app."""
        return next(rule for rule in app.url_map.iter_rules() if rule.rule == self.rule)


def every_route() -> list[Route]:
    """Read off an app built once when tests are collected (no database needed): a route
    added to any feature becomes a test case without a line of its own."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "DATA_DIR": Path(folder),
                "DATABASE_URL": f"sqlite:///{folder}/routes.sqlite3",
                "AUTO_MIGRATE": False,
                "SEED_DEMO": False,
            }
        )
        routes = [
            Route(
                rule.rule,
                rule.endpoint,
                frozenset(rule.methods or ()) - {"HEAD", "OPTIONS"},
                guards.is_admin_only(app, rule.endpoint),
            )
            for rule in app.url_map.iter_rules()
        ]
        engine_of(app).dispose()
    return routes
