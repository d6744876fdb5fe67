"""The mail adapter configuration chooses: SES unless MAIL_OUTBOX names a folder (`make run`),
and then the local outbox, whose pages escape everything and list the newest mail first.
Deployed stages cannot carry MAIL_OUTBOX; the page server serves the outbox at /outbox/."""

from __future__ import annotations

import http.client
import importlib.util
import json
import re
import threading
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from chalicelib.platform import config, mailer, outbox

ROOT = Path(__file__).resolve().parents[2]
RESET_URL = "http://127.0.0.1:8080/index.html#reset=" + "T" * 43
EVIL = '<img src=x onerror="alert(1)">'


@pytest.fixture
def settings(monkeypatch):
    """Set environment variables, then read the settings again (and at the end)."""

    def set_(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        config.reset_settings()

    monkeypatch.delenv("MAIL_OUTBOX", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    config.reset_settings()
    yield set_
    config.reset_settings()
    mailer.reset_client()


def test_ses_is_the_adapter_when_no_outbox_is_configured(settings, tmp_path):
    settings(SES_SENDER="noreply@shop.example.test")
    assert mailer.configured() is mailer.SES
    assert mailer.DEFAULT.ready()
    settings(SES_SENDER="")
    assert mailer.configured() is mailer.SES and not mailer.DEFAULT.ready()  # nothing set up
    with pytest.raises(mailer.MailError, match="SES_SENDER"):
        mailer.send(mailer.password_reset_email("s@example.com", "Shop", RESET_URL, "en"))


def test_the_outbox_is_chosen_by_configuration_and_never_touches_ses(settings, tmp_path, capsys):
    box = tmp_path / "outbox"
    settings(MAIL_OUTBOX=str(box), SES_SENDER="noreply@shop.example.test")
    chosen = mailer.configured()
    assert isinstance(chosen, mailer.OutboxMailer) and chosen.folder == str(box) and mailer.DEFAULT.ready()
    mailer.reset_client()
    message_id = mailer.send(mailer.password_reset_email("bob@example.com", "Tokyo Picks", RESET_URL, "en"))
    assert mailer._client is None  # no SES client was made
    assert sorted(p.name for p in box.iterdir()) == ["000001.eml", "000001.html", "index.html"]
    assert message_id == "000001"
    with (box / "000001.eml").open("rb") as fp:
        eml = BytesParser(policy=policy.default).parse(fp)
    assert (eml["To"], eml["Subject"]) == ("bob@example.com", "Tokyo Picks: reset your password")
    assert eml["Date"]
    assert RESET_URL in eml.get_body(("plain",)).get_content()
    assert f'href="{RESET_URL}"' in eml.get_body(("html",)).get_content()
    page = (box / "000001.html").read_text()
    assert f'<a href="{RESET_URL}">{RESET_URL}</a>' in page  # the text part's link works
    # One line on the API's log: the address masked, the file, not the secret link.
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"mail to b***@example.com: Tokyo Picks: reset your password → {box / '000001.html'}"


def test_a_deployed_stage_refuses_the_outbox(settings, monkeypatch):
    settings(
        AWS_LAMBDA_FUNCTION_NAME="personal-shopper-prod",
        PUBLIC_SITE_URL="https://shop.example.test",
        CORS_ORIGIN="https://shop.example.test",
        SES_SENDER="noreply@shop.example.test",
    )
    assert config.plain_settings().mail_outbox == ""  # filled in, no outbox: starts
    settings(MAIL_OUTBOX="/tmp/outbox")
    with pytest.raises(RuntimeError, match="MAIL_OUTBOX"):
        config.plain_settings()


def test_no_stage_of_the_chalice_config_sets_an_outbox():
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    assert {"dev", "prod"} <= set(stages)
    for name, stage in stages.items():
        assert "MAIL_OUTBOX" not in stage.get("environment_variables", {}), name


def test_outbox_pages_escape_names_and_list_the_newest_first(tmp_path, capsys):
    box = mailer.OutboxMailer(str(tmp_path))
    first = mailer.tracking_link_email(
        "mei@example.com", f"Shop {EVIL}", "Mei</title><script>alert(2)</script>", "https://x.test/t#a", "en"
    )
    second = mailer.password_reset_email("o'<b>@example.com", "東京代購", RESET_URL, "zh-Hant")
    box.send(first)
    box.send(second)
    index = (tmp_path / "index.html").read_text()
    assert index.index("東京代購：重設密碼") < index.index("Shop &lt;img")  # newest first
    assert re.findall(r'<li><a href="([^"]+)"', index) == ["000002.html", "000001.html"]
    assert "Mail outbox" in index and "寄件匣" in index  # both languages
    assert '<meta name="viewport" content="width=device-width' in index  # a phone's width
    pages = [index, (tmp_path / "000001.html").read_text(), (tmp_path / "000002.html").read_text()]
    for page in pages:
        assert "<img" not in page and "<script" not in page and "<b>" not in page
    assert "Shop &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in pages[1]
    assert "o&#x27;&lt;b&gt;@example.com" in pages[2]
    # The message's own HTML sits in a frame that may run nothing, escaped into srcdoc.
    (frame,) = re.findall(r"<iframe [^>]*>", pages[1])
    assert 'sandbox="allow-top-navigation-by-user-activation' in frame and "allow-scripts" not in frame


def test_an_empty_outbox_says_so_and_an_unwritable_one_is_a_mail_error(tmp_path):
    outbox.write_index(tmp_path / "new")
    assert "No mail yet" in (tmp_path / "new" / "index.html").read_text()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(mailer.MailError, match="not writable"):
        mailer.OutboxMailer(str(blocked)).send(
            mailer.password_reset_email("s@example.com", "S", RESET_URL, "en")
        )


def test_messages_sent_at_once_each_get_their_own_number(tmp_path, capsys):
    box = mailer.OutboxMailer(str(tmp_path))
    emails = [mailer.password_reset_email(f"s{i}@example.com", "S", RESET_URL, "en") for i in range(8)]
    threads = [threading.Thread(target=box.send, args=(e,)) for e in emails]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p.name for p in tmp_path.glob("*.eml")) == [f"{n:06d}.eml" for n in range(1, 9)]
    assert len(re.findall(r"<li>", (tmp_path / "index.html").read_text())) == 8


def _site_server():
    spec = importlib.util.spec_from_file_location("site_server", ROOT / "scripts" / "site_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_server_serves_the_outbox_without_scripts_and_nothing_beside_it(tmp_path):
    site = _site_server()
    dist, data = tmp_path / "dist", tmp_path / "data"
    dist.mkdir()
    (dist / "index.html").write_text("seller page")
    (data / "jwt_secret").parent.mkdir()
    (data / "jwt_secret").write_text("secret")
    box = outbox.write_index(data / "outbox").parent
    handler = type("H", (site.Handler,), {"outbox": box})
    server = site.Server(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(dist)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:

        def get(path):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read().decode()

        assert get("/index.html")[::2] == (200, "seller page")
        status, headers, body = get("/outbox/")
        assert status == 200 and "No mail yet" in body
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert "script-src" not in headers["Content-Security-Policy"]
        assert headers["Cache-Control"] == "no-store"
        assert get("/outbox")[1]["Location"] == "/outbox/"
        for path in ("/outbox/../jwt_secret", "/outbox/%2e%2e/jwt_secret", "/jwt_secret"):
            assert get(path)[0] == 404, path
        assert "Content-Security-Policy" not in get("/index.html")[1]  # the site keeps its own
    finally:
        server.shutdown()
        server.server_close()
