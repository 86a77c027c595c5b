"""A photographer's delivery imported from a folder: every image in, a file that is not one
reported with its reason, nothing imported twice, and the captions file applied (or refused,
saying why)."""

from __future__ import annotations

import datetime as dt
import io
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.app import PROJECT_ROOT
from media import library_service
from media.library_service import CSV_COLUMNS, read_captions
from media.models import Portrait, PortraitState

NOT_AN_IMAGE = "This file is not a JPEG, PNG or WebP image."
EXAMPLE = PROJECT_ROOT / "examples" / "portraits-captions.csv"
HEADER = ",".join(CSV_COLUMNS)


def image_bytes(colour: tuple[int, int, int], image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(buffer, image_format)
    return buffer.getvalue()


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    """Three images (JPEG, PNG, WebP, one named as something else) and the photographer's
    notes."""
    folder = tmp_path / "livraison"
    folder.mkdir()
    (folder / "rosa.jpg").write_bytes(image_bytes((180, 40, 40), "JPEG"))
    (folder / "marc.png").write_bytes(image_bytes((40, 180, 40), "PNG"))
    (folder / "lupita.dat").write_bytes(image_bytes((40, 40, 180), "WEBP"))
    (folder / "notes.txt").write_text("Trois portraits, livrés le 3 mars.\n", encoding="utf-8")
    (folder / "sous-dossier").mkdir()  # not a file: not tried
    return folder


def captions_file(tmp_path: Path, *rows: str, header: str = HEADER, bom: bool = False) -> Path:
    path = tmp_path / "legendes.csv"
    path.write_text(("\ufeff" if bom else "") + "\n".join([header, *rows]) + "\n", "utf-8")
    return path


@pytest.fixture
def already(session) -> set[int]:
    """The portraits in the library before the import (the demo's)."""
    return set(session.scalars(select(Portrait.id)))


def imported(session, already: set[int]) -> dict[str, Portrait]:
    """The portraits the import added, by place (or slug)."""
    session.commit()
    session.expire_all()
    return {
        portrait.place or portrait.slug: portrait
        for portrait in session.scalars(select(Portrait).where(Portrait.id.not_in(already)))
    }


def count(session) -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(Portrait))


def run_import(runner, folder: Path, *options: str):
    return runner.invoke(args=["portraits", "import", str(folder), *options])


def test_staff_import_a_delivery_twice_and_the_second_time_imports_nothing(
    runner, session, delivery, already
):
    before = count(session)

    first = run_import(runner, delivery)

    assert first.exit_code == 0, first.output
    assert "Imported 3, skipped 0, refused 1." in first.output
    assert f"refused   notes.txt  {NOT_AN_IMAGE}" in first.output
    for name in ("rosa.jpg", "marc.png", "lupita.dat"):
        assert f"imported  {name}  as p-" in first.output
    assert count(session) == before + 3
    new = list(imported(session, already).values())
    assert all(p.state == PortraitState.PROCESSING and not p.published for p in new)

    second = run_import(runner, delivery)

    assert second.exit_code == 0, second.output
    assert "Imported 0, skipped 3, refused 1." in second.output
    for portrait in new:
        assert f"already in the library as {portrait.slug}" in second.output
    assert f"refused   notes.txt  {NOT_AN_IMAGE}" in second.output
    assert count(session) == before + 3


def test_staff_import_with_captions_and_each_portrait_gets_its_own(
    runner, session, delivery, tmp_path, already
):
    captions = captions_file(
        tmp_path,
        "rosa.jpg,Rosa trie le carton.,Rosa separa cartón.,Rosa sorts cardboard.,"
        "Une femme porte un sac.,Una mujer carga un costal.,A woman carries a sack.,"
        "Ciudad de México,México,Ana Lucía Herrera,2025-02-14,2027-02-13",
        'marc.png,"Marc, à l\'aube.",,,,,,Montréal,Canada,,2025-03-03,',
        "fantome.jpg,Personne,,,,,,,,,,",
        bom=True,
    )

    result = run_import(runner, delivery, "--captions", str(captions))

    assert result.exit_code == 0, result.output
    assert "Imported 3, skipped 0, refused 1." in result.output
    assert "Captions file, row 4: fantome.jpg is not in the folder." in result.output
    by_place = imported(session, already)
    rosa = by_place["Ciudad de México"]
    assert (rosa.caption_fr, rosa.caption_es, rosa.caption_en) == (
        "Rosa trie le carton.",
        "Rosa separa cartón.",
        "Rosa sorts cardboard.",
    )
    assert rosa.alt_en == "A woman carries a sack." and rosa.credit == "Ana Lucía Herrera"
    assert rosa.consent_given_on == dt.date(2025, 2, 14)
    assert rosa.consent_valid_until == dt.date(2027, 2, 13)
    assert not rosa.published  # staff publish after checking consent
    marc = by_place["Montréal"]
    assert marc.caption_fr == "Marc, à l'aube." and marc.consent_valid_until is None
    assert len(by_place) == 3  # lupita.dat, without a row, comes in without captions


