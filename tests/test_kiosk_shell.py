"""The kiosk's shell (its page, script, style and service worker) comes in quickly over a
venue's Wi-Fi, and is all the page needs: everything it loads is kept with the screen's
bundle, and nothing in it is inline (the Content-Security-Policy would block it)."""

from __future__ import annotations

import gzip
import re

SHELL_BUDGET = 60 * 1024  # bytes, gzip-compressed
LOADED = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"')


def _fetched(client, url: str) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    with client.get(url) as answer:  # closed: a static file's answer holds the file open
        return answer.status_code, answer.data


def _loaded_files(page: str) -> list[str]:
    return [url for url in LOADED.findall(page) if not url.startswith("data:")]


def test_kiosk_shell_weighs_under_60_kb_compressed(client):
    page = client.get("/kiosk/")
    assert page.status_code == 200
    files = _loaded_files(page.get_data(as_text=True))
    assert any("kiosk.js" in url for url in files) and any("kiosk.css" in url for url in files)

    bodies = [page.data] + [_fetched(client, url)[1] for url in files + ["/kiosk/sw.js"]]
    sizes = [len(gzip.compress(body)) for body in bodies]

    assert all(bodies), "a file of the shell did not come"
    assert sum(sizes) < SHELL_BUDGET, sizes


def test_kiosk_page_loads_only_what_its_bundle_keeps(client):
    page = client.get("/kiosk/accueil").get_data(as_text=True)
    shell = client.get("/kiosk/accueil/bundle.json").get_json()["shell"]

    assert "/kiosk/accueil" in shell and "/kiosk/" in shell  # the default screen's two addresses
    assert set(_loaded_files(page)) <= set(shell)
    for url in shell:
        assert _fetched(client, url)[0] == 200


def test_kiosk_page_has_no_inline_script_or_style(client):
    page = client.get("/kiosk/").get_data(as_text=True)

    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None
    assert "<style" not in page and " style=" not in page
    assert re.search(r"\son[a-z]+=", page) is None  # no event handler attributes
