"""HTTP routes of `chalicelib/accounts/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.accounts import auth, members
from chalicelib.accounts.schemas import (
    LoginIn,
    LoginOut,
    MemberAcceptIn,
    MemberIn,
    MemberInvitedOut,
    MemberInviteIn,
    MemberInviteOut,
    MemberOut,
    MemberPatch,
    MembersOut,
    PasswordChangeIn,
    PasswordResetIn,
    PasswordResetRequestIn,
    RefreshIn,
    SellerOut,
    SellerPatch,
    SellerUpdatedOut,
    SignupIn,
    SignupOut,
)
from chalicelib.platform.schemas import AcceptedOut
from chalicelib.platform.web import api, body, client_address

# --- sellers --------------------------------------------------------------------------


@api(
    "/auth/signup",
    "POST",
    "Create a seller account",
    body=SignupIn,
    out=SignupOut,
    status=201,
    public=True,
    also=(403,),
)
def signup():
    return auth.signup(body(SignupIn))


@api(
    "/auth/login",
    "POST",
    "Log in: a short-lived token and a refresh token",
    body=LoginIn,
    out=LoginOut,
    public=True,
    also=(401,),
)
def login():
    return auth.login(body(LoginIn), client_address())


@api(
    "/auth/refresh",
    "POST",
    "A new token; the refresh token given stops working",
    body=RefreshIn,
    out=LoginOut,
    public=True,
    also=(401,),
)
def refresh_session():
    return auth.refresh(body(RefreshIn).refresh_token)


@api(
    "/auth/logout",
    "POST",
    "End the session of this refresh token",
    body=RefreshIn,
    status=204,
    public=True,
    also=(401,),
)
def logout():
    return auth.logout(body(RefreshIn).refresh_token)


@api(
    "/auth/password",
    "POST",
    "Change the password; every other session ends",
    body=PasswordChangeIn,
    status=204,
)
def change_password(who):
    return auth.change_password(who, body(PasswordChangeIn), client_address())


@api(
    "/auth/password-reset/request",
    "POST",
    "Email a link to choose a new password (always 202)",
    body=PasswordResetRequestIn,
    out=AcceptedOut,
    status=202,
    public=True,
)
def request_password_reset():
    return auth.request_password_reset(body(PasswordResetRequestIn))


@api(
    "/auth/password-reset",
    "POST",
    "Choose a new password with the emailed link",
    body=PasswordResetIn,
    status=204,
    public=True,
)
def reset_password():
    return auth.reset_password(body(PasswordResetIn))


@api("/auth/me", "GET", "The logged-in seller", out=SellerOut)
def get_me(who):
    return auth.me(who)


@api("/auth/me", "PATCH", "Change shop name, time zone or currency", body=SellerPatch, out=SellerUpdatedOut)
def patch_me(who):
    return auth.update_me(who, body(SellerPatch))


# --- members (issue 31) ---------------------------------------------------------------


@api(
    "/members",
    "POST",
    "Invite a member by email; the link is also returned, to send by LINE (owner only)",
    body=MemberIn,
    out=MemberInvitedOut,
    status=201,
    also=(403, 409),
)
def invite_member(who):
    return members.invite(who, body(MemberIn))


@api("/members", "GET", "The shop's members and pending invites (owner only)", out=MembersOut, also=(403,))
def list_members(who):
    return members.list_members(who)


@api(
    "/members/invite-info",
    "POST",
    "An invite link's shop, email and role, shown before the helper chooses a password",
    body=MemberInviteIn,
    out=MemberInviteOut,
    public=True,
    also=(410,),
)
def describe_member_invite():
    return members.describe_invite(body(MemberInviteIn))


@api(
    "/members/accept",
    "POST",
    "Join a shop with an invite link and a new password; logged in at once",
    body=MemberAcceptIn,
    out=LoginOut,
    public=True,
    also=(410,),
)
def accept_member_invite():
    return auth.accept_invite(body(MemberAcceptIn))


@api(
    "/members/{member_id}/invite",
    "POST",
    "A pending invite's new link, emailed again; the old link stops working (owner only)",
    out=MemberInvitedOut,
    also=(403, 404, 409),
)
def reissue_member_invite(who, member_id):
    return members.reissue(who, member_id)


@api(
    "/members/{member_id}",
    "PATCH",
    "Change a member's role; their sessions end (owner only)",
    body=MemberPatch,
    out=MemberOut,
    also=(403, 404, 409),
)
def patch_member(who, member_id):
    return members.change_role(who, member_id, body(MemberPatch))


@api(
    "/members/{member_id}",
    "DELETE",
    "Remove a member or withdraw an invite; their sessions end (owner only)",
    status=204,
    also=(403, 404, 409),
)
def delete_member(who, member_id):
    return members.remove(who, member_id)
