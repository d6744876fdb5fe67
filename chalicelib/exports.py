"""Export of every order of a seller as CSV or JSON.

Lambda cannot stream a response, so the body is built incrementally from a cursor read
in batches: only the text of the body and one batch of documents are in memory, never
all orders as Python objects. A synchronous Lambda response is at most 6 MB; an export
that would be larger stops early with 413 `export_too_large`, and the client pages with
`?limit=` and the returned cursor instead (see docs/api.md).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from . import clock, csv_format
from .db import get_db
from .errors import PayloadTooLarge, ValidationFailed
from .ids import object_id
from .listing import decode_cursor, encode_cursor
from .money import format_plain
from .orders import MONEY_FIELDS, to_out
from .principal import Principal

BATCH_SIZE = 500
MAX_PAGE = 5_000
# Lambda's 6 MB response limit, minus room for headers and API Gateway's envelope.
MAX_BODY_BYTES = 5_500_000
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class Export:
    """The body as text (CSV or JSON, by the requested format) and the next page's cursor."""

    body: str
    next_cursor: str | None


def parse_args(params: dict[str, str]) -> tuple[str, int | None, str | None]:
    fmt = params.get("format") or "csv"
    if fmt not in FORMATS:
        raise ValidationFailed("format must be csv or json", code="invalid_query")
    limit = None
    if params.get("limit"):
        raw = params["limit"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not 1 <= int(raw) <= MAX_PAGE:
            raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE:,}", code="invalid_limit")
        limit = int(raw)
    return fmt, limit, params.get("cursor") or None


def _csv_cells(doc: dict) -> list:
    out = to_out(doc)
    for name in MONEY_FIELDS:
        out[name] = format_plain(doc[name])
    out["history"] = (
        json.dumps(out["history"], ensure_ascii=False, separators=(",", ":")) if out["history"] else ""
    )
    return [out[c.key] for c in csv_format.ORDER_COLUMNS]


def orders(principal: Principal, fmt: str, limit: int | None, cursor: str | None, lang: str = "zh") -> Export:
    """Oldest first (by id), so an import of the file recreates the same order."""
    seller_id = object_id(principal.seller_id)
    query: dict = {"seller_id": seller_id}
    after = decode_cursor(cursor)
    if after is not None:
        query["_id"] = {"$gt": after}
    docs = get_db().orders.find(query).sort("_id", 1).batch_size(BATCH_SIZE)
    if limit is not None:
        docs = docs.limit(limit + 1)

    parts: list[str] = []
    size = 0
    line = io.StringIO()
    row_writer = csv.writer(line, lineterminator="\r\n")

    def add(text: str) -> None:
        nonlocal size
        size += len(text.encode("utf-8"))
        if size > MAX_BODY_BYTES:
            docs.close()
            raise PayloadTooLarge(
                "the export is larger than one response can carry (6 MB); "
                f"fetch it in pages with ?limit=(at most {MAX_PAGE}) and the next cursor",
                code="export_too_large",
            )
        parts.append(text)

    def csv_line(cells: list) -> str:
        line.seek(0)
        line.truncate()
        row_writer.writerow([csv_format.safe_cell(c) for c in cells])
        return line.getvalue()

    count = 0
    last_id = None
    more = False
    if fmt == "csv":
        add(csv_format.BOM + csv_line(csv_format.headers(csv_format.ORDER_COLUMNS, lang)))
    for doc in docs:
        if limit is not None and count == limit:
            more = True
            break
        if fmt == "csv":
            add(csv_line(_csv_cells(doc)))
        else:
            add(("," if count else "") + json.dumps(to_out(doc), ensure_ascii=False, separators=(",", ":")))
        last_id = doc["_id"]
        count += 1  # noqa: SIM113 - the loop may stop before the cursor is exhausted
    next_cursor = encode_cursor(last_id) if more and last_id is not None else None
    if fmt == "json":
        body = '{"items":[' + "".join(parts) + '],"next_cursor":' + json.dumps(next_cursor) + "}"
        return Export(body, next_cursor)
    return Export("".join(parts), next_cursor)


def filename_stem(principal: Principal) -> str:
    return f"orders-{clock.local_date(clock.now(), principal.timezone).isoformat()}"
