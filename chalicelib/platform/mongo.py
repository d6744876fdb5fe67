"""pymongo's names as the app uses them (`mongo.ReturnDocument.AFTER`, `except
mongo.DuplicateKeyError:`), imported on first use rather than with `app`.

Importing pymongo takes about a quarter of a cold start (~65 ms: its package loads the
asyncio client too); the first request that reaches the database imports it anyway, so
a request that needs none (a bad token's 401, /openapi.json) never pays for it (issue 32,
docs/performance.md). Read a name as an attribute where it is used: `from .mongo import X`
would import pymongo at once. An `except mongo.X:` clause looks its name up only when an
exception passes through it.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ASCENDING": "pymongo",
    "DESCENDING": "pymongo",
    "IndexModel": "pymongo",
    "MongoClient": "pymongo",
    "ReturnDocument": "pymongo",
    "UpdateOne": "pymongo",
    "BulkWriteError": "pymongo.errors",
    "ConnectionFailure": "pymongo.errors",
    "DuplicateKeyError": "pymongo.errors",
    "ExecutionTimeout": "pymongo.errors",
    "OperationFailure": "pymongo.errors",
    "PyMongoError": "pymongo.errors",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # later reads are plain module attributes
    return value