def test_a_captions_file_with_an_unknown_column_is_refused_and_nothing_is_imported(
    runner, session, delivery, tmp_path
):
    before = count(session)
    captions = captions_file(
        tmp_path, "rosa.jpg,Rosa,Ciudad de México", header="file,caption_fr,lieu"
    )

    result = run_import(runner, delivery, "--captions", str(captions))

    assert result.exit_code == 1
    assert "legendes.csv has unknown columns: lieu." in result.output
    assert "The columns are: file, caption_fr," in result.output
    assert "Nothing was imported." in result.output
    assert count(session) == before


@pytest.mark.parametrize(
    "row, reason",
    [
        (
            "rosa.jpg,Rosa,,,,,,,,,2025-02-30,",
            "consent_given_on: '2025-02-30' is not a date (YYYY-MM-DD)",
        ),
        ("rosa.jpg,Rosa,,,,,,,,,14/02/2025,", "consent_given_on: '14/02/2025' is not a date"),
        (
            "rosa.jpg,Rosa,,,,,,,,,2025-02-14,2024-02-14",
            "consent_valid_until: Consent cannot end before the day it was given.",
        ),
        ("rosa.jpg,Rosa,,,,,,,Paris\x0bFrance,,,", "country: This is one line"),
    ],
    ids=["no such day", "not ISO", "ends before given", "control character"],
)
def test_a_row_breaking_a_rule_refuses_its_file_with_the_reason(
    runner, session, delivery, tmp_path, row, reason
):
    before = count(session)
    captions = captions_file(tmp_path, row)

    result = run_import(runner, delivery, "--captions", str(captions))

    assert result.exit_code == 0, result.output
    assert "Imported 2, skipped 0, refused 2." in result.output
    assert "refused   rosa.jpg  row 2 of the captions file: " in result.output
    assert reason in result.output
    assert count(session) == before + 2
    # Once the row is right, the file comes in (nothing of it was kept meanwhile).
    fixed = captions_file(tmp_path, "rosa.jpg,Rosa,,,,,,,,,2025-02-14,")
    again = run_import(runner, delivery, "--captions", str(fixed))
    assert "Imported 1, skipped 2, refused 1." in again.output


def test_a_captions_file_that_is_not_utf8_is_refused(runner, session, delivery, tmp_path):
    path = tmp_path / "legendes.csv"
    path.write_bytes(f"{HEADER}\nrosa.jpg,Légende\n".encode("cp1252"))

    result = run_import(runner, delivery, "--captions", str(path))

    assert result.exit_code == 1
    assert "legendes.csv is not UTF-8 text" in result.output


def test_the_example_captions_file_reads_in_three_languages():
    captions = read_captions(EXAMPLE, dt.date(2026, 1, 1))

    assert captions.refused == {} and captions.problems == []
    assert len(captions.texts) == 3
    for text in captions.texts.values():
        assert text.caption_fr and text.caption_es and text.caption_en
        assert text.alt_fr and text.consent_given_on is not None


def test_staff_import_and_make_the_sizes_at_once(runner, session, delivery, already):
    result = run_import(runner, delivery, "--work")

    assert result.exit_code == 0, result.output
    assert "Made the sizes of 3 portraits." in result.output
    new = imported(session, already).values()
    assert all(p.state == PortraitState.READY and p.renditions for p in new)


def test_the_images_are_cleaned_by_one_process_per_core(runner, delivery, monkeypatch):
    pools = []

    class CountingPool(ProcessPoolExecutor):
        def __init__(self, max_workers: int) -> None:
            super().__init__(max_workers=max_workers)
            self.workers, self.cleaned = max_workers, 0
            pools.append(self)

        def submit(self, *args, **kwargs):
            self.cleaned += 1
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(library_service, "ProcessPoolExecutor", CountingPool)

    result = run_import(runner, delivery)

    assert "Imported 3, skipped 0, refused 1." in result.output
    (pool,) = pools
    assert pool.workers == os.cpu_count() and pool.cleaned == 4
