"""Answers a route returns that are not a JSON object: the web edge (platform/web.py)
sends each as its own kind of response. A CSV download is `csv_format.CsvFile`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HtmlPage:
    """An HTML document (a packing slip), sent with web.HTML_HEADERS."""

    text: str


@dataclass(frozen=True)
class JsonPage:
    """A JSON body built as text (`{"items": [...], "next_cursor": ...}`) and its cursor."""

    text: str
    next_cursor: str | None
