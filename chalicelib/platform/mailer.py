"""Email in the shop's language: the buyer's tracking link and the seller's password
reset link. Deployed, through Amazon SES; with `MAIL_OUTBOX=<folder>` (`make run` sets
it, no deployed stage may) into that folder instead (`outbox.py`), where the seller
reads it.

boto3 is imported on first send only (it is in the Lambda runtime, and most requests
never send mail), and the client is kept for the life of the container.
"""

from __future__ import annotations

import html
import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.platform.config import get_settings, plain_settings

log = logging.getLogger(__name__)

DEFAULT_LANGUAGE = "zh-Hant"

_lock = threading.Lock()
_client: Any = None


class MailError(Exception):
    """The message was not handed to SES (not configured, refused, or unreachable)."""


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str


def plain_email(to: str, subject: str, text: str) -> Email:
    """An email written as plain text: the subject on one line, the HTML part the text's
    paragraphs (blank-line separated), escaped, its line breaks kept."""
    return Email(
        to=to,
        subject=" ".join(subject.split()),
        text=text,
        html="".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n")),
    )


# {shop}, {buyer} and {url} are filled in; HTML versions get escaped values.
TEMPLATES: dict[str, dict[str, str]] = {
    "zh-Hant": {
        "subject": "{shop}：您的訂單追蹤連結",
        "text": (
            "{buyer} 您好：\n\n"
            "這是您在「{shop}」的訂單追蹤連結，可隨時查看付款與出貨進度：\n\n"
            "{url}\n\n"
            "這個連結只屬於您，請勿轉寄給他人。先前收到的追蹤連結仍可使用；若擔心連結落入他人手中，請聯絡店家更換連結。\n"
            "如果您沒有要求這封信，可以忽略它。\n"
        ),
        "html": (
            "<p>{buyer} 您好：</p>"
            "<p>這是您在「{shop}」的訂單追蹤連結，可隨時查看付款與出貨進度：</p>"
            '<p><a href="{url}">{url}</a></p>'
            "<p>這個連結只屬於您，請勿轉寄給他人。先前收到的追蹤連結仍可使用；若擔心連結落入他人手中，請聯絡店家更換連結。<br>"
            "如果您沒有要求這封信，可以忽略它。</p>"
        ),
    },
    "en": {
        "subject": "{shop}: your order tracking link",
        "text": (
            "Hello {buyer},\n\n"
            "Here is your order tracking link for {shop}. It shows the payment and shipping "
            "status of your orders at any time:\n\n"
            "{url}\n\n"
            "This link is yours alone: please do not forward it. Links you received earlier still work;\n"
            "if you think someone else has one, ask the shop for a new link.\n"
            "If you did not ask for this email, you can ignore it.\n"
        ),
        "html": (
            "<p>Hello {buyer},</p>"
            "<p>Here is your order tracking link for {shop}. It shows the payment and "
            "shipping status of your orders at any time:</p>"
            '<p><a href="{url}">{url}</a></p>'
            "<p>This link is yours alone: please do not forward it. Links you received "
            "earlier still work; if you think someone else has one, ask the shop for a new "
            "link.<br>If you did not ask for this email, you can ignore it.</p>"
        ),
    },
}


def _one_line(value: str) -> str:
    """Names go into the subject: no line breaks, whatever the seller typed."""
    return " ".join(value.split())


def tracking_link_email(to: str, shop_name: str, buyer_name: str, url: str, language: str) -> Email:
    t = TEMPLATES.get(language) or TEMPLATES[DEFAULT_LANGUAGE]
    shop, buyer = _one_line(shop_name), _one_line(buyer_name)
    esc = {"shop": html.escape(shop), "buyer": html.escape(buyer), "url": html.escape(url)}
    return Email(
        to=to,
        subject=t["subject"].format(shop=shop, buyer=buyer, url=url),
        text=t["text"].format(shop=shop, buyer=buyer, url=url),
        html=t["html"].format(**esc),
    )


# The seller's "forgot password" email; {shop} and {url} are filled in.
RESET_TEMPLATES: dict[str, dict[str, str]] = {
    "zh-Hant": {
        "subject": "{shop}：重設密碼",
        "text": (
            "您好：\n\n"
            "有人（希望是您）要求重設「{shop}」的登入密碼。請在 30 分鐘內開啟以下連結設定新密碼：\n\n"
            "{url}\n\n"
            "連結只能使用一次。設定新密碼後，所有裝置都會登出。\n"
            "如果您沒有要求重設，可以忽略這封信，密碼不會改變。\n"
        ),
        "html": (
            "<p>您好：</p>"
            "<p>有人（希望是您）要求重設「{shop}」的登入密碼。請在 30 分鐘內開啟以下連結設定新密碼：</p>"
            '<p><a href="{url}">{url}</a></p>'
            "<p>連結只能使用一次。設定新密碼後，所有裝置都會登出。<br>"
            "如果您沒有要求重設，可以忽略這封信，密碼不會改變。</p>"
        ),
    },
    "en": {
        "subject": "{shop}: reset your password",
        "text": (
            "Hello,\n\n"
            "Someone (hopefully you) asked to reset the password of {shop}. Open this link "
            "within 30 minutes to choose a new one:\n\n"
            "{url}\n\n"
            "The link works once. Choosing a new password logs out every device.\n"
            "If you did not ask for this, ignore this email: your password stays as it is.\n"
        ),
        "html": (
            "<p>Hello,</p>"
            "<p>Someone (hopefully you) asked to reset the password of {shop}. Open this link "
            "within 30 minutes to choose a new one:</p>"
            '<p><a href="{url}">{url}</a></p>'
            "<p>The link works once. Choosing a new password logs out every device.<br>"
            "If you did not ask for this, ignore this email: your password stays as it is.</p>"
        ),
    },
}


