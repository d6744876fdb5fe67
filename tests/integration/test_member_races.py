"""Members raced on the real servers (issue 31): a removal or a role change racing the
member's requests, refreshes and logins leaves nothing of the member working once it has
committed, and no live session; accepts of one invite at once make one member; invites
of one email at once make one invite. The racing calls are the domain's own (chalice's
test client shares `current_request` between threads); what is left is checked over HTTP."""

from __future__ import annotations

import threading

import jwt
import pytest
from bson import ObjectId

from chalicelib.accounts import auth, members
from chalicelib.accounts.schemas import (
    LoginIn,
    MemberAcceptIn,
    MemberIn,
    MemberPatch,
    PasswordResetIn,
    SignupIn,
)
from chalicelib.platform import db
from tests.conftest import at_once

pytestmark = pytest.mark.parametrize("backend", ["ferretdb", "mongo-java"], indirect=True)
PASSWORD = "violet teapot harbour 9"


@pytest.fixture
def owner(api):
    return api.signup(email="owner@example.com")


def join(api, owner, email):
    made = api.post("/members", {"email": email, "role": "staff"}, token=owner).json
    token = made["invite_url"].split("#invite=")[1]
    assert api.post("/members/accept", {"token": token, "password": PASSWORD}).status == 200
    return made["id"]


def login(api, email):
    return api.post("/auth/login", {"email": email, "password": PASSWORD})


def _claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def request(token):
    """What a member's request does first: the token's check, then the route (here me)."""
    return auth.me(auth.authenticate(f"Bearer {token}"))


@pytest.mark.parametrize("change", ["removal", "role_change"])
def test_change_racing_the_members_requests_leaves_nothing_working(api, owner, change):
    boss = auth.authenticate(f"Bearer {owner}")
    for round_no in range(3):
        email = f"helper{round_no}@example.com"
        member_id = join(api, owner, email)
        held = [login(api, email).json for _ in range(4)]
        if change == "removal":
            calls = [lambda: members.remove(boss, member_id)]
        else:
            calls = [lambda: members.change_role(boss, member_id, MemberPatch(role="owner"))]
        for h in held:
            calls.append(lambda h=h: request(h["token"]))
            calls.append(lambda h=h: auth.refresh(h["refresh_token"]))
        calls += [lambda: auth.login(LoginIn(email=email, password=PASSWORD), "10.0.0.1")] * 2
        answers = at_once(calls)
        assert not isinstance(answers[0], str), answers[0]
        got = [a for a in answers[1:] if isinstance(a, dict)]
        tokens = [h["token"] for h in held] + [a["token"] for a in got if "token" in a]
        refreshes = [h["refresh_token"] for h in held] + [
            a["refresh_token"] for a in got if "refresh_token" in a
        ]
        # Everything the member held at the old generation, from before or from the race,
        # is refused. A role change lets a login that began after it in, with the new role.
        old = [t for t in tokens if _claims(t)["mg"] == 0]
        assert len(old) >= len(held)
        if change == "removal":
            assert old == tokens
        assert all(_claims(t)["role"] == "owner" for t in tokens if t not in old)
        for tok in old:
            r = api.get("/customers", token=tok)
            assert (r.status, r.json["error"]["code"]) == (401, "member_ended"), (round_no, r)
        new_sessions = {_claims(t)["sid"] for t in tokens if t not in old}
        for refresh in refreshes:
            if refresh.split(".")[0] not in new_sessions:
                assert api.post("/auth/refresh", {"refresh_token": refresh}).status == 401
        live = db.get_db().sessions.count_documents(
            {"member_id": ObjectId(member_id), "member_gen": 0, "revoked_at": None}
        )
        assert live == 0, (round_no, live)
        if change == "removal":
            assert login(api, email).status == 401
        else:  # the new role logs in again, with its own rights
            again = login(api, email)
            assert again.status == 200 and api.get("/members", token=again.json["token"]).status == 200
            assert api.delete(f"/members/{member_id}", token=owner).status == 204


