"""The small set of domain errors and their one mapping to HTTP.

Domain code raises these; `web.api()` turns them into responses via `to_http`, so no
other module under `chalicelib/` needs the web framework.
"""

from __future__ import annotations

import re
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: list | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


class ValidationFailed(DomainError):
    status, code = 400, "validation_error"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


class Unavailable(DomainError):
    status, code = 503, "database_unavailable"


def error_body(code: str, message: str, details: list | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def to_http(exc: DomainError) -> tuple[int, dict[str, Any]]:
    return exc.status, error_body(exc.code, exc.message, exc.details)


def framework_error_body(code: str, message: str) -> dict[str, Any]:
    """Errors the web framework answers by itself (415, 405) in the contract's shape:
    `UnsupportedMediaType` becomes `unsupported_media_type`."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", code.removesuffix("Error")).lower()
    return error_body(snake, message)
