"""HTTP routes of `chalicelib/accounts/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.accounts import auth
from chalicelib.accounts.schemas import (
    LoginIn,
    LoginOut,
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
