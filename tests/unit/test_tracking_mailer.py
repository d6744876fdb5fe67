"""Tracking-link email: both languages, escaping, and refusing to send unconfigured."""

import pytest

from chalicelib.platform import config, mailer

URL = "https://shop.example.test/track.html#abc_DEF-123"


def test_traditional_chinese_is_the_default():
    for language in ("zh-Hant", "fr", ""):
        e = mailer.tracking_link_email("a@example.com", "東京代購", "王小美", URL, language)
        assert e.subject == "東京代購：您的訂單追蹤連結"
        assert "王小美 您好" in e.text and URL in e.text
        # Earlier links do keep working (tracking.py): the email must not say otherwise.
        assert "先前收到的追蹤連結仍可使用" in e.text and "先前收到的追蹤連結仍可使用" in e.html
        assert "已失效" not in e.text and "已失效" not in e.html
        assert f'<a href="{URL}">{URL}</a>' in e.html


def test_english():
    e = mailer.tracking_link_email("a@example.com", "Tokyo Picks", "Mei", URL, "en")
    assert e.subject == "Tokyo Picks: your order tracking link"
    assert e.text.startswith("Hello Mei,") and URL in e.text
    assert "Links you received earlier still work" in e.text and "no longer works" not in e.text
    assert "Links you received earlier still work" in e.html and "no longer works" not in e.html
    assert e.to == "a@example.com"


def test_names_are_escaped_in_html_and_kept_on_one_line_in_the_subject():
    e = mailer.tracking_link_email(
        "a@example.com", "<b>Shop</b>\r\nBcc: x@evil.test", "<i>Mei</i>", URL, "en"
    )
    assert "\n" not in e.subject and "\r" not in e.subject
    assert "<b>" not in e.html and "&lt;b&gt;Shop&lt;/b&gt;" in e.html
    assert "<i>" not in e.html and "&lt;i&gt;Mei&lt;/i&gt;" in e.html


def test_no_sender_configured_is_a_mail_error(monkeypatch):
    monkeypatch.setenv("SES_SENDER", "")
    config.reset_settings()
    mailer.reset_client()
    try:
        with pytest.raises(mailer.MailError, match="SES_SENDER"):
            mailer.send(mailer.tracking_link_email("a@example.com", "S", "B", URL, "en"))
        assert mailer._client is None  # refused before any AWS client was made
    finally:
        config.reset_settings()


def test_sends_text_and_html_through_ses(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("SES_SENDER", "noreply@shop.example.test")
    config.reset_settings()
    mailer.reset_client()
    try:
        with mock_aws():
            import boto3
            from moto.core import DEFAULT_ACCOUNT_ID
            from moto.ses import ses_backends

            boto3.client("ses", region_name="us-east-1").verify_email_identity(
                EmailAddress="noreply@shop.example.test"
            )
            message_id = mailer.send(
                mailer.tracking_link_email("a@example.com", "東京代購", "美", URL, "zh-Hant")
            )
            (sent,) = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
            assert sent.id == message_id and sent.subject == "東京代購：您的訂單追蹤連結"
            assert sent.destinations["ToAddresses"] == ["a@example.com"]
            assert URL in sent.body

            mailer.reset_client()
            monkeypatch.setenv("SES_SENDER", "not-verified@elsewhere.test")
            config.reset_settings()
            with pytest.raises(mailer.MailError):
                mailer.send(mailer.tracking_link_email("a@example.com", "S", "B", URL, "en"))
    finally:
        mailer.reset_client()
        config.reset_settings()
