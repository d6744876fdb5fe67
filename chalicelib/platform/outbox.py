"""The local outbox: with `MAIL_OUTBOX=<folder>` (`make run` sets `$DATA_DIR/outbox`; no
deployed stage may, config.py refuses it in Lambda) mail is written there instead of
sent, and the seller reads it at http://127.0.0.1:8080/outbox/ (scripts/site_server.py).

Per message: `<n>.eml` (the message as it would be sent, text and HTML, with To,
Subject and Date) and `<n>.html` (the same to read in a browser, its links
working); `index.html` lists them newest first and is written again on every send. Every
value is escaped: names and shop names are user input. The site server adds a CSP that
runs no script on these pages, and the message's own HTML is shown in a sandboxed frame.

Each send prints one line on the API's log (mailer.OutboxMailer): the address masked
and the file, not the link (tracking links do not expire, and a log gets pasted into bug
reports; the link is one click away in the outbox).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Protocol

from chalicelib.platform import clock

INDEX = "index.html"


class Message(Protocol):
    """mailer.Email (not imported: mailer imports this module)."""

    to: str
    subject: str
    text: str
    html: str


_NAME = re.compile(r"^(\d{6})\.eml$")
_URL = re.compile(r"https?://[^\s<>\"']+")
# One process writes the index at a time; two processes (a `make dev` restart) at worst
# leave an index one message behind until the next send.
_lock = threading.Lock()

STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans TC","PingFang TC",sans-serif;
margin:0 auto;max-width:46rem;padding:1rem;color:#212529;background:#fff}
h1{font-size:1.35rem;margin:.25rem 0 1rem}h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
a{color:#0a58ca}.muted{color:#5c636a;font-size:.875rem}
ol{list-style:none;padding:0;margin:0}li{border-top:1px solid #dee2e6;padding:.75rem 0}
li a{font-weight:600;display:block}.meta{display:block;color:#5c636a;font-size:.875rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem .75rem;margin:0}
dt{color:#5c636a}dd{margin:0}
.text{white-space:pre-wrap;border:1px solid #dee2e6;border-radius:.375rem;padding:.75rem;
background:#f8f9fa}
li a,dd,.text,.text a{overflow-wrap:anywhere}
iframe{width:100%;height:24rem;border:1px solid #dee2e6;border-radius:.375rem;background:#fff}
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _zh(text: str) -> str:
    return f'<span lang="zh-Hant">{text}</span>'


def masked(address: str) -> str:
    """`b***@example.com`: enough to tell buyers apart in a log, not the address."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _when(value: dt.datetime) -> str:
    """This computer's time: the seller reading the outbox sits at it."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")


def _linked(text: str) -> str:
    """Escaped text with its http(s) URLs as links (the href escaped as well)."""
    out, at = [], 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;:!?)")
        out.append(html.escape(text[at : m.start()]))
        out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        at = m.start() + len(url)
    out.append(html.escape(text[at:]))
    return "".join(out)


def message_page(email: Message, sent_at: dt.datetime, eml_name: str) -> str:
    # The message's HTML is the email as a mail program shows it: in a frame that may
    # run nothing and may only open links (at the top, on a click), whatever it holds.
    frame_doc = (
        '<!doctype html><meta charset="utf-8"><base target="_top">'
        f"<style>body{{font:16px/1.5 system-ui,sans-serif;margin:.75rem;overflow-wrap:anywhere}}</style>{email.html}"
    )
    body = (
        f'<p><a href="./">← Outbox · {_zh("寄件匣")}</a></p>'
        f"<h1>{html.escape(email.subject)}</h1>"
        "<dl>"
        f"<dt>To · {_zh('收件人')}</dt><dd>{html.escape(email.to)}</dd>"
        f"<dt>Date · {_zh('時間')}</dt><dd>{html.escape(_when(sent_at))}</dd>"
        f"<dt>Subject · {_zh('主旨')}</dt><dd>{html.escape(email.subject)}</dd>"
        "</dl>"
        f"<h2>Text · {_zh('純文字')}</h2>"
        f'<div class="text">{_linked(email.text)}</div>'
        f"<h2>HTML</h2>"
        '<iframe title="HTML" sandbox="allow-top-navigation-by-user-activation allow-popups '
        f'allow-popups-to-escape-sandbox" srcdoc="{html.escape(frame_doc)}"></iframe>'
        f'<p class="muted">Not sent: written by the local outbox (MAIL_OUTBOX). · '
        f"{_zh('未寄出：本機寄件匣（MAIL_OUTBOX）寫下的信。')} "
        f'<a href="{html.escape(eml_name)}">{html.escape(eml_name)}</a></p>'
    )
    return _page(f"{email.subject} · Outbox", body)


def _mime(email: Message, sent_at: dt.datetime) -> bytes:
    msg = EmailMessage()
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(sent_at)
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    return msg.as_bytes(policy=policy.SMTP)


def _messages(folder: Path) -> list[tuple[int, str, dict]]:
    """(number, page name, headers) of every message in the folder, newest first."""
    found = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if not m:
            continue
        with path.open("rb") as fp:
            headers = BytesParser(policy=policy.default).parse(fp, headersonly=True)
        found.append((int(m.group(1)), path.with_suffix(".html").name, headers))
    return sorted(found, key=lambda row: row[0], reverse=True)


def index_page(folder: Path) -> str:
    rows = []
    for _, page, headers in _messages(folder):
        sent_at = parsedate_to_datetime(headers["Date"])
        rows.append(
            f'<li><a href="{html.escape(page)}">{html.escape(str(headers["Subject"]))}</a>'
            f'<span class="meta">{html.escape(str(headers["To"]))} · {html.escape(_when(sent_at))}</span></li>'
        )
    listing = (
        f"<ol>{''.join(rows)}</ol>" if rows else f'<p class="muted">No mail yet. · {_zh("還沒有信。")}</p>'
    )
    body = (
        f"<h1>Mail outbox · {_zh('寄件匣')}</h1>"
        '<p class="muted">What this local shop would have emailed (nothing leaves this computer), '
        f"newest first. Reload for new mail. · {_zh('本機不寄信：這裡是原本會寄出的信，最新的在最上面；重新整理可看到新信。')}</p>"
        f"{listing}"
    )
    return _page("Mail outbox · 寄件匣", body)


def write_index(folder: str | Path) -> Path:
    """(Re)write index.html: after each message, and when the site server starts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / INDEX
    tmp = folder / f".{INDEX}.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(index_page(folder), encoding="utf-8")
    os.replace(tmp, target)  # a reader sees the old index or the new one, never half
    return target


def write(folder: str | Path, email: Message) -> Path:
    """Write one message and the index again; returns the message's page. OSError when
    the folder cannot be written (mailer.OutboxMailer makes that a MailError)."""
    folder = Path(folder)
    sent_at = clock.now()
    with _lock:
        folder.mkdir(parents=True, exist_ok=True)
        eml = _new_file(folder, _mime(email, sent_at))
        page = eml.with_suffix(".html")
        page.write_text(message_page(email, sent_at, eml.name), encoding="utf-8")
        write_index(folder)
    return page


def _new_file(folder: Path, data: bytes) -> Path:
    """The next number, claimed by creating its file (`x`): however many processes
    write, no two messages share a number, and the numbers give the order."""
    number = max((int(m.group(1)) for p in folder.iterdir() if (m := _NAME.match(p.name))), default=0)
    while True:
        number += 1
        path = folder / f"{number:06d}.eml"
        try:
            with path.open("xb") as fp:
                fp.write(data)
            return path
        except FileExistsError:
            continue