def test_accepts_of_one_invite_at_once_make_one_member(api, owner):
    for round_no in range(3):
        made = api.post("/members", {"email": f"h{round_no}@example.com", "role": "staff"}, token=owner).json
        token = made["invite_url"].split("#invite=")[1]
        passwords = [f"violet teapot harbour {i}x" for i in range(6)]
        answers = at_once(
            [lambda p=p: auth.accept_invite(MemberAcceptIn(token=token, password=p)) for p in passwords]
        )
        won = [i for i, a in enumerate(answers) if isinstance(a, dict)]
        assert len(won) == 1, (round_no, answers)
        assert sorted(a for a in answers if isinstance(a, str)) == ["invalid_invite_token"] * 5
        winner = passwords[won[0]]
        docs = list(db.get_db().members.find({"email": f"h{round_no}@example.com"}))
        assert len(docs) == 1 and docs[0]["status"] == "active"
        assert db.get_db().sessions.count_documents({"member_id": docs[0]["_id"]}) == 1
        r = api.post("/auth/login", {"email": f"h{round_no}@example.com", "password": winner})
        assert r.status == 200, r
        loser = next(p for p in passwords if p != winner)
        assert api.post("/auth/login", {"email": f"h{round_no}@example.com", "password": loser}).status == 401


def test_invites_of_one_email_at_once_make_one(api, owner):
    shops = [auth.authenticate(f"Bearer {t}") for t in (owner, api.signup(email="other@example.com"))]
    for round_no in range(3):
        email = f"twice{round_no}@example.com"
        answers = at_once(
            [lambda w=w: members.invite(w, MemberIn(email=email, role="staff")) for w in shops * 3]
        )
        assert sorted(str(a) for a in answers if isinstance(a, str)) == ["email_taken"] * 5, answers
        assert db.get_db().members.count_documents({"email_lower": email}) == 1


def test_a_login_whose_check_spans_a_removal_gets_no_session(api, owner, monkeypatch):
    """The narrow window, made to happen every time: the login has read the member, the
    removal commits while the password is being checked, then the login starts its
    session. It must answer 401 and leave that session ended."""
    boss = auth.authenticate(f"Bearer {owner}")
    member_id = join(api, owner, "helper@example.com")
    checking, removed = threading.Event(), threading.Event()
    real_verify = auth.verify_password

    def verify_during_removal(password, stored):
        checking.set()
        assert removed.wait(10)
        return real_verify(password, stored)

    def remove():
        assert checking.wait(10)
        members.remove(boss, member_id)
        removed.set()

    monkeypatch.setattr(auth, "verify_password", verify_during_removal)
    answers = at_once(
        [lambda: auth.login(LoginIn(email="helper@example.com", password=PASSWORD), "10.0.0.1"), remove]
    )
    assert answers[0] == "member_ended", answers
    live = db.get_db().sessions.count_documents({"member_id": ObjectId(member_id), "revoked_at": None})
    assert live == 0


def test_a_signup_and_an_invite_of_one_email_at_once_make_one_login(api, owner, monkeypatch):
    """No unique index spans sellers and members: the two take turns on the email, so one
    wins and the other is 409 email_taken, and the email logs in to one account only. The
    sign-up's slow password hash is skipped so that both reach the email at the same time."""
    monkeypatch.setattr(auth, "hash_password", lambda password: "scrypt$not-a-hash")
    monkeypatch.setattr(auth, "check_strength", lambda password, inputs: None)
    boss = auth.authenticate(f"Bearer {owner}")
    for round_no in range(20):
        email = f"both{round_no}@example.com"
        signup = SignupIn(email=email, password="correct horse 1", shop_name="Race shop")
        calls = [
            lambda: auth.create_seller(signup),
            lambda: members.invite(boss, MemberIn(email=email, role="staff")),
        ]
        answers = at_once(calls[::-1] if round_no % 2 else calls)
        assert sorted(a for a in answers if isinstance(a, str)) == ["email_taken"], answers
        accounts = db.get_db().sellers.count_documents(
            {"email_lower": email}
        ) + db.get_db().members.count_documents({"email_lower": email})
        assert accounts == 1, (round_no, answers)


