from __future__ import annotations

import pytest

from tests.scratch_review11_fuzz import test_fuzz, test_fixed_length_far_dates, test_fuzz_posts, test_private_and_lost  # noqa


@pytest.fixture
def app(fresh_app, postgres_url):
    return fresh_app(DATABASE_URL=postgres_url, SEED_DEMO=True)
