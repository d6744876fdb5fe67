"""Links that stay the same, raced on the real servers: first copies of a buyer's link at
once make one link and give the same answer; copies racing "new link" leave one seller
link that GET shows and that works; racing "new link"s of a form leave one working link,
the one its reads show."""

from __future__ import annotations

import pytest

from chalicelib.accounts import auth
from chalicelib.platform import db
from chalicelib.platform.schemas import ListQuery
from chalicelib.sales import forms
from chalicelib.tracking import tracking
from tests.conftest import at_once
from tests.factories import make_customer, make_item

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)


def opens(api, tok):
    return api.get(f"/track/{tok}").status == 200


def test_first_copies_at_once_make_one_link_and_the_same_answer(api, token):
    who = auth.authenticate(f"Bearer {token}")
    for n in range(3):  # a fresh customer each round: every call is a "first" one
        c = make_customer(api, token, name=f"Buyer {n}", email=f"b{n}@example.com")
        answers = at_once([lambda: tracking.current_link(who, c["id"])] * 8)
        assert all(isinstance(a, dict) for a in answers), answers
        assert len({a["token"] for a in answers}) == 1, answers
        assert len({a["created_at"] for a in answers}) == 1, answers
        stored = list(
            db.get_db().tracking_links.find(
                {"customer_id": db.get_db().customers.find_one({"name": f"Buyer {n}"})["_id"]}
            )
        )
        assert len(stored) == 1, stored
        assert opens(api, answers[0]["token"])
        assert tracking.current_link(who, c["id"]) == answers[0]


def test_copies_racing_new_links_leave_one_link_that_copy_shows(api, token):
    who = auth.authenticate(f"Bearer {token}")
    c = make_customer(api, token)
    customer_id = db.get_db().customers.find_one({"name": "Amy"})["_id"]
    for _round in range(3):
        calls = [lambda: tracking.current_link(who, c["id"])] * 4 + [
            lambda: tracking.issue_link(who, c["id"])
        ] * 3
        answers = at_once(calls)
        assert all(isinstance(a, dict) for a in answers), answers
        links = list(db.get_db().tracking_links.find({"customer_id": customer_id}))
        assert len(links) == 1, links  # no orphan: one seller link, nothing beside it
        now = tracking.current_link(who, c["id"])
        assert now["token"] in {a["token"] for a in answers}
        # The link left is one "new link" made (a first copy's link, if any, was replaced).
        working = [a["token"] for a in answers[4:] if opens(api, a["token"])]
        assert working == [now["token"]], (working, now)


def test_new_form_links_at_once_leave_the_one_its_reads_show(api, token):
    who = auth.authenticate(f"Bearer {token}")
    item = make_item(api, token, item_name="Pocky", price=100, stock=5)
    form = api.post(
        "/forms", {"batch": "B", "title": "Race", "items": [{"item_id": item["id"]}]}, token=token
    ).json
    for _round in range(3):
        calls = [lambda: forms.new_link(who, form["id"])] * 4 + [lambda: forms.get(who, form["id"])] * 3
        answers = at_once(calls)
        made = [a["url"] for a in answers[:4]]
        shown = forms.get(who, form["id"])["url"]
        assert shown in made
        working = [u for u in made if api.get(f"/f/{u.split('#')[1]}").status == 200]
        assert working == [shown], (working, shown)
        assert [f["url"] for f in forms.search(who, ListQuery())["items"]] == [shown]
