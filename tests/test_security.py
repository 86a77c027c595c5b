"""Protections a union never sees but relies on: headers, CSRF, JSON only, no inline script."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.conftest import form_data

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
    assert headers["Referrer-Policy"] == "no-referrer"


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
