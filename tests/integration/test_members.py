"""A shop's members (issue 31, the accounts slice): invite by email or link, accept with a
password, log in to the owner's shop, list, change a role, remove; a removal or a role
change ends the member's sessions and access tokens at once. On every lane."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from bson import ObjectId

from chalicelib.platform import db

PASSWORD = "correct horse 1"
HELPER_PASSWORD = "violet teapot harbour 9"


@pytest.fixture
def owner(api):
    return api.signup(email="owner@example.com", shop_name="Tokyo Picks")


def invite(api, owner, email="helper@example.com", role="staff"):
    r = api.post("/members", {"email": email, "role": role}, token=owner)
    assert r.status == 201, r
    return r.json


def token_of(url):
    return url.split("#invite=")[1]


def join(api, owner, email="helper@example.com", role="staff"):
    """Invite and accept: the member's id and their login (token, refresh token)."""
    made = invite(api, owner, email, role)
    r = api.post("/members/accept", {"token": token_of(made["invite_url"]), "password": HELPER_PASSWORD})
    assert r.status == 200, r
    return made["id"], r.json


def login(api, email, password=HELPER_PASSWORD):
    return api.post("/auth/login", {"email": email, "password": password})


def test_invite_accept_login_me(api, owner):
    made = invite(api, owner)
    assert made["invite_url"].startswith("https://shop.example.test/index.html#invite=")
    listed = api.get("/members", token=owner).json["items"]
    assert [(m["email"], m["role"], m["status"]) for m in listed] == [
        ("helper@example.com", "staff", "invited")
    ]
    assert listed[0]["invite_url"] == made["invite_url"]  # copied again for LINE
    # Only the hash of the link is stored.
    stored = db.get_db().members.find_one({"_id": ObjectId(made["id"])})
    assert token_of(made["invite_url"]) not in str(stored)

    accepted = api.post(
        "/members/accept", {"token": token_of(made["invite_url"]), "password": HELPER_PASSWORD}
    )
    assert accepted.status == 200, accepted
    claims = jwt.decode(accepted.json["token"], options={"verify_signature": False})
    assert (claims["mid"], claims["role"]) == (made["id"], "staff")

    r = login(api, "Helper@Example.com")
    assert r.status == 200, r
    me = api.get("/auth/me", token=r.json["token"])
    assert me.status == 200, me
    assert me.json["shop_name"] == "Tokyo Picks"
    assert me.json["member"] == {"id": made["id"], "email": "helper@example.com", "role": "staff"}
    # The owner's own login has no member.
    assert api.get("/auth/me", token=owner).json["member"] is None
    # The member works in the owner's shop.
    cust = api.post("/customers", {"name": "Amy", "line_id": "amy.line"}, token=r.json["token"])
    assert cust.status == 201, cust
    assert [c["id"] for c in api.get("/customers", token=owner).json["items"]] == [cust.json["id"]]
    # Refresh keeps working, and keeps the member.
    again = api.post("/auth/refresh", {"refresh_token": r.json["refresh_token"]})
    assert again.status == 200, again
    assert api.get("/auth/me", token=again.json["token"]).json["member"]["id"] == made["id"]
    listed = api.get("/members", token=owner).json["items"]
    assert listed[0]["status"] == "active" and listed[0].get("invite_url") is None


def test_invite_is_emailed_when_mail_is_set_up(api, owner, ses):
    made = invite(api, owner)
    assert made["emailed"] is True
    (msg,) = [m for m in ses if "helper@example.com" in m.destinations["ToAddresses"]]
    assert made["invite_url"] in msg.body
    assert "Tokyo Picks" in msg.subject


def test_invite_emails_are_limited_per_shop_and_day(api, owner, ses, monkeypatch):
    """Invites email any address typed: past the day's limit the invite is still made and
    its link returned, but no email goes out."""
    from chalicelib.accounts import members

    monkeypatch.setattr(members, "INVITE_EMAILS_PER_DAY", 2)
    made = [invite(api, owner, email=f"h{i}@example.com") for i in range(3)]
    assert [m["emailed"] for m in made] == [True, True, False]
    assert len([m for m in ses if "h2@example.com" in m.destinations["ToAddresses"]]) == 0
    assert len(api.get("/members", token=owner).json["items"]) == 3


def test_invite_without_mail_returns_the_link(api, owner):
    assert invite(api, owner)["emailed"] is False  # tests have no mail set up


