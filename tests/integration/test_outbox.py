"""`make run`'s mail (MAIL_OUTBOX): what the API would have emailed lands in the local
outbox with links that work. A forgotten password is reset by following the link read in
the outbox page; a buyer's "email me my link" and a parcel's email land there too."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chalicelib.accounts import auth
from chalicelib.platform import config
from chalicelib.tracking import tracking
from tests.factories import make_customer, make_order

SITE = "https://shop.example.test"  # PUBLIC_SITE_URL of the tests (tests/conftest.py)
NEW_PASSWORD = "violet teapot harbour 9"


@pytest.fixture
def outbox(api, tmp_path, monkeypatch):
    """MAIL_OUTBOX set as `make run` sets it, and no SES sender: nothing may reach SES."""
    folder = tmp_path / "outbox"
    monkeypatch.setenv("MAIL_OUTBOX", str(folder))
    monkeypatch.setenv("SES_SENDER", "")
    monkeypatch.setattr(auth, "RESET_FLOOR_SECONDS", 0.0)
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)
    config.reset_settings()
    yield folder
    config.reset_settings()


def listed(folder: Path) -> list[tuple[str, str]]:
    """(page, subject) of each entry of the outbox's index, in its order."""
    index = (folder / "index.html").read_text()
    return re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', index)


def link_in(folder: Path, page: str) -> str:
    """The one link of a message page's text part, as the seller would click it."""
    text = (folder / page).read_text().split('<div class="text">', 1)[1].split("</div>", 1)[0]
    (href,) = set(re.findall(r'<a href="([^"]+)">', text))
    return href


def test_a_password_reset_is_finished_from_the_outbox(api, outbox, capsys):
    seller = "owner-outbox@example.com"
    api.signup(email=seller)
    assert api.post("/auth/password-reset/request", {"email": seller}).status == 202
    assert api.post("/auth/password-reset/request", {"email": "nobody@example.com"}).status == 202

    ((page, subject),) = listed(outbox)  # the unknown address got nothing
    assert subject == "Tokyo Picks：重設密碼"
    assert seller in (outbox / page).read_text()
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("mail to ")]
    assert line == f"mail to o***@example.com: Tokyo Picks：重設密碼 → {outbox / page}"
    assert "reset=" not in line

    link = urlsplit(link_in(outbox, page))
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{SITE}/index.html"
    token = link.fragment.removeprefix("reset=")
    assert api.post("/auth/password-reset", {"token": token, "new_password": NEW_PASSWORD}).status == 204
    login = api.post("/auth/login", {"email": seller, "password": NEW_PASSWORD})
    assert login.status == 200 and login.json["token"]
    # Only the newest link works: a second request makes a second message, newest first.
    api.post("/auth/password-reset/request", {"email": seller})
    (newest, _), (oldest, _) = listed(outbox)
    assert (newest, oldest) == ("000002.html", "000001.html")
    assert link_in(outbox, newest) != link_in(outbox, oldest)


def test_a_buyers_link_and_a_parcel_email_land_in_the_outbox(api, token, outbox):
    shop = api.get("/auth/me", token=token).json["shop_slug"]
    buyer = make_customer(api, token, name="<b>林志明</b>", email="lin@example.com")
    order = make_order(api, token, customer_id=buyer["id"], item_name="東京ばな奈")
    r = api.post("/track/request-link", {"shop_slug": shop, "email": "LIN@example.com"})
    assert r.status == 202
    ((page, subject),) = listed(outbox)
    assert subject == "Tokyo Picks：您的訂單追蹤連結"
    html = (outbox / page).read_text()
    assert "&lt;b&gt;林志明&lt;/b&gt;" in html and "<b>林志明" not in html  # the name is escaped
    link = urlsplit(link_in(outbox, page))
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{SITE}/track.html"
    tracked = api.get(f"/track/{link.fragment}")
    assert tracked.status == 200
    assert [o["order_no"] for o in tracked.json["orders"]] == [order["order_no"]]

    # An event email (parcel shipped) is no longer dropped locally: it is in the outbox.
    parcel = {"customer_id": buyer["id"], "order_ids": [order["id"]], "method": "home"}
    assert api.post("/parcels", parcel, token=token).status == 201
    (shipped, shipped_subject), _ = listed(outbox)
    assert shipped_subject == f"Tokyo Picks：您的包裹已出貨（#{order['order_no']}）"
    assert api.get(f"/track/{urlsplit(link_in(outbox, shipped)).fragment}").status == 200
