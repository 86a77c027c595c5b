"""Protections a union never sees but relies on: headers, CSRF, JSON only, no inline script."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from core.limits import limiter
from tests.factories import api_body, form_data

STATIC = Path(__file__).resolve().parent.parent / "static"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


@pytest.mark.parametrize(
    "path", ["/", "/offerings/expo-interieure", "/book/expo-interieure", "/nowhere"]
)
def test_every_html_page_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_no_template_has_inline_script_or_hx_on():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert "hx-on" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template


def test_vendored_htmx_is_the_pinned_release():
    digest = hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest()
    assert digest == HTMX_SHA256
    assert HTMX_SHA256 in (STATIC / "VENDORED.md").read_text()


def test_htmx_is_served_by_the_app_itself(client):
    with client.get("/static/htmx.min.js") as response:
        assert response.status_code == 200
        assert b"htmx" in response.data[:200]


def test_a_form_without_its_csrf_token_is_refused(client, session):
    response = client.post(
        "/book/expo-interieure", data=form_data(), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_the_api_takes_only_json(client):
    response = client.post(
        "/api/v1/bookings",
        data="offering=expo-interieure",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert "application/json" in response.get_json()["error"]


def test_api_errors_are_json_and_site_errors_are_pages(client):
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.is_json
    site = client.get("/nothing-here")
    assert site.status_code == 404 and site.mimetype == "text/html"


def test_language_switch_never_redirects_to_another_site(client):
    response = client.get("/lang/en?next=https://evil.example/")
    assert response.headers["Location"] == "/"
    response = client.get("/lang/en?next=//evil.example/")
    assert response.headers["Location"] == "/"


def test_behind_https_pages_ask_browsers_to_stay_on_https(app, client):
    app.config["PUBLIC_URL"] = "https://ambulante.example.org"
    assert "max-age" in client.get("/").headers["Strict-Transport-Security"]


def test_behind_a_trusted_proxy_each_union_has_its_own_rate_limit(fresh_app, monkeypatch):
    monkeypatch.setenv("AMBULANTE_TRUSTED_PROXIES", "1")
    client = fresh_app(RATELIMIT_BOOKING="1/hour").test_client()
    body = {"offering": "expo-interieure"}  # invalid, yet counted by the limit
    one = {"X-Forwarded-For": "203.0.113.1"}
    other = {"X-Forwarded-For": "203.0.113.2"}
    assert client.post("/api/v1/bookings", json=body, headers=one).status_code == 422
    assert client.post("/api/v1/bookings", json=body, headers=one).status_code == 429
    assert client.post("/api/v1/bookings", json=body, headers=other).status_code == 422


def test_the_secret_key_made_on_first_start_is_readable_by_the_app_only(app):
    key_file = app.config["DATA_DIR"] / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()


def test_a_rate_limit_store_that_fails_never_fails_a_union(client, monkeypatch):
    # The memory store's own race between threads (limits 5.8) raised here under load.
    def broken(*_args, **_kwargs):
        raise RuntimeError("threads can only be started once")

    monkeypatch.setattr(limiter.storage, "incr", broken)
    monkeypatch.setattr(limiter.storage, "acquire_entry", broken, raising=False)
    response = client.post("/api/v1/bookings", json=api_body())
    assert response.status_code == 201
