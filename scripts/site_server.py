"""The local page server of `make run` (and of the browser tests): the built site at /, and
with --outbox the mail outbox (MAIL_OUTBOX, chalicelib/platform/outbox.py) at /outbox/.

One origin for both, so the links in an outbox message (PUBLIC_SITE_URL/index.html#reset=...)
open the page that serves them. The outbox is a folder beside the data, never inside the
built site: `make deploy` publishes static_site/dist, and mail must never go with it.
Outbox pages get a policy that runs no script and loads nothing from elsewhere.

With --blobs (BLOB_DIR, chalicelib/platform/blobs.py), item photos' images at /media/images/:
`make run`'s stand-in for the photo bucket (the originals under uploads/ are never served).

    site_server.py --port 8080 --dist static_site/dist [--outbox .data/outbox] [--blobs .data/blobs]
"""

from __future__ import annotations

import argparse
import functools
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/outbox"
OUTBOX_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "Cache-Control": "no-store",  # a reload shows the newest mail
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


MEDIA = "/media"
MEDIA_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}


def in_outbox(path: str) -> bool:
    p = urlsplit(path).path
    return p == PREFIX or p.startswith(PREFIX + "/")


def in_media(path: str) -> bool:
    return urlsplit(path).path.startswith(MEDIA + "/images/")


class Handler(SimpleHTTPRequestHandler):
    outbox: Path | None = None
    blobs: Path | None = None

    def translate_path(self, path: str) -> str:
        if self.blobs is not None and urlsplit(path).path.startswith(MEDIA + "/"):
            if not in_media(path):
                return str(self.blobs / "no-such-file")  # uploads/ (originals) are never served
            site, self.directory = self.directory, str(self.blobs)
            try:
                return super().translate_path(path[len(MEDIA) :])
            finally:
                self.directory = site
        if self.outbox is None or not in_outbox(path):
            return super().translate_path(path)
        # http.server's own mapping (it drops `..` and the like), rooted at the outbox.
        site, self.directory = self.directory, str(self.outbox)
        try:
            return super().translate_path(path[len(PREFIX) :] or "/")
        finally:
            self.directory = site

    def end_headers(self) -> None:
        if self.outbox is not None and in_outbox(self.path):
            for name, value in OUTBOX_HEADERS.items():
                self.send_header(name, value)
        if self.blobs is not None and in_media(self.path):
            for name, value in MEDIA_HEADERS.items():
                self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (http.server's name)
        pass  # quiet, like `python -m http.server >/dev/null` was


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a browser that closed its connection early: not worth a traceback
        super().handle_error(request, client_address)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--dist", required=True, help="the built site (scripts/build-site.sh)")
    parser.add_argument("--outbox", help="the MAIL_OUTBOX folder, served at /outbox/")
    parser.add_argument("--blobs", help="the BLOB_DIR folder: its images/ served at /media/images/")
    args = parser.parse_args(argv)
    handler = type("SiteHandler", (Handler,), {})
    if args.blobs:
        handler.blobs = Path(args.blobs).resolve()
    if args.outbox:
        sys.path.insert(0, str(ROOT))
        from chalicelib.platform import outbox

        handler.outbox = outbox.write_index(args.outbox).parent.resolve()  # "No mail yet" until the first
    server = Server((args.bind, args.port), functools.partial(handler, directory=args.dist))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
