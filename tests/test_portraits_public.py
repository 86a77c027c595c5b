"""What the public sees of the portraits: a few on the booking pages through srcset, each at
its own page, files at fingerprinted addresses kept a year by browsers; and nothing at all,
anywhere, of a portrait whose consent is withdrawn or expired."""

from __future__ import annotations

import datetime as dt
import re
import urllib.request

import pytest
from sqlalchemy import select

from core.clock import now_utc
from media import jobs
from media.ingest import clean_upload
from media.models import PortraitState, RenditionJob
from media.portraits import PortraitText, add_portrait
from tests.factories import picture, portrait_with_sizes
from tests.servers import HOST

EN = {"Accept-Language": "en"}


def _image_urls(page: str) -> list[str]:
    return sorted(set(re.findall(r"/media/[0-9a-f]{64}\.(?:jpg|webp)", page)))


def test_a_portraits_page_offers_every_size_and_the_phone_takes_the_small_one(app, client, session):
    portrait = portrait_with_sizes(app, session)
    page = client.get(f"/p/{portrait.slug}", headers=EN).get_data(as_text=True)
    assert "A valoriste at the depot." in page and 'lang="es"' in page
    assert "Photo: Photographe de test" in page and 'alt="A woman pushes a cart"' in page
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)"', page)
    widths = [int(w) for w in re.findall(r" (\d+)w", webp[1])]
    assert widths == [480, 960, 1920]  # 2400 wide: no 3840, never upscaled
    assert "100vw" in webp[2]
    for url in _image_urls(page):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.mimetype in ("image/webp", "image/jpeg")


def test_the_home_page_and_the_exhibition_show_a_few_published_portraits(app, client, session):
    hidden = portrait_with_sizes(
        app, session, PortraitText(caption_en="Not published yet", published=False), colour="red"
    )
    home = client.get("/", headers=EN).get_data(as_text=True)
    assert "From the exhibition" in home and "srcset=" in home
    assert f"/p/{hidden.slug}" not in home
    exhibition = client.get("/offerings/expo-interieure", headers=EN).get_data(as_text=True)
    assert "Some of the portraits" in exhibition
    training = client.get("/offerings/formation-bd-textile", headers=EN).get_data(as_text=True)
    assert "Some of the portraits" not in training


@pytest.mark.parametrize(
    "consent",
    [
        {"consent_withdrawn_on": dt.date(2026, 1, 5)},
        {"consent_valid_until": dt.date(2021, 12, 31)},
        {"consent_given_on": None},
    ],
    ids=["withdrawn", "expired", "never given"],
)
def test_a_portrait_without_consent_is_nowhere_for_the_public(app, client, session, consent):
    portrait = portrait_with_sizes(app, session, colour="navy")
    page = client.get(f"/p/{portrait.slug}").get_data(as_text=True)
    urls = _image_urls(page)
    assert urls and f"/p/{portrait.slug}" in client.get("/").get_data(as_text=True)

    session.rollback()  # the page made the default screen's links since this session read
    for name, value in consent.items():
        setattr(portrait, name, value)
    session.commit()

    assert client.get(f"/p/{portrait.slug}").status_code == 404
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert f"/p/{portrait.slug}" not in client.get("/").get_data(as_text=True)
    assert portrait.slug not in client.get("/offerings/expo-interieure").get_data(as_text=True)


def test_a_file_address_that_names_no_public_image_is_not_found(client):
    for path in (
        "/media/" + "0" * 64 + ".jpg",
        "/media/" + "A" * 64 + ".webp",
        "/media/short.jpg",
        "/media/" + "0" * 64 + ".gif",
        "/media/" + "0" * 64 + ".png",
    ):
        assert client.get(path).status_code == 404, path


def test_a_portrait_is_processing_until_its_sizes_are_made(app, client, session):
    portrait = add_portrait(
        session,
        app.config["DATA_DIR"],
        clean_upload(picture(colour="olive")),
        "t",
        now_utc(),
        PortraitText(published=True, consent_given_on=dt.date(2020, 1, 1)),
    )
    session.commit()
    assert portrait.state == PortraitState.PROCESSING
    assert client.get(f"/p/{portrait.slug}").status_code == 404  # nothing to show yet
    assert jobs.work_due_jobs(session, app.config["DATA_DIR"], now_utc()) == 1
    session.refresh(portrait)
    assert portrait.state == PortraitState.READY
    assert {(r.width, r.format) for r in portrait.renditions} == {
        (w, f) for w in (480, 960, 1920) for f in ("webp", "jpeg")
    }
    assert jobs.work_due_jobs(session, app.config["DATA_DIR"], now_utc()) == 0


def test_a_failing_job_is_tried_again_then_the_portrait_says_why(app, session, monkeypatch):
    portrait = add_portrait(
        session, app.config["DATA_DIR"], clean_upload(picture(colour="maroon")), "t", now_utc()
    )
    session.commit()

    def broken(_original: bytes):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "make_renditions", broken)
    moment = now_utc()
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        jobs.work_due_jobs(session, app.config["DATA_DIR"], moment)
        job = session.scalar(select(RenditionJob).where(RenditionJob.portrait_id == portrait.id))
        assert job.attempts == attempt
        assert jobs.work_due_jobs(session, app.config["DATA_DIR"], moment) == 0  # waits first
        moment += dt.timedelta(hours=1)
    session.refresh(portrait)
    assert portrait.state == PortraitState.FAILED and "disk full" in portrait.failure


def test_two_workers_never_make_the_same_portrait_twice(app, session):
    portrait = add_portrait(
        session, app.config["DATA_DIR"], clean_upload(picture(colour="gold")), "t", now_utc()
    )
    session.commit()
    job = session.scalar(select(RenditionJob).where(RenditionJob.portrait_id == portrait.id))
    moment = now_utc()
    assert jobs._claim(session, job.id, moment)  # noqa: SLF001 - the claim is the rule here
    assert not jobs._claim(session, job.id, moment)  # noqa: SLF001


def test_a_second_process_on_the_same_data_dir_serves_the_same_files(shared_database, start_server):
    first, second = start_server(shared_database, "a"), start_server(shared_database, "b")
    home = urllib.request.urlopen(f"http://{HOST}:{first}/", timeout=10).read().decode()
    urls = _image_urls(home)
    assert urls, "the demo portraits are on the home page"
    for url in urls[:4]:
        from_first = urllib.request.urlopen(f"http://{HOST}:{first}{url}", timeout=10).read()
        from_second = urllib.request.urlopen(f"http://{HOST}:{second}{url}", timeout=10).read()
        assert from_first == from_second and len(from_first) > 1000


def test_a_job_its_workers_die_on_is_shown_failed_not_processing_for_ever(app, session):
    portrait = add_portrait(
        session, app.config["DATA_DIR"], clean_upload(picture(colour="plum")), "t", now_utc()
    )
    session.commit()
    job = session.scalar(select(RenditionJob).where(RenditionJob.portrait_id == portrait.id))
    moment = now_utc()
    for _try in range(jobs.MAX_ATTEMPTS):  # each time a worker claims it, then dies
        assert jobs._claim(session, job.id, moment)  # noqa: SLF001
        moment += dt.timedelta(seconds=jobs.CLAIM_SECONDS + 1)
    assert jobs.work_due_jobs(session, app.config["DATA_DIR"], moment) == 0
    session.refresh(portrait)
    assert portrait.state == PortraitState.FAILED and "worker stopped" in portrait.failure
