"""What comes in and goes out of `chalicelib/accounts/`, as pydantic models on the bases of
`platform/schemas.py`: sellers: sign-up, login, sessions, passwords, the shop profile; a shop's members (issue 31). The OpenAPI document is built from these."""

# No `from __future__ import annotations` here: pydantic evaluates every field's annotation
# when the class is made, and as strings they are compiled and evaluated one by one first
# (~15 ms of a cold start, issue 32).
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    StringConstraints,
    field_validator,
    model_validator,
)

from chalicelib.platform import currencies
from chalicelib.platform.errors import Invalid
from chalicelib.platform.schemas import Email, In, Language, Model, Name, cannot_be_null, non_empty_patch

# Passwords are taken exactly as typed: the model's whitespace trimming is off for them.
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=10, max_length=256)]
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256)]
RefreshToken = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SignupIn(In):
    email: Email
    password: NewPassword
    shop_name: Name


class LoginIn(In):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: Password


class RefreshIn(In):
    refresh_token: RefreshToken


class PasswordChangeIn(In):
    current_password: Password
    new_password: NewPassword


class PasswordResetRequestIn(In):
    email: Email


class PasswordResetIn(In):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: NewPassword


class SellerPatch(In):
    shop_name: Name | None = None
    timezone: str | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    language: Language | None = None
    # Shown to buyers on their page: bank, branch code, account, LINE Pay id...
    payment_instructions: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = (
        None
    )
    notify_buyers: bool | None = None  # email buyers when a parcel ships or a payment is confirmed

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str | None) -> str | None:
        if v is not None and v not in available_timezones():
            raise Invalid("unknown_timezone", "unknown IANA time zone")
        return v

    @field_validator("currency")
    @classmethod
    def _shop_currency(cls, v: str | None) -> str | None:
        return v if v is None else currencies.check_shop_currency(v)

    @model_validator(mode="after")
    def _something(self):
        cannot_be_null(self, self.model_fields_set - {"payment_instructions"})
        return non_empty_patch(self)


Role = Literal["owner", "staff"]


class MemberIn(In):
    email: Email
    role: Role


class MemberInvitedOut(Model):
    id: str
    invite_url: str
    emailed: bool  # false: no mail set up, refused, or the day's invite emails used up


class MemberAcceptIn(In):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    password: NewPassword


class MemberInviteIn(In):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class MemberInviteOut(Model):
    """What an invite link's page says before the password is chosen: whose shop, and the
    email that will log in (the password manager's username)."""

    shop_name: str
    email: str
    role: Role
    expires_at: str


class MemberPatch(In):
    role: Role


class MemberOut(Model):
    id: str
    email: str
    role: Role
    status: Literal["invited", "active"]
    invited_at: str
    accepted_at: str | None = None
    # A pending invite's link, to copy again (LINE); absent once accepted or expired.
    invite_url: str | None = None
    invite_expires_at: str | None = None
    invite_expired: bool | None = None  # a pending invite past its 7 days: send a new link


class MembersOut(Model):
    items: list[MemberOut]


class MeMemberOut(Model):
    id: str
    email: str
    role: Role


class SellerOut(Model):
    id: str
    email: str
    shop_name: str
    shop_slug: str
    timezone: str
    currency: str
    language: Language
    payment_instructions: str | None = None
    notify_buyers: bool = True
    # The member logged in (issue 31); null for the shop's own owner login.
    member: MeMemberOut | None = None


class SignupOut(Model):
    seller: SellerOut
    token: str
    expires_at: str
    refresh_token: str


class SellerUpdatedOut(Model):
    seller: SellerOut
    token: str


class LoginOut(Model):
    token: str
    expires_at: str
    refresh_token: str