def password_reset_email(to: str, shop_name: str, url: str, language: str) -> Email:
    t = RESET_TEMPLATES.get(language) or RESET_TEMPLATES[DEFAULT_LANGUAGE]
    shop = _one_line(shop_name)
    return Email(
        to=to,
        subject=t["subject"].format(shop=shop),
        text=t["text"].format(shop=shop, url=url),
        html=t["html"].format(shop=html.escape(shop), url=html.escape(url)),
    )


INVITE_TEMPLATES = {
    "zh-Hant": {
        "subject": "{shop}：邀請您加入",
        "text": (
            "您好：\n\n「{shop}」邀請您一起管理訂單。請在 7 天內開啟以下連結設定密碼：\n\n{url}\n\n"
            "連結只能使用一次。如果您不認識這間店，可以忽略這封信。\n"
        ),
    },
    "en": {
        "subject": "{shop}: you are invited to help",
        "text": (
            "Hello,\n\n{shop} invites you to help with its orders. Open this link within 7 days "
            "to choose your password:\n\n{url}\n\n"
            "The link works once. If you do not know this shop, ignore this email.\n"
        ),
    },
}


def member_invite_email(to: str, shop_name: str, url: str, language: str) -> Email:
    """A shop's invite to a helper (accounts/members.py); plain text, the URL on its own line."""
    t = INVITE_TEMPLATES.get(language) or INVITE_TEMPLATES[DEFAULT_LANGUAGE]
    shop = _one_line(shop_name)
    return plain_email(to, t["subject"].format(shop=shop), t["text"].format(shop=shop, url=url))


def get_client() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import boto3

                _client = boto3.client("ses", region_name=plain_settings().ses_region)
    return _client


def reset_client() -> None:
    """Forget the client (tests start a fresh moto mock per case)."""
    global _client
    with _lock:
        _client = None


def send(email: Email) -> str:
    """Hand one message to the configured adapter (`configured()`); returns its message
    id. Raises MailError on any failure."""
    return configured().send(email)


def ses_send(email: Email) -> str:
    """Hand one message to SES; returns its message id. Raises MailError on any failure."""
    sender = get_settings().ses_sender
    if not sender:
        raise MailError("SES_SENDER is not configured")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        resp = get_client().send_email(
            Source=sender,
            Destination={"ToAddresses": [email.to]},
            Message={
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": email.text, "Charset": "UTF-8"},
                    "Html": {"Data": email.html, "Charset": "UTF-8"},
                },
            },
        )
    except (BotoCoreError, ClientError) as exc:
        raise MailError(f"SES refused the message: {exc.__class__.__name__}") from exc
    return resp["MessageId"]


class Mailer(Protocol):
    """What the event handlers that email buyers need (notifications): injected, so
    their tests use an in-memory fake instead of SES."""

    def ready(self) -> bool:
        """False: no email is set up (a local run); nothing is claimed or sent."""
        ...

    def send(self, email: Email) -> str:
        """The message id; MailError when the message was not handed over."""
        ...


class SesMailer:
    """Amazon SES: what every deployed stage uses."""

    def ready(self) -> bool:
        return bool(get_settings().ses_sender)

    def send(self, email: Email) -> str:
        return ses_send(email)


SES = SesMailer()


class OutboxMailer:
    """`make run`'s: each message is written into a folder the seller reads at /outbox/
    (outbox.py), and announced by one line on the API's log."""

    def __init__(self, folder: str):
        self.folder = folder

    def ready(self) -> bool:
        return True

    def send(self, email: Email) -> str:
        from chalicelib.platform import outbox  # never imported in AWS

        try:
            page = outbox.write(self.folder, email)
        except OSError as exc:
            raise MailError(f"the outbox {self.folder} is not writable: {exc}") from exc
        # The address masked and no link: logs get pasted; the outbox has it all.
        print(f"mail to {outbox.masked(email.to)}: {email.subject} → {page}", file=sys.stderr, flush=True)
        return page.stem


def configured() -> Mailer:
    """The local outbox when MAIL_OUTBOX names a folder, otherwise SES (read per call;
    settings are cached per process)."""
    folder = plain_settings().mail_outbox
    return OutboxMailer(folder) if folder else SES


class ConfiguredMailer:
    """The default of the event handlers (notifications): `configured()`'s readiness,
    and sends through `send` (looked up at call time, so a test may replace
    `mailer.send` and see every email, whichever code path sends it)."""

    def ready(self) -> bool:
        return configured().ready()

    def send(self, email: Email) -> str:
        return send(email)


DEFAULT = ConfiguredMailer()