def test_an_invite_link_names_the_shop_and_the_email_before_it_is_spent(api, owner):
    """The link's page says whose shop the helper joins and which email will log in (the
    password manager's username); reading it spends nothing; a used, withdrawn, wrong or
    expired link tells nothing of the shop."""
    made = invite(api, owner, email="Helper.Lin@example.com", role="staff")
    token = token_of(made["invite_url"])
    r = api.post("/members/invite-info", {"token": token})
    assert r.status == 200, r
    assert {k: r.json[k] for k in ("shop_name", "email", "role")} == {
        "shop_name": "Tokyo Picks",
        "email": "Helper.Lin@example.com",
        "role": "staff",
    }
    assert r.json["expires_at"].endswith("Z")
    assert api.post("/members/accept", {"token": token, "password": HELPER_PASSWORD}).status == 200
    again = api.post("/members/invite-info", {"token": token})
    assert (again.status, again.json["error"]["code"]) == (400, "invalid_invite_token")
    assert "Tokyo Picks" not in again.body.decode()
    for bad in ("nope", "A" * 43, {"token": ""}):
        body = bad if isinstance(bad, dict) else {"token": bad}
        r = api.post("/members/invite-info", body)
        assert r.status == 400 and "Tokyo Picks" not in r.body.decode(), r
    late = invite(api, owner, email="late@example.com")
    db.get_db().members.update_one(
        {"_id": ObjectId(late["id"])},
        {"$set": {"expires_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}},
    )
    r = api.post("/members/invite-info", {"token": token_of(late["invite_url"])})
    assert (r.status, r.json["error"]["code"]) == (410, "invite_expired")
    assert "Tokyo Picks" not in r.body.decode()


def test_wrong_used_and_expired_tokens(api, owner):
    made = invite(api, owner)
    token = token_of(made["invite_url"])
    for bad in ("nope", "A" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        r = api.post("/members/accept", {"token": bad, "password": HELPER_PASSWORD})
        assert (r.status, r.json["error"]["code"]) == (400, "invalid_invite_token"), r
    weak = api.post("/members/accept", {"token": token, "password": "password123"})
    assert (weak.status, weak.json["error"]["code"]) == (400, "weak_password")
    # A refused password keeps the link usable; then it is spent.
    assert api.post("/members/accept", {"token": token, "password": HELPER_PASSWORD}).status == 200
    used = api.post("/members/accept", {"token": token, "password": "another fine password 7"})
    assert (used.status, used.json["error"]["code"]) == (400, "invalid_invite_token")

    late = invite(api, owner, email="late@example.com")
    db.get_db().members.update_one(
        {"_id": ObjectId(late["id"])},
        {"$set": {"expires_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}},
    )
    r = api.post("/members/accept", {"token": token_of(late["invite_url"]), "password": HELPER_PASSWORD})
    assert (r.status, r.json["error"]["code"]) == (410, "invite_expired")
    assert db.get_db().members.find_one({"_id": ObjectId(late["id"])})["status"] == "invited"
    # An expired invite's link is not shown again.
    (expired,) = [m for m in api.get("/members", token=owner).json["items"] if m["id"] == late["id"]]
    assert expired["status"] == "invited" and expired.get("invite_url") is None


def test_bad_input_names_the_field_and_writes_nothing(api, owner):
    for body, field in (
        ({"email": "not-an-email", "role": "staff"}, "email"),
        ({"email": "a@example.com", "role": "boss"}, "role"),
        ({"email": "a@example.com"}, "role"),
    ):
        r = api.post("/members", body, token=owner)
        assert r.status == 400, r
        assert field in str(r.json["error"]["details"]), r
    assert db.get_db().members.count_documents({}) == 0
    member_id, _ = join(api, owner)
    r = api.patch(f"/members/{member_id}", {"role": "admin"}, token=owner)
    assert r.status == 400 and "role" in str(r.json["error"]["details"])
    assert api.get("/members", token=owner).json["items"][0]["role"] == "staff"


def test_emails_already_in_use(api, owner):
    """One email, one login on the site: a seller's email, a member's of this or another
    shop cannot be invited; a seller cannot sign up with a member's email."""
    other = api.signup(email="other@example.com", shop_name="Osaka Finds")
    for email in ("owner@example.com", "OTHER@example.com"):
        r = api.post("/members", {"email": email, "role": "staff"}, token=owner)
        assert (r.status, r.json["error"]["code"]) == (409, "email_taken"), r
    invite(api, owner)
    for who in (owner, other):
        r = api.post("/members", {"email": "helper@example.com", "role": "owner"}, token=who)
        assert (r.status, r.json["error"]["code"]) == (409, "email_taken"), r
    r = api.post(
        "/auth/signup", {"email": "helper@example.com", "password": PASSWORD, "shop_name": "Helper's shop"}
    )
    assert (r.status, r.json["error"]["code"]) == (409, "email_taken")
    # Removed, the email is free again.
    (pending,) = api.get("/members", token=owner).json["items"]
    assert api.delete(f"/members/{pending['id']}", token=owner).status == 204
    invite(api, other)


def test_staff_may_not_manage_members(api, owner):
    member_id, staff = join(api, owner)
    other_id, _ = join(api, owner, email="second@example.com")
    t = staff["token"]
    for method, path, body in (
        ("GET", "/members", None),
        ("POST", "/members", {"email": "x@example.com", "role": "owner"}),
        ("PATCH", f"/members/{member_id}", {"role": "owner"}),
        ("PATCH", f"/members/{other_id}", {"role": "owner"}),
        ("DELETE", f"/members/{other_id}", None),
        ("PATCH", "/auth/me", {"shop_name": "Mine now"}),
    ):
        r = api.call(method, path, body=body, token=t)
        assert (r.status, r.json["error"]["code"]) == (403, "forbidden_for_role"), (method, path, r)
    roles = {m["id"]: m["role"] for m in api.get("/members", token=owner).json["items"]}
    assert roles == {member_id: "staff", other_id: "staff"}
    assert db.get_db().members.count_documents({}) == 2


def test_an_owner_member_manages_members(api, owner):
    _, boss = join(api, owner, email="partner@example.com", role="owner")
    made = invite(api, boss["token"], email="helper@example.com")
    assert [m["id"] for m in api.get("/members", token=owner).json["items"]][-1] == made["id"]
    # PATCH /auth/me keeps the member's token a member's.
    r = api.patch("/auth/me", {"shop_name": "Tokyo Picks 2"}, token=boss["token"])
    assert r.status == 200, r
    assert jwt.decode(r.json["token"], options={"verify_signature": False})["mid"]


def test_removal_ends_refresh_and_access_at_once(api, owner):
    member_id, helper = join(api, owner)
    second = login(api, "helper@example.com").json
    assert api.get("/customers", token=helper["token"]).status == 200
    assert api.delete(f"/members/{member_id}", token=owner).status == 204
    for tok in (helper["token"], second["token"]):
        r = api.get("/customers", token=tok)
        assert (r.status, r.json["error"]["code"]) == (401, "member_ended"), r
    for refresh in (helper["refresh_token"], second["refresh_token"]):
        assert api.post("/auth/refresh", {"refresh_token": refresh}).status == 401
    r = login(api, "helper@example.com")
    assert (r.status, r.json["error"]["code"]) == (401, "invalid_credentials")
    live = db.get_db().sessions.count_documents({"member_id": ObjectId(member_id), "revoked_at": None})
    assert live == 0
    assert api.get("/members", token=owner).json["items"] == []
    assert api.delete(f"/members/{member_id}", token=owner).status == 404


def test_role_change_ends_the_old_roles_tokens(api, owner):
    member_id, helper = join(api, owner)
    r = api.patch(f"/members/{member_id}", {"role": "owner"}, token=owner)
    assert r.status == 200 and r.json["role"] == "owner", r
    assert api.get("/customers", token=helper["token"]).status == 401
    assert api.post("/auth/refresh", {"refresh_token": helper["refresh_token"]}).status == 401
    again = login(api, "helper@example.com").json
    assert api.get("/members", token=again["token"]).status == 200  # the new role's rights
    # Demoted: the owner token it had stops at once, no owner rights left.
    assert api.patch(f"/members/{member_id}", {"role": "staff"}, token=owner).status == 200
    r = api.get("/members", token=again["token"])
    assert (r.status, r.json["error"]["code"]) == (401, "member_ended")
    now_staff = login(api, "helper@example.com").json
    assert api.get("/members", token=now_staff["token"]).status == 403


def test_owner_password_change_leaves_members_logged_in(api, owner):
    _, helper = join(api, owner)
    r = api.post(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": "quiet lantern meadow 4"},
        token=owner,
    )
    assert r.status == 204, r
    assert api.post("/auth/refresh", {"refresh_token": helper["refresh_token"]}).status == 200


def test_member_changes_their_own_password_not_the_owners(api, owner):
    _, helper = join(api, owner)
    r = api.post(
        "/auth/password",
        {"current_password": HELPER_PASSWORD, "new_password": "quiet lantern meadow 4"},
        token=helper["token"],
    )
    assert r.status == 204, r
    assert login(api, "owner@example.com", PASSWORD).status == 200
    assert login(api, "helper@example.com", "quiet lantern meadow 4").status == 200
    assert login(api, "helper@example.com").status == 401


def test_other_shop_cannot_touch_members(api, owner):
    member_id, _ = join(api, owner)
    other = api.signup(email="other@example.com", shop_name="Osaka Finds")
    assert api.get("/members", token=other).json["items"] == []
    assert api.patch(f"/members/{member_id}", {"role": "owner"}, token=other).status == 404
    assert api.delete(f"/members/{member_id}", token=other).status == 404
    assert api.get("/members", token=owner).json["items"][0]["role"] == "staff"


def test_member_token_costs_one_read_owner_token_none(api, owner, commands):
    """The owner's requests cost no command for auth; a member's, one find by _id."""
    member_id, helper = join(api, owner)
    if commands is None:
        pytest.skip("mongomock speaks no wire protocol: nothing to count")
    counts = {}
    for who, tok in (("owner", owner), ("member", helper["token"])):
        commands.names.clear()
        commands.bodies.clear()
        assert api.get("/customers", token=tok).status == 200
        counts[who] = list(commands.names)
        if who == "member":
            member_finds = [b for b in commands.bodies if b.get("find") == "members"]
    assert len(counts["member"]) == len(counts["owner"]) + 1, counts
    assert len(member_finds) == 1 and member_finds[0]["filter"]["_id"] == ObjectId(member_id)


# --- a member's forgotten password, a lost invite (issue 31's last slice) --------------------

NEW_PASSWORD = "quiet lantern meadow 4"


def _reset_links(sent, to):
    import re

    found = [
        m
        for msg in sent
        if to in msg.destinations["ToAddresses"]
        for m in re.findall(r"#reset=([A-Za-z0-9_-]{43})", msg.body)
    ]
    return list(dict.fromkeys(found))


@pytest.fixture
def quick_resets(monkeypatch):
    from chalicelib.accounts import auth

    monkeypatch.setattr(auth, "RESET_FLOOR_SECONDS", 0.0)


def test_a_member_resets_a_forgotten_password(api, owner, ses, quick_resets):
    member_id, helper = join(api, owner)
    other = login(api, "helper@example.com").json
    for _ in range(5):
        login(api, "helper@example.com", "bad guess!!")
    assert login(api, "helper@example.com").status == 429
    known = api.post("/auth/password-reset/request", {"email": "HELPER@example.com"})
    unknown = api.post("/auth/password-reset/request", {"email": "nobody@example.com"})
    assert known.status == unknown.status == 202 and known.json == unknown.json
    (link,) = _reset_links(ses, "helper@example.com")
    (msg,) = [m for m in ses if "helper@example.com" in m.destinations["ToAddresses"] and "#reset=" in m.body]
    assert "Tokyo Picks" in msg.subject  # the shop's name, in its language
    stored = db.get_db().password_resets.find_one({"member_id": ObjectId(member_id)})
    assert stored["seller_id"] is not None and link not in str(stored)
    # A weak choice is refused and leaves the link usable.
    r = api.post("/auth/password-reset", {"token": link, "new_password": "password123"})
    assert r.status == 400 and r.json["error"]["code"] == "weak_password", r
    assert api.post("/auth/password-reset", {"token": link, "new_password": NEW_PASSWORD}).status == 204
    r = api.post("/auth/password-reset", {"token": link, "new_password": "another fine passphrase 3"})
    assert r.status == 400 and r.json["error"]["code"] == "invalid_reset_token"
    # The member's old sessions and access tokens end (a new generation); the owner's stay.
    for held in (helper, other):
        assert api.post("/auth/refresh", {"refresh_token": held["refresh_token"]}).status == 401
        assert api.get("/customers", token=held["token"]).status == 401
    assert api.get("/customers", token=owner).status == 200
    # The lock-out is cleared; the new password logs the member in to the shop; the owner's
    # password is untouched.
    assert login(api, "helper@example.com").status == 401
    back = login(api, "helper@example.com", NEW_PASSWORD)
    assert back.status == 200, back
    assert api.get("/auth/me", token=back.json["token"]).json["member"]["id"] == member_id
    assert login(api, "owner@example.com", PASSWORD).status == 200


def test_member_and_owner_reset_links_are_apart(api, owner, ses, quick_resets):
    """Only the newest link of each login works: the owner's asking does not withdraw a
    member's link, nor the other way round; the limit is per email, as for the owner."""
    join(api, owner)
    for email in ("helper@example.com", "owner@example.com", "helper@example.com"):
        assert api.post("/auth/password-reset/request", {"email": email}).status == 202
    old, new = _reset_links(ses, "helper@example.com")
    (owners,) = _reset_links(ses, "owner@example.com")
    assert api.post("/auth/password-reset", {"token": old, "new_password": NEW_PASSWORD}).status == 400
    assert api.post("/auth/password-reset", {"token": owners, "new_password": NEW_PASSWORD}).status == 204
    assert (
        api.post("/auth/password-reset", {"token": new, "new_password": "another fine passphrase 3"}).status
        == 204
    )
    assert login(api, "owner@example.com", NEW_PASSWORD).status == 200
    assert login(api, "helper@example.com", "another fine passphrase 3").status == 200
    for _ in range(3):
        api.post("/auth/password-reset/request", {"email": "helper@example.com"})
    assert len(_reset_links(ses, "helper@example.com")) == 3  # at most 3 emails an hour


def test_no_reset_for_an_invited_or_removed_member(api, owner, ses, quick_resets):
    invite(api, owner, email="pending@example.com")
    member_id, _ = join(api, owner)
    api.post("/auth/password-reset/request", {"email": "helper@example.com"})
    (link,) = _reset_links(ses, "helper@example.com")
    assert api.delete(f"/members/{member_id}", token=owner).status == 204
    r = api.post("/auth/password-reset", {"token": link, "new_password": NEW_PASSWORD})
    assert r.status == 400 and r.json["error"]["code"] == "invalid_reset_token", r
    for email in ("pending@example.com", "helper@example.com"):
        assert api.post("/auth/password-reset/request", {"email": email}).status == 202
    assert (
        _reset_links(ses, "pending@example.com") == [] and len(_reset_links(ses, "helper@example.com")) == 1
    )
    assert login(api, "helper@example.com", NEW_PASSWORD).status == 401


def test_a_members_password_change_ends_their_other_sessions_only(api, owner):
    _, helper = join(api, owner)
    other = login(api, "helper@example.com").json
    r = api.post(
        "/auth/password",
        {"current_password": HELPER_PASSWORD, "new_password": NEW_PASSWORD},
        token=helper["token"],
    )
    assert r.status == 204, r
    assert api.post("/auth/refresh", {"refresh_token": other["refresh_token"]}).status == 401
    assert api.post("/auth/refresh", {"refresh_token": helper["refresh_token"]}).status == 200
    r = api.post(
        "/auth/password", {"current_password": "wrong one!!", "new_password": NEW_PASSWORD}, token=owner
    )
    assert r.status == 400 and r.json["error"]["details"][0]["field"] == "current_password"


def test_the_owner_reissues_an_expired_invite(api, owner, ses):
    first = invite(api, owner)
    old = token_of(first["invite_url"])
    db.get_db().members.update_one(
        {"_id": ObjectId(first["id"])},
        {"$set": {"expires_at": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)}},
    )
    (listed,) = api.get("/members", token=owner).json["items"]
    assert listed["status"] == "invited" and listed["invite_url"] is None and listed["invite_expired"] is True
    r = api.post(f"/members/{first['id']}/invite", token=owner)
    assert r.status == 200 and r.json["emailed"] is True, r
    new = token_of(r.json["invite_url"])
    assert new != old
    assert any(
        r.json["invite_url"] in m.body for m in ses if "helper@example.com" in m.destinations["ToAddresses"]
    )
    (listed,) = api.get("/members", token=owner).json["items"]
    assert listed["invite_url"] == r.json["invite_url"] and listed["invite_expired"] is False
    # The old link stops working (a re-issue of a live link too); the new one joins.
    again = api.post(f"/members/{first['id']}/invite", token=owner).json
    r = api.post("/members/accept", {"token": new, "password": HELPER_PASSWORD})
    assert r.status == 400 and r.json["error"]["code"] == "invalid_invite_token", r
    assert api.post("/members/accept", {"token": old, "password": HELPER_PASSWORD}).status == 400
    assert (
        api.post(
            "/members/accept", {"token": token_of(again["invite_url"]), "password": HELPER_PASSWORD}
        ).status
        == 200
    )
    # A member who joined has no invite to re-issue; staff and another shop may not.
    r = api.post(f"/members/{first['id']}/invite", token=owner)
    assert r.status == 409 and r.json["error"]["code"] == "member_joined", r
    _, staff = join(api, owner, email="staff@example.com")
    assert api.post(f"/members/{first['id']}/invite", token=staff["token"]).status == 403
    other = api.signup(email="other@example.com", shop_name="Osaka Finds")
    assert api.post(f"/members/{first['id']}/invite", token=other).status == 404
    assert api.post("/members/not-an-id/invite", token=owner).status == 404
