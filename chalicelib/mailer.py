"""Email through Amazon SES: the buyer's tracking link, in the shop's language.

boto3 is imported on first send only (it is in the Lambda runtime, and most requests
never send mail), and the client is kept for the life of the container.
"""

from __future__ import annotations

import html
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from .config import get_settings

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


# {shop}, {buyer} and {url} are filled in; HTML versions get escaped values.
TEMPLATES: dict[str, dict[str, str]] = {
    "zh-Hant": {
        "subject": "{shop}：您的訂單追蹤連結",
        "text": (
            "{buyer} 您好：\n\n"
            "這是您在「{shop}」的訂單追蹤連結，可隨時查看付款與出貨進度：\n\n"
            "{url}\n\n"
            "這個連結只屬於您，請勿轉寄給他人。舊的追蹤連結已失效。\n"
            "如果您沒有要求這封信，可以忽略它。\n"
        ),
        "html": (
            "<p>{buyer} 您好：</p>"
            "<p>這是您在「{shop}」的訂單追蹤連結，可隨時查看付款與出貨進度：</p>"
            '<p><a href="{url}">{url}</a></p>'
            "<p>這個連結只屬於您，請勿轉寄給他人。舊的追蹤連結已失效。<br>"
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
            "This link is yours alone: please do not forward it. Any earlier link no longer works.\n"
            "If you did not ask for this email, you can ignore it.\n"
        ),
        "html": (
            "<p>Hello {buyer},</p>"
            "<p>Here is your order tracking link for {shop}. It shows the payment and "
            "shipping status of your orders at any time:</p>"
            '<p><a href="{url}">{url}</a></p>'
            "<p>This link is yours alone: please do not forward it. Any earlier link no "
            "longer works.<br>If you did not ask for this email, you can ignore it.</p>"
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


def get_client() -> Any:
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import boto3

                # SES may live in another region than the Lambda (SES_REGION); default: the
                # function's own region.
                _client = boto3.client("ses", region_name=os.environ.get("SES_REGION") or None)
    return _client


def reset_client() -> None:
    """Forget the client (tests start a fresh moto mock per case)."""
    global _client
    with _lock:
        _client = None


def send(email: Email) -> str:
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