# --- a member's forgotten password (issue 31's last slice) -----------------------------------


@pytest.fixture
def mailbox(monkeypatch):
    """The reset emails, caught (no SES): their links are read from the text."""
    sent = []
    monkeypatch.setattr(auth.mailer, "send", lambda email: sent.append(email) or "id")
    monkeypatch.setattr(auth, "RESET_FLOOR_SECONDS", 0.0)
    return sent


def _links(sent, email):
    return [m.text.split("#reset=")[1].split()[0] for m in sent if email in m.to]


def test_reset_requests_at_once_leave_one_live_link(api, owner, mailbox):
    """Only the newest link works: parallel asks must not leave two live links."""
    for round_no in range(4):
        email = f"forgot{round_no}@example.com"
        member_id = join(api, owner, email)
        at_once([lambda: auth._send_reset(email)] * 3)
        assert len(_links(mailbox, email)) == 3
        live = db.get_db().password_resets.count_documents(
            {"member_id": ObjectId(member_id), "used_at": None}
        )
        assert live == 1, (round_no, live)


def test_resets_of_one_member_link_at_once_apply_once(api, owner, mailbox):
    join(api, owner, "helper@example.com")
    auth._send_reset("helper@example.com")
    (link,) = _links(mailbox, "helper@example.com")
    choices = [f"quiet lantern meadow {i}" for i in range(6)]
    answers = at_once(
        [lambda p=p: auth.reset_password(PasswordResetIn(token=link, new_password=p)) for p in choices]
    )
    assert answers.count(None) == 1 and answers.count("invalid_reset_token") == 5, answers
    winner = choices[answers.index(None)]
    assert login_with(api, "helper@example.com", winner).status == 200
    assert login_with(api, "helper@example.com", choices[answers.index(None) - 1]).status == 401


def login_with(api, email, password):
    return api.post("/auth/login", {"email": email, "password": password})


def test_a_reset_racing_a_removal_leaves_nothing_working(api, owner, mailbox):
    """The member resets their password while the owner removes them: whichever commits
    first, afterwards no session of the member is live, no token or refresh token works,
    neither password logs in, and no reset link (used or not) sets anything."""
    boss = auth.authenticate(f"Bearer {owner}")
    for round_no in range(4):
        email = f"leaving{round_no}@example.com"
        member_id = join(api, owner, email)
        held = [login(api, email).json for _ in range(2)]
        auth._send_reset(email)
        (link,) = _links(mailbox, email)
        new = f"quiet lantern meadow {round_no}"
        calls = [
            lambda: auth.reset_password(PasswordResetIn(token=link, new_password=new)),
            lambda: members.remove(boss, member_id),
            lambda: auth._send_reset(email),
        ]
        answers = at_once(calls[::-1] if round_no % 2 else calls)
        assert None in answers, answers
        live = db.get_db().sessions.count_documents({"member_id": ObjectId(member_id), "revoked_at": None})
        assert live == 0, (round_no, answers, live)
        for h in held:
            assert api.get("/customers", token=h["token"]).status == 401
            assert api.post("/auth/refresh", {"refresh_token": h["refresh_token"]}).status == 401
        for password in (PASSWORD, new):
            assert login_with(api, email, password).status == 401
        for token in _links(mailbox, email):
            r = api.post(
                "/auth/password-reset", {"token": token, "new_password": "another fine passphrase 7"}
            )
            assert r.status == 400, (round_no, r)
        assert db.get_db().members.find_one({"_id": ObjectId(member_id)})["status"] == "removed"
