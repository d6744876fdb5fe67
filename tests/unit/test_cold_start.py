"""A cold start imports only what the first request needs (issue 32, docs/performance.md
"Cold start"): `import app` in a fresh interpreter loads none of the heavy modules below
and builds no pydantic model, and deferring the models changes nothing they answer."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel, EmailStr, ValidationError

from chalicelib.platform import mongo
from chalicelib.platform.schemas import Email, In

ROOT = Path(__file__).resolve().parents[2]

# Kept off `import app`, each imported where it is first needed. A new entry in `import
# app` is a decision (measure it with bench/cold_start.py), not an accident.
HEAVY = {
    "pymongo": "~65 ms with its asyncio client; the first database call imports it (chalicelib/platform/mongo.py)",
    "asyncio": "pulled in by pymongo",
    "jwt": "~25 ms: its package loads a JWKS client (http.client); auth imports it on first token",
    "http.client": "pulled in by jwt's JWKS client",
    "email_validator": "~20 ms compiling regular expressions; the first email field checked imports it",
    "pydantic.networks": "EmailStr's module, which loads importlib.metadata",
    "importlib.metadata": "pulled in by pydantic.networks and pymongo",
    "babel": "~5 ms; currency digits, tender codes and formatted amounts import it",
    "jinja2": "packing slips only",
    "zxcvbn": "password strength: signup and password changes only",
    "boto3": "SSM and SES only, never in a local or test run",
    "openpyxl": "~60 ms, 1.4 MB: a bank statement's .xlsx only (money/statement_file.py)",
    "PIL": "Pillow: the photo thumbnails only (catalog/photos.make_images, in the S3 event's Lambda)",
}


def run_fresh(code: str) -> str:
    """`code` in a new interpreter from the project root (nothing imported by pytest)."""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_app_leaves_the_heavy_modules_out():
    modules = set(json.loads(run_fresh("import app, json, sys; print(json.dumps(sorted(sys.modules)))")))
    loaded = {name for name in HEAVY if name in modules or any(m.startswith(name + ".") for m in modules)}
    assert loaded == set(), {name: HEAVY[name] for name in loaded}


# Every package's schemas module (chalicelib/<package>/schemas.py), imported by `import app`.
SCHEMA_MODELS = """
import importlib, pathlib
from pydantic import BaseModel
schema_modules = [
    importlib.import_module(f"chalicelib.{p.parent.name}.schemas")
    for p in sorted(pathlib.Path("chalicelib").glob("*/schemas.py"))
]
assert len(schema_modules) >= 9
models = {
    obj for module in schema_modules for obj in vars(module).values()
    if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel
}
"""

MODELS_BUILT = (
    """
import json, sys, app
loaded = sorted(m for m in sys.modules if m.startswith("chalicelib.") and m.endswith(".schemas"))
"""
    + SCHEMA_MODELS
    + """
assert loaded == sorted(m.__name__ for m in schema_modules), loaded  # all loaded by app already
print(json.dumps(sorted(m.__name__ for m in models if m.__pydantic_complete__)))
"""
)


def test_import_app_builds_no_model():
    # A model deriving from BaseModel rather than platform.schemas.Model would be built at import.
    assert json.loads(run_fresh(MODELS_BUILT)) == []


# The OpenAPI document with every model built at class creation, as before issue 32:
# pydantic.ConfigDict is swapped, before chalicelib.platform.schemas imports it, for one that drops
# `defer_build`.
OPENAPI = (
    """
import json, sys
import pydantic
if sys.argv[1] == "eager":
    plain = pydantic.ConfigDict
    pydantic.ConfigDict = lambda **kw: plain(**{k: v for k, v in kw.items() if k != "defer_build"})
import app
"""
    + SCHEMA_MODELS
    + """
from chalicelib.platform.openapi import build
complete = [obj.__pydantic_complete__ for obj in models]
assert len(complete) == 166  # every model of the old platform/models.py, now in the packages (+CustomerMergeIn, BuyerIn, CustomerQuery; +4 of charges; FormShippingIn/Out; ChargeExportQuery; ReadyQuery; +4 of bulk matching; CreditUseIn/Out; +15 of bank statements; CancelledBuyerOut; +5 of batch notices, NoticesOptOutIn/Out; +4 of the waitlist; +9 of variants and stock movements; +5 of item photos; +10 of the shopping trip; +7 of members; MemberInviteIn/Out)
doc = build(app.ROUTES, title="Personal shopper API", version="1.0.0")
print(json.dumps({"complete": sorted(set(complete)), "doc": doc}, ensure_ascii=False))
"""
)


def openapi_document(mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", OPENAPI, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_openapi_document_is_the_same_as_with_models_built_at_import():
    eager, deferred = openapi_document("eager"), openapi_document("deferred")
    assert eager["complete"] == [True]  # the comparison is with really eager models
    assert deferred["complete"] == [False]  # nothing built before the document asks
    assert len(eager["doc"]["components"]["schemas"]) > 50
    # Key order too: the served JSON is the same text.
    assert json.dumps(deferred["doc"], ensure_ascii=False) == json.dumps(eager["doc"], ensure_ascii=False)


class _Pydantic(In):
    email: EmailStr | None = None


class _Ours(In):
    email: Email | None = None


@pytest.mark.parametrize(
    "value",
    [
        "amy@example.com",
        "  Amy@Example.COM ",
        "Amy <amy@example.com>",
        "tést@例え.jp",
        "ａ@example.com",
        "user@[127.0.0.1]",
        "no-at-sign",
        "x@y",
        "a@exa mple.com",
        "",
        "a" * 3000 + "@example.com",
        None,
        5,
        ["amy@example.com"],
    ],
)
def test_email_is_checked_and_normalized_as_pydantic_email_str(value):
    def outcome(model: type[BaseModel]):
        try:
            return model.model_validate({"email": value}).email
        except ValidationError as exc:
            return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]

    assert outcome(_Ours) == outcome(_Pydantic)
    assert _Ours.model_json_schema()["properties"] == _Pydantic.model_json_schema()["properties"]


def test_mongo_names_are_pymongo_own():
    import pymongo
    import pymongo.errors

    assert mongo.ReturnDocument is pymongo.ReturnDocument
    assert mongo.DuplicateKeyError is pymongo.errors.DuplicateKeyError
    assert issubclass(mongo.DuplicateKeyError, mongo.PyMongoError)
    with pytest.raises(AttributeError):
        _ = mongo.NoSuchName
