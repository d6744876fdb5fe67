"""Settings read once per process (a warm Lambda container reuses them).

Plain environment variables always win. In AWS a secret may instead be named by
`<NAME>_SSM_PARAM` (for example `MONGO_URI_SSM_PARAM=/shop/prod/mongo_uri`): it is read
from SSM Parameter Store (SecureString, decrypted) at cold start and cached.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

DEFAULT_DB = "personal_shopping"
SECRET_NAMES = ("MONGO_URI", "JWT_SECRET")
# HS256 signs with the secret as its key: RFC 7518 (3.2) wants a key of at least the
# hash's size, 256 bits. Refused everywhere, local runs and tests included (`make run`
# generates a 64-character secret; the tests use long ones).
MIN_JWT_SECRET_BYTES = 32
MAX_TOKEN_TTL_SECONDS = 3600


@dataclass(frozen=True)
class PlainSettings:
    """Everything but the secrets: readable at import time, with no SSM call and no
    JWT_SECRET (CORS is fixed when `app.py` is imported, and a cold start imports it)."""

    mongo_db: str
    allow_signup: bool
    public_site_url: str
    ses_sender: str
    ses_region: str | None  # SES may live in another region than the Lambda; None: its own
    mail_outbox: str  # a folder: mail is written there instead of sent (`make run`); "" in AWS
    cors_origin: str
    token_ttl_seconds: int
    mongo_timeout_ms: int
    mongo_operation_timeout_ms: int  # 0: no overall cap (local runs; see db._new_client)
    mongo_pool_size: int
    server_timing: bool  # the app's time on each answer: for the bench only (it tells timings)


@dataclass(frozen=True)
class Settings(PlainSettings):
    """The plain settings and the secrets (from the environment or SSM)."""

    mongo_uri: str
    jwt_secret: str


def _truthy(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _ssm_values(names: dict[str, str]) -> dict[str, str]:
    """Fetch parameters in one call; boto3 is imported only when SSM is used."""
    import boto3

    client = boto3.client("ssm")
    resp = client.get_parameters(Names=sorted(set(names.values())), WithDecryption=True)
    if resp.get("InvalidParameters"):
        raise RuntimeError(f"SSM parameters not found: {resp['InvalidParameters']}")
    by_name = {p["Name"]: p["Value"] for p in resp["Parameters"]}
    return {key: by_name[param] for key, param in names.items()}


def _secrets() -> dict[str, str]:
    values = {n: os.environ.get(n, "") for n in SECRET_NAMES}
    wanted = {
        n: os.environ[f"{n}_SSM_PARAM"]
        for n in SECRET_NAMES
        if not values[n] and os.environ.get(f"{n}_SSM_PARAM")
    }
    if wanted:
        values.update(_ssm_values(wanted))
    return values


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    secrets = _secrets()
    if not secrets["JWT_SECRET"]:
        raise RuntimeError("JWT_SECRET (or JWT_SECRET_SSM_PARAM) must be set")
    size = len(secrets["JWT_SECRET"].encode())
    if size < MIN_JWT_SECRET_BYTES:
        source = "" if os.environ.get("JWT_SECRET") else f" (SSM {os.environ.get('JWT_SECRET_SSM_PARAM')})"
        raise RuntimeError(
            f"JWT_SECRET{source} is too short: {size} bytes, it must be at least "
            f"{MIN_JWT_SECRET_BYTES} bytes. Generate one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return Settings(
        **vars(plain_settings()),
        mongo_uri=secrets["MONGO_URI"] or "mongodb://127.0.0.1:27017/",
        jwt_secret=secrets["JWT_SECRET"],
    )


PLACEHOLDER = "CHANGE-ME"  # what the committed .chalice/config.json holds until filled in


def _refuse_unfilled_config_in_lambda() -> None:
    """In Lambda (a bare `chalice deploy` of the committed config): fail the cold start
    loudly rather than serve a CORS origin no page has. `make deploy` checks the same
    before deploying anything; locally and in `chalice package` this is not checked."""
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    if os.environ.get("MAIL_OUTBOX"):
        # A local run's outbox: deployed, mail must reach the buyer, not a Lambda's /tmp.
        raise RuntimeError(
            f"refusing to start: MAIL_OUTBOX={os.environ['MAIL_OUTBOX']!r} is for local runs only "
            "(`make run`); a deployed stage sends through SES. Remove it from the stage's environment."
        )
    problems = [
        f"{name}={os.environ.get(name, '')!r}"
        for name in ("PUBLIC_SITE_URL", "CORS_ORIGIN", "SES_SENDER")
        if not os.environ.get(name) or PLACEHOLDER.lower() in os.environ[name].lower()
    ]
    if os.environ.get("CORS_ORIGIN") == "*":
        problems.append("CORS_ORIGIN='*'")
    if problems:
        raise RuntimeError(
            "refusing to start: .chalice/config.json still has placeholder or missing values ("
            + ", ".join(problems)
            + "). Fill in the stage and deploy with `make deploy STAGE=...` (docs/deploy.md)."
        )


@functools.lru_cache(maxsize=1)
def plain_settings() -> PlainSettings:
    _refuse_unfilled_config_in_lambda()
    return PlainSettings(
        mongo_db=os.environ.get("MONGO_DB") or DEFAULT_DB,
        allow_signup=_truthy(os.environ.get("ALLOW_SIGNUP"), True),
        public_site_url=(os.environ.get("PUBLIC_SITE_URL") or "http://127.0.0.1:8080").rstrip("/"),
        ses_sender=os.environ.get("SES_SENDER", ""),
        ses_region=os.environ.get("SES_REGION") or None,
        mail_outbox=os.environ.get("MAIL_OUTBOX", ""),
        cors_origin=os.environ.get("CORS_ORIGIN", "*"),
        # Access tokens live 15 minutes (at most an hour: the contract); the page renews
        # them with its refresh token, so a password change reaches other devices soon.
        token_ttl_seconds=min(int(os.environ.get("TOKEN_TTL_SECONDS", "900")), MAX_TOKEN_TTL_SECONDS),
        mongo_timeout_ms=int(os.environ.get("MONGO_TIMEOUT_MS", "5000")),
        # The most one database operation may take, retries and server selection included
        # (pymongo's timeoutMS). Deployed stages set it well inside the Lambda timeout, so
        # a hung read ends as our 503, not as Lambda's kill (502); unset locally.
        mongo_operation_timeout_ms=int(os.environ.get("MONGO_OPERATION_TIMEOUT_MS") or 0),
        # Lambda runs one request at a time per container: a small pool is enough and
        # keeps Atlas connection counts low when many containers are warm.
        mongo_pool_size=int(os.environ.get("MONGO_POOL_SIZE", "4")),
        # Off unless asked (bench/bench_frontend.py): an answer's exact time would tell a
        # known email's login or reset from an unknown one (test_no_user_enumeration).
        server_timing=_truthy(os.environ.get("SERVER_TIMING"), False),
    )


def reset_settings() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
    plain_settings.cache_clear()
