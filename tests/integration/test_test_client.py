"""The API client of the tests (tests/conftest.local_client) under requests at once: the
race tests send them from many threads, and no setting of one test may outlive it (a mail
sender left behind made the next test's handlers read the shop for an email)."""

from __future__ import annotations

import os

from tests.conftest import ENVIRON, at_once


def test_requests_whose_patches_overlap_put_the_environment_back(api):
    """Two requests in threads: A starts, B starts, A ends, B ends."""
    patch = api.client.http._patched_env_vars
    a, b = patch({}), patch({})
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)
    b.__exit__(None, None, None)
    assert os.environ is ENVIRON


def test_a_setting_of_a_test_ends_with_it_after_requests_at_once(api, monkeypatch):
    monkeypatch.setenv("SES_SENDER", "noreply@shop.example.test")
    statuses = at_once([lambda: api.get("/health").status for _ in range(8)])
    assert statuses == [200] * 8
    assert os.environ is ENVIRON
    monkeypatch.undo()
    assert "SES_SENDER" not in os.environ
