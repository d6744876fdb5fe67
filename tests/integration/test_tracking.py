"""Buyer tracking on both backends: secret links, rotation, isolation, the public page,
"email me my link" through moto's SES, its rate limit, and no user enumeration; the
seller's link and emailed links side by side, listed and revoked one by one."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from urllib.parse import quote

import pymongo
import pytest

from chalicelib.platform import config, db
from chalicelib.tracking import tracking
from tests.factories import make_customer, make_order, make_payment

SITE = "https://shop.example.test"  # PUBLIC_SITE_URL set in conftest
SENDER = "noreply@shop.example.test"
LINK_RE = re.compile(re.escape(SITE) + r"/track\.html#([A-Za-z0-9_-]{43})")
PUBLIC_ORDER_FIELDS = {
    "order_no",
    "item_name",
    "variant_label",  # issue 30: the variant the buyer ordered (黑 / M)
    "quantity",
    "total_amount",
    "paid_amount",
    "balance",
    "payment_status",
    "remitted_at",
    "fulfillment_status",
    "shipped_date",
    "carrier",
    "tracking_number",
    "created_at",
    "photo_url",  # the item's small photo (issue 30): public already on the seller's forms
}
PRIVATE_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


@pytest.fixture(autouse=True)
def no_floor(monkeypatch):
    """The response-time floor is tested on its own; elsewhere it only slows the suite."""
    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.0)


# --- helpers --------------------------------------------------------------------------


def new_link(api, token, customer_id):
    r = api.post(f"/customers/{customer_id}/tracking-link", token=token)
    assert r.status == 201, r
    return r.json


def slug(api, token):
    return api.get("/auth/me", token=token).json["shop_slug"]


def request_link(api, shop_slug, email):
    return api.post("/track/request-link", {"shop_slug": shop_slug, "email": email})


def list_links(api, token, customer_id):
    r = api.get(f"/customers/{customer_id}/tracking-links", token=token)
    assert r.status == 200, r
    return r.json["items"]


def works(api, tok):
    return api.get(f"/track/{tok}").status == 200


def links_in(messages, to):
    found = []
    for m in messages:
        if to in m.destinations["ToAddresses"]:
            (link,) = set(LINK_RE.findall(m.body))  # one link (shown as href and as text)
            found.append(link)
    return found


# --- links and the public page ----------------------------------------------------------


# The seller's own figures: a cost, its currency, the batch's rate, the cost in the shop
# currency and the profit (and their names) are never on a buyer's page.
TRIP = "2026-12 東京"
SELLER_ONLY = ("cost", "profit", "rates", "rates_version", "成本", "利潤", "匯率", TRIP)
# ¥1,537 × 0.2173 = 333.9901 -> NT$333.99; NT$999 - 333.99 = NT$665.01 of profit.
SELLER_NUMBERS = ("1537", "1,537", "JPY", "0.2173", "333.99", "665.01")


def seller_only_in(text: str) -> list[str]:
    """The seller-only words and numbers found in `text` (numbers as whole tokens, so a
    random link token containing "1537" is not one)."""
    found = [w for w in SELLER_ONLY if re.search(rf"(?<![A-Za-z]){re.escape(w)}", text, re.IGNORECASE)]
    found += [n for n in SELLER_NUMBERS if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
    return found


def costed_order(api, token, email, item, **extra):
    """An order with a cost in yen, in a batch with a rate: cost_amount and profit known."""
    assert api.patch(f"/batches/{quote(TRIP)}", {"rates": {"JPY": "0.2173"}}, token=token).status == 200
    o = make_order(
        api,
        token,
        buyer_email=email,
        item_name=item,
        unit_price=999,
        batch=TRIP,
        cost=1537,
        cost_currency="JPY",
        **extra,
    )
    assert (o["cost"], o["cost_currency"], o["cost_amount"], o["profit"]) == (1537, "JPY", 333.99, 665.01)
    return o


def test_link_shows_only_that_buyers_orders_at_that_shop(api, token, other_token):
    a1 = costed_order(
        api, token, "alice@example.com", "Tokyo Banana", buyer_name="Alice", note="owes me lunch"
    )
    a2 = make_order(api, token, buyer_email="alice@example.com", item_name="Royce Chocolate", shipping_fee=60)
    make_order(
        api,
        token,
        buyer_email="bob@example.com",
        item_name="Kit Kat Matcha",
        buyer_name="Bob",
        note="bob private",
    )
    b1 = make_order(
        api, other_token, buyer_email="Alice@Example.com", item_name="Osaka Takoyaki", buyer_name="Alice O."
    )
    make_order(api, other_token, buyer_email="carol@example.com", item_name="Pocky", buyer_name="Carol")

    link_a = new_link(api, token, a1["customer_id"])
    link_b = new_link(api, other_token, b1["customer_id"])
    assert link_a["url"] == f"{SITE}/track.html#{link_a['token']}"
    assert len(link_a["token"]) == 43 and link_a["token"] != link_b["token"]

    r = api.get(f"/track/{link_a['token']}")
    assert r.status == 200, r
    page = r.json
    assert set(page) == {
        "shop_name",
        "buyer_name",
        "currency",
        "language",
        "orders",
        "balance",
        "credit",
        "payments",
        "charges",
        "payment_instructions",
        "parcels",
        "scope",
    }
    assert page["scope"] == "customer"  # the seller's link shows the whole buyer
    assert (page["shop_name"], page["buyer_name"]) == ("Tokyo Picks", "Alice")
    assert (page["currency"], page["language"]) == ("TWD", "zh-Hant")
    assert [o["order_no"] for o in page["orders"]] == [a2["order_no"], a1["order_no"]]  # newest first
    assert [o["item_name"] for o in page["orders"]] == ["Royce Chocolate", "Tokyo Banana"]
    assert page["orders"][0]["total_amount"] == 160
    for o in page["orders"]:
        assert set(o) == PUBLIC_ORDER_FIELDS
    assert page["orders"][1]["total_amount"] == 999  # the costed order is there, its price only
    text = r.body.decode() if isinstance(r.body, bytes) else r.body
    for secret in ("owes me lunch", "alice@example.com", "bob", "Kit Kat", "Osaka", "customer_id", "seller"):
        assert secret not in text
    seller_view = api.get(f"/orders/{a1['id']}", token=token).json
    seller_view["batches"] = api.get("/batches", token=token).json
    assert set(seller_only_in(json.dumps(seller_view, ensure_ascii=False))) == {
        *SELLER_ONLY[:3],
        TRIP,
        *SELLER_NUMBERS,
    } - {"1,537"}  # (the check finds them where they are)
    # Neither as sent nor once decoded (JSON may escape 東京): no cost, rate or profit.
    assert seller_only_in(text) == [] and seller_only_in(json.dumps(page, ensure_ascii=False)) == []

    r = api.get(f"/track/{link_b['token']}")
    assert r.status == 200
    assert (r.json["shop_name"], r.json["buyer_name"]) == ("Osaka Finds", "Alice O.")
    assert [o["item_name"] for o in r.json["orders"]] == ["Osaka Takoyaki"]


def test_other_sellers_customer_and_malformed_id_are_404(api, token, other_token):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    r = api.post(f"/customers/{a['customer_id']}/tracking-link", token=other_token)
    assert r.status == 404 and r.json["error"]["code"] == "not_found"
    assert api.post("/customers/nope/tracking-link", token=token).status == 404
    assert api.post(f"/customers/{a['customer_id']}/tracking-link").status == 401
    assert db.get_db().tracking_links.count_documents({}) == 0


def test_new_link_revokes_the_old_one_at_once(api, token):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    first = new_link(api, token, a["customer_id"])["token"]
    assert api.get(f"/track/{first}").status == 200
    second = new_link(api, token, a["customer_id"])["token"]
    assert api.get(f"/track/{first}").status == 404
    assert api.get(f"/track/{second}").status == 200
    assert db.get_db().tracking_links.count_documents({}) == 1


def test_unknown_rotated_and_malformed_tokens_give_identical_404(api, token):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    rotated = new_link(api, token, a["customer_id"])["token"]
    new_link(api, token, a["customer_id"])
    candidates = [
        rotated,
        secrets.token_urlsafe(32),  # well-formed, never issued
        "short",
        "a" * 44,
        rotated[:-1] + ".",  # right length, wrong alphabet
        "%E7%9F%AD" * 5,
    ]
    answers = [api.get(f"/track/{t}") for t in candidates]
    assert {r.status for r in answers} == {404}
    assert len({r.body for r in answers}) == 1, [r.body for r in answers]
    assert answers[0].json["error"]["code"] == "not_found"
    for r in answers:
        assert {k: r.headers.get(k) for k in PRIVATE_HEADERS} == PRIVATE_HEADERS


def test_private_headers_on_every_tracking_answer(api, token):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    created = api.post(f"/customers/{a['customer_id']}/tracking-link", token=token)
    answers = [
        created,
        api.get(f"/track/{created.json['token']}"),
        api.get(f"/track/{secrets.token_urlsafe(32)}"),
        request_link(api, "tokyo-picks", "nobody@example.com"),
        api.post("/track/request-link", {"shop_slug": "tokyo-picks"}),
    ]
    assert [r.status for r in answers] == [201, 200, 404, 202, 400]
    for r in answers:
        assert {k: r.headers.get(k) for k in PRIVATE_HEADERS} == PRIVATE_HEADERS, r
    # ... and only there: other routes are cacheable as before.
    assert "referrer-policy" not in api.get("/auth/me", token=token).headers


def test_database_holds_only_a_hash_of_the_token(api, token):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    tok = new_link(api, token, a["customer_id"])["token"]
    docs = list(db.get_db().tracking_links.find())
    assert len(docs) == 1
    assert docs[0]["token_hash"] == hashlib.sha256(tok.encode()).hexdigest()
    assert tok not in repr(docs)


def test_lookup_is_at_most_four_database_commands(api, token, commands):
    """The link, the orders, the payments (the contract's target with payments: ≤ 3),
    and since issue 26 the open charges."""
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    for amount in (3, 4):
        make_payment(api, token, a["customer_id"], amount, method="cash")
    # More orders than a default first batch (101): still one find, no getMore.
    template = db.get_db().orders.find_one({"order_no": a["order_no"]}, {"_id": 0})
    db.get_db().orders.insert_many(
        [{**template, "order_no": a["order_no"] + i, "item_name": f"item {i}"} for i in range(1, 150)]
    )
    tok = new_link(api, token, a["customer_id"])["token"]

    if commands:
        commands.names.clear()
        commands.bodies.clear()
    assert api.post(f"/track/{tok}/payments", {"amount": 5}).status == 201
    if commands:
        commands.names.clear()
        commands.bodies.clear()
    r = api.get(f"/track/{tok}")
    assert r.status == 200 and len(r.json["orders"]) == 150
    assert r.json["orders"][0]["item_name"] == "item 149"
    assert [p["amount"] for p in r.json["payments"]] == [5, 4, 3]
    if commands:
        assert commands.names == ["find", "find", "find", "find"], commands.names
        # Timing-safe: the database compares hashes, never the token, so how long a
        # comparison takes says nothing about how much of a guessed token is right.
        assert commands.bodies[0]["filter"] == {"token_hash": hashlib.sha256(tok.encode()).hexdigest()}
        assert tok not in repr(commands.bodies)

        commands.names.clear()
        commands.bodies.clear()
        assert api.get("/track/not-a-token").status == 404
        assert api.get(f"/track/{secrets.token_urlsafe(32)}").status == 404
        assert commands.names == ["find"], commands.names  # malformed: no command at all


def test_page_follows_renames_and_deletion(api, token):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana", buyer_name="Alice")
    tok = new_link(api, token, a["customer_id"])["token"]
    r = api.patch(
        "/auth/me", {"shop_name": "Tokyo Picks 東京", "currency": "JPY", "language": "en"}, token=token
    )
    assert r.status == 200 and r.json["seller"]["language"] == "en"
    assert api.patch(f"/customers/{a['customer_id']}", {"name": "Alice Wang"}, token=token).status == 200
    page = api.get(f"/track/{tok}").json
    assert (page["shop_name"], page["buyer_name"]) == ("Tokyo Picks 東京", "Alice Wang")
    assert (page["currency"], page["language"]) == ("JPY", "en")

    c = make_customer(api, token, name="Dora", email="dora@example.com")
    dora = new_link(api, token, c["id"])["token"]
    assert api.get(f"/track/{dora}").json["orders"] == []
    assert api.delete(f"/customers/{c['id']}", token=token).status == 204
    assert api.get(f"/track/{dora}").status == 404
    assert api.get(f"/track/{tok}").status == 200


def test_every_link_of_a_customer_follows_renames_and_deletion(api, token, ses):
    c = make_customer(api, token, name="Dora", email="dora@example.com")
    seller_tok = new_link(api, token, c["id"])["token"]
    for _ in range(2):
        assert request_link(api, slug(api, token), "dora@example.com").status == 202
    tokens = [seller_tok, *links_in(ses, "dora@example.com")]
    assert len(tokens) == 3
    api.patch("/auth/me", {"shop_name": "Dora's Shop"}, token=token)
    assert api.patch(f"/customers/{c['id']}", {"name": "Dora Chen"}, token=token).status == 200
    for tok in tokens:
        page = api.get(f"/track/{tok}").json
        assert (page["shop_name"], page["buyer_name"]) == ("Dora's Shop", "Dora Chen")
    assert api.delete(f"/customers/{c['id']}", token=token).status == 204
    assert [api.get(f"/track/{tok}").status for tok in tokens] == [404, 404, 404]
    assert db.get_db().tracking_links.count_documents({}) == 0


def test_language_must_be_known(api, token):
    r = api.patch("/auth/me", {"language": "fr"}, token=token)
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "language"


# --- "email me my link" -----------------------------------------------------------------


def test_emailed_link_works_in_shop_language(api, token, other_token, ses):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana", buyer_name="Alice")
    make_order(api, other_token, buyer_email="alice@example.com", item_name="Osaka Takoyaki")
    seller_link = new_link(api, token, a["customer_id"])["token"]

    r = request_link(api, slug(api, token), "ALICE@example.com")
    assert r.status == 202
    assert len(ses) == 1
    msg = ses[0]
    assert msg.source == SENDER and msg.destinations["ToAddresses"] == ["alice@example.com"]
    assert "Tokyo Picks" in msg.subject and "訂單追蹤連結" in msg.subject
    (tok,) = links_in(ses, "alice@example.com")
    page = api.get(f"/track/{tok}")
    assert page.status == 200
    assert (page.json["shop_name"], page.json["buyer_name"]) == ("Tokyo Picks", "Alice")
    assert [o["item_name"] for o in page.json["orders"]] == ["Tokyo Banana"]  # not the Osaka order
    # Only hashes are stored, so the email carries a new link; the seller's still works.
    assert tok != seller_link
    assert api.get(f"/track/{seller_link}").status == 200

    api.patch("/auth/me", {"language": "en"}, token=other_token)
    assert request_link(api, slug(api, other_token), "alice@example.com").status == 202
    assert len(ses) == 2 and ses[1].subject == "Osaka Finds: your order tracking link"
    (tok_b,) = links_in(ses[1:], "alice@example.com")
    page = api.get(f"/track/{tok_b}")
    assert page.json["shop_name"] == "Osaka Finds"
    assert [o["item_name"] for o in page.json["orders"]] == ["Osaka Takoyaki"]
    assert api.get(f"/track/{tok}").status == 200  # the other shop's link is untouched


def test_at_most_three_emails_per_address_per_hour(api, token, ses):
    make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    make_order(api, token, buyer_email="bob@example.com", item_name="Tokyo Banana")
    shop = slug(api, token)
    answers = [request_link(api, shop, "alice@example.com") for _ in range(5)]
    assert {r.status for r in answers} == {202}
    assert len({r.body for r in answers}) == 1
    assert len(ses) == 3
    tokens = links_in(ses, "alice@example.com")
    assert api.get(f"/track/{tokens[-1]}").status == 200  # the newest emailed link works
    # Refused requests are not kept, so the count stays at the limit.
    assert db.get_db().rate_limits.count_documents({}) == 3
    assert request_link(api, shop, "bob@example.com").status == 202
    assert len(ses) == 4 and ses[3].destinations["ToAddresses"] == ["bob@example.com"]


def test_rate_limit_window_is_an_hour(api, token, ses):
    make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    shop = slug(api, token)
    for _ in range(3):
        request_link(api, shop, "alice@example.com")
    assert len(ses) == 3
    # Age the requests past the hour (as the TTL index would, or the time filter does).
    past = tracking.clock.now() - tracking.RATE_WINDOW
    db.get_db().rate_limits.update_many({}, {"$set": {"at": past}})
    assert request_link(api, shop, "alice@example.com").status == 202
    assert len(ses) == 4


def test_no_user_enumeration(api, token, other_token, ses):
    make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    make_order(api, other_token, buyer_email="zoe@example.com", item_name="Pocky")
    shop = slug(api, token)
    known = request_link(api, shop, "alice@example.com")
    unknown = request_link(api, shop, "mallory@example.com")
    other_shops_buyer = request_link(api, shop, "zoe@example.com")
    no_shop = request_link(api, "no-such-shop", "alice@example.com")
    answers = [known, unknown, other_shops_buyer, no_shop]
    assert {r.status for r in answers} == {202}
    assert len({r.body for r in answers}) == 1
    assert known.json == tracking.ACCEPTED
    assert len({tuple(sorted(r.headers.items())) for r in answers}) == 1
    assert [m.destinations["ToAddresses"] for m in ses] == [["alice@example.com"]]
    # The same database work on every path: each request took one rate-limit slot.
    assert db.get_db().rate_limits.count_documents({}) == 4


def test_request_link_refuses_bad_bodies(api, token, ses):
    make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    shop = slug(api, token)
    bad = [
        {"shop_slug": shop, "email": {"$ne": ""}},
        {"shop_slug": {"$ne": ""}, "email": "alice@example.com"},
        {"shop_slug": shop, "email": "alice@example.com", "extra": 1},
        {"shop_slug": shop, "email": "not-an-email"},
        {"shop_slug": "Has Spaces", "email": "alice@example.com"},
    ]
    for b in bad:
        r = api.post("/track/request-link", b)
        assert r.status == 400 and r.json["error"]["code"] == "validation_error", (b, r)
    assert ses == [] and db.get_db().rate_limits.count_documents({}) == 0


def test_failed_email_keeps_the_old_link(api, token, ses, monkeypatch):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    tok = new_link(api, token, a["customer_id"])["token"]
    monkeypatch.setenv("SES_SENDER", "unverified@elsewhere.test")  # moto refuses it
    config.reset_settings()
    r = request_link(api, slug(api, token), "alice@example.com")
    assert r.status == 202 and r.json == tracking.ACCEPTED
    assert ses == []
    assert api.get(f"/track/{tok}").status == 200  # the seller's link was never touched
    assert db.get_db().tracking_links.count_documents({}) == 1  # the unsent link is gone

    # A buyer who never had a link gets none left behind either.
    make_order(api, token, buyer_email="bob@example.com", item_name="Tokyo Banana")
    assert request_link(api, slug(api, token), "bob@example.com").status == 202
    assert db.get_db().tracking_links.count_documents({}) == 1


def test_response_floor_hides_whether_mail_was_sent(api, token, ses, monkeypatch):
    import time

    monkeypatch.setattr(tracking, "REQUEST_FLOOR_SECONDS", 0.3)
    make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    shop = slug(api, token)
    for email in ("alice@example.com", "nobody@example.com"):
        started = time.monotonic()
        assert request_link(api, shop, email).status == 202
        assert time.monotonic() - started >= 0.3
    assert len(ses) == 1


def test_concurrent_first_links_leave_one_working_link(api, token):
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.accounts import auth

    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    principal = auth.authenticate(f"Bearer {token}")
    with ThreadPoolExecutor(8) as pool:
        issued = list(pool.map(lambda _: tracking.issue_link(principal, a["customer_id"]), range(8)))
    assert db.get_db().tracking_links.count_documents({}) == 1
    working = [x["token"] for x in issued if api.get(f"/track/{x['token']}").status == 200]
    assert len(working) == 1


# --- several links per customer: the seller's and emailed ones ---------------------------


def test_strangers_request_does_not_break_the_sellers_link(api, token, ses):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    pasted_into_line = new_link(api, token, a["customer_id"])["token"]
    shop = slug(api, token)
    # Anyone who knows Alice's email and the shop code can ask, as often as the limit allows.
    for _ in range(3):
        assert request_link(api, shop, "alice@example.com").status == 202
    emailed = links_in(ses, "alice@example.com")
    assert len(emailed) == 3 and pasted_into_line not in emailed
    assert works(api, pasted_into_line)
    assert all(works(api, tok) for tok in emailed)  # each email's link works too
    kinds = [x["kind"] for x in list_links(api, token, a["customer_id"])]
    assert kinds == ["email", "email", "email", "seller"]  # newest first


def test_sellers_new_link_revokes_every_link_of_that_customer(api, token, ses):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    b = make_order(api, token, buyer_email="bob@example.com", item_name="Tokyo Banana")
    old = new_link(api, token, a["customer_id"])["token"]
    bobs = new_link(api, token, b["customer_id"])["token"]
    shop = slug(api, token)
    request_link(api, shop, "alice@example.com")
    request_link(api, shop, "alice@example.com")
    request_link(api, shop, "bob@example.com")
    alice_emailed = links_in(ses, "alice@example.com")
    (bob_emailed,) = links_in(ses, "bob@example.com")
    assert all(works(api, tok) for tok in [old, *alice_emailed])

    fresh = new_link(api, token, a["customer_id"])["token"]
    assert works(api, fresh)
    assert [works(api, tok) for tok in [old, *alice_emailed]] == [False, False, False]
    (only,) = list_links(api, token, a["customer_id"])
    assert only["kind"] == "seller"
    assert works(api, bobs) and works(api, bob_emailed)  # another customer keeps theirs


def test_list_and_revoke_links(api, token, other_token, ses):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    b = make_order(api, token, buyer_email="bob@example.com", item_name="Tokyo Banana")
    mine = make_order(api, other_token, buyer_email="zoe@example.com", item_name="Pocky")
    seller_tok = new_link(api, token, a["customer_id"])["token"]
    request_link(api, slug(api, token), "alice@example.com")
    (emailed,) = links_in(ses, "alice@example.com")

    r = api.get(f"/customers/{a['customer_id']}/tracking-links", token=token)
    assert r.status == 200
    assert {k: r.headers.get(k) for k in PRIVATE_HEADERS} == PRIVATE_HEADERS
    assert r.json["next_cursor"] is None
    items = r.json["items"]
    assert [x["kind"] for x in items] == ["email", "seller"]
    for x in items:
        assert set(x) == {"id", "kind", "created_at"}
        assert re.fullmatch(r"[0-9a-f]{24}", x["id"]) and x["created_at"].endswith("Z")
    text = r.body.decode() if isinstance(r.body, bytes) else r.body
    for secret in (seller_tok, emailed, hashlib.sha256(emailed.encode()).hexdigest()):
        assert secret not in text
    email_id, seller_id = items[0]["id"], items[1]["id"]
    assert list_links(api, token, b["customer_id"]) == []

    base = f"/customers/{a['customer_id']}/tracking-links"
    # Not found: another customer of the same seller, another seller (with their own
    # customer too), a malformed id, no login.
    assert api.delete(f"/customers/{b['customer_id']}/tracking-links/{email_id}", token=token).status == 404
    assert api.delete(f"{base}/{email_id}", token=other_token).status == 404
    assert (
        api.delete(f"/customers/{mine['customer_id']}/tracking-links/{email_id}", token=other_token).status
        == 404
    )
    assert api.get(base, token=other_token).status == 404
    assert api.delete(f"{base}/nope", token=token).status == 404
    assert api.get("/customers/nope/tracking-links", token=token).status == 404
    assert api.delete(f"{base}/{email_id}").status == 401
    assert api.get(base).status == 401
    assert works(api, emailed) and works(api, seller_tok)

    r = api.delete(f"{base}/{email_id}", token=token)
    assert r.status == 204 and not r.body
    assert {k: r.headers.get(k) for k in PRIVATE_HEADERS} == PRIVATE_HEADERS
    assert not works(api, emailed) and works(api, seller_tok)
    assert api.delete(f"{base}/{email_id}", token=token).status == 404  # already gone
    assert [x["id"] for x in list_links(api, token, a["customer_id"])] == [seller_id]

    assert api.delete(f"{base}/{seller_id}", token=token).status == 204
    assert not works(api, seller_tok)
    assert list_links(api, token, a["customer_id"]) == []
    assert works(api, new_link(api, token, a["customer_id"])["token"])  # a new one any time


def test_emailed_links_are_capped_per_customer(api, token, ses, monkeypatch):
    monkeypatch.setattr(tracking, "RATE_LIMIT", 100)
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    seller_tok = new_link(api, token, a["customer_id"])["token"]
    shop = slug(api, token)
    for _ in range(tracking.MAX_EMAILED_LINKS + 2):
        assert request_link(api, shop, "alice@example.com").status == 202
    emailed = links_in(ses, "alice@example.com")
    assert len(emailed) == tracking.MAX_EMAILED_LINKS + 2
    assert [works(api, tok) for tok in emailed] == [False, False] + [True] * tracking.MAX_EMAILED_LINKS
    assert works(api, seller_tok)  # the cap is on emailed links only
    kinds = [x["kind"] for x in list_links(api, token, a["customer_id"])]
    assert kinds == ["email"] * tracking.MAX_EMAILED_LINKS + ["seller"]


def test_failed_email_removes_only_its_own_link(api, token, ses, monkeypatch):
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    seller_tok = new_link(api, token, a["customer_id"])["token"]
    request_link(api, slug(api, token), "alice@example.com")
    (emailed,) = links_in(ses, "alice@example.com")
    before = list_links(api, token, a["customer_id"])
    monkeypatch.setenv("SES_SENDER", "unverified@elsewhere.test")  # moto refuses it
    config.reset_settings()
    assert request_link(api, slug(api, token), "alice@example.com").status == 202
    assert len(ses) == 1
    assert list_links(api, token, a["customer_id"]) == before
    assert works(api, seller_tok) and works(api, emailed)


@pytest.mark.mongo_java_wrong(
    reason="mongo-java-server 1.47.0: dropIndexes '*' walks the indexes of every collection of the"
    " database and fails with IndexNotFound on the first one this collection lacks",
    raises=pymongo.errors.OperationFailure,
)
def test_existing_database_migrates(api, token, ses):
    """A database from before: one link per customer, no kind, the unique customer index."""
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    links = db.get_db().tracking_links
    links.drop_indexes()
    links.create_index("customer_id", unique=True, name="customer_unique")
    links.create_index("seller_id", name="seller")
    legacy = secrets.token_urlsafe(32)
    customer = db.get_db().customers.find_one({"email_lower": "alice@example.com"})
    links.insert_one(
        {
            "seller_id": customer["seller_id"],
            "customer_id": customer["_id"],
            "token_hash": hashlib.sha256(legacy.encode()).hexdigest(),
            "buyer_name": "alice",
            "shop_name": "Tokyo Picks",
            "created_at": tracking.clock.now(),
        }
    )
    db.ensure_indexes()
    names = {ix["name"] for ix in links.list_indexes()}
    assert "customer_unique" not in names and "seller" not in names
    assert {"seller_customer", "seller_link_unique", "token_hash_unique"} <= names
    assert works(api, legacy)
    assert [x["kind"] for x in list_links(api, token, a["customer_id"])] == ["seller"]
    request_link(api, slug(api, token), "alice@example.com")
    (emailed,) = links_in(ses, "alice@example.com")
    assert works(api, legacy) and works(api, emailed)
    fresh = new_link(api, token, a["customer_id"])["token"]
    assert [works(api, t) for t in (legacy, emailed, fresh)] == [False, False, True]


def test_seller_links_race_emailed_links(backend, api, token, monkeypatch):
    """A real server, threads: "new link" clicks racing "email me my link" requests for
    one customer leave exactly one seller link, and it is one of those just issued."""
    if backend == "mongomock":
        pytest.skip("a race on a real server (mongomock is not a server)")
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.accounts import auth

    sent: list = []
    monkeypatch.setattr(tracking.mailer, "send", lambda email: sent.append(email) or "id")
    monkeypatch.setattr(tracking, "RATE_LIMIT", 1000)
    a = make_order(api, token, buyer_email="alice@example.com", item_name="Tokyo Banana")
    principal = auth.authenticate(f"Bearer {token}")
    shop = slug(api, token)
    ask = tracking.LinkRequestIn(shop_slug=shop, email="alice@example.com")
    links = db.get_db().tracking_links
    customer = {"customer_id": db.get_db().customers.find_one({"email_lower": "alice@example.com"})["_id"]}

    for _round in range(3):
        jobs = ["seller"] * 3 + ["email"] * 6

        def run(job):
            if job == "seller":
                return tracking.issue_link(principal, a["customer_id"])["token"]
            tracking.request_link(ask)
            return None

        with ThreadPoolExecutor(len(jobs)) as pool:
            issued = [t for t in pool.map(run, jobs) if t]
        sellers = list(links.find({**customer, "kind": "seller"}))
        assert len(sellers) == 1, sellers  # no orphan seller link
        working = [t for t in issued if works(api, t)]
        assert len(working) == 1, working
        assert sellers[0]["token_hash"] == hashlib.sha256(working[0].encode()).hexdigest()
        # Every other link is an emailed one, within the cap.
        assert links.count_documents({**customer, "kind": "email"}) <= tracking.MAX_EMAILED_LINKS
        assert links.count_documents(customer) == links.count_documents(
            {**customer, "kind": {"$in": ["seller", "email"]}}
        )
