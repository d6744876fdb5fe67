"""Secrets from SSM Parameter Store (moto): read once at cold start, cached, env wins."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from chalicelib.platform import config, db

MONGO_PARAM = "/personal-shopper/test/mongo_uri"
JWT_PARAM = "/personal-shopper/test/jwt_secret"
ROTATED = "rotated-secret-" + "r" * 32
LOCAL = "local-env-secret-" + "l" * 32


@pytest.fixture
def ssm(monkeypatch):
    """A mocked SSM with both secrets as SecureString; plain env secrets removed."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-northeast-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("MONGO_URI_SSM_PARAM", MONGO_PARAM)
    monkeypatch.setenv("JWT_SECRET_SSM_PARAM", JWT_PARAM)
    with mock_aws():
        client = boto3.client("ssm", region_name="ap-northeast-1")
        client.put_parameter(Name=MONGO_PARAM, Value="mongomock://", Type="SecureString")
        client.put_parameter(Name=JWT_PARAM, Value="jwt-from-ssm-" + "x" * 40, Type="SecureString")
        config.reset_settings()
        db.reset_client()
        yield client
    config.reset_settings()
    db.reset_client()


def count_ssm_calls(monkeypatch) -> list[list[str]]:
    """Record the Names of every GetParameters call made through boto3 clients."""
    calls: list[list[str]] = []
    real = config._ssm_values

    def spy(names):
        calls.append(sorted(names.values()))
        return real(names)

    monkeypatch.setattr(config, "_ssm_values", spy)
    return calls


def test_secrets_come_from_ssm_decrypted(ssm):
    s = config.get_settings()
    assert s.mongo_uri == "mongomock://"
    # WithDecryption=True: a SecureString read without it would come back as "kms:...".
    assert s.jwt_secret == "jwt-from-ssm-" + "x" * 40


def test_ssm_is_read_once_and_cached_for_the_container(ssm, monkeypatch):
    calls = count_ssm_calls(monkeypatch)
    first = config.get_settings()
    ssm.put_parameter(Name=JWT_PARAM, Value=ROTATED, Type="SecureString", Overwrite=True)
    assert config.get_settings() is first
    assert config.get_settings().jwt_secret.startswith("jwt-from-ssm-")
    assert calls == [[JWT_PARAM, MONGO_PARAM]]  # one batched call for both secrets
    # A new container (cache reset) sees the rotated value.
    config.reset_settings()
    assert config.get_settings().jwt_secret == ROTATED
    assert len(calls) == 2


def test_plain_env_var_wins_over_ssm(ssm, monkeypatch):
    calls = count_ssm_calls(monkeypatch)
    monkeypatch.setenv("JWT_SECRET", LOCAL)
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:1/")
    ssm.delete_parameter(Name=JWT_PARAM)  # would fail if it were still read
    s = config.get_settings()
    assert s.jwt_secret == LOCAL
    assert s.mongo_uri == "mongodb://127.0.0.1:1/"
    assert calls == []  # nothing to fetch: no SSM call at all


def test_only_missing_secrets_are_fetched(ssm, monkeypatch):
    calls = count_ssm_calls(monkeypatch)
    monkeypatch.setenv("JWT_SECRET", LOCAL)
    s = config.get_settings()
    assert s.jwt_secret == LOCAL
    assert s.mongo_uri == "mongomock://"
    assert calls == [[MONGO_PARAM]]


def test_missing_parameter_fails_clearly_and_is_not_cached(ssm):
    ssm.delete_parameter(Name=MONGO_PARAM)
    with pytest.raises(RuntimeError, match=MONGO_PARAM):
        config.get_settings()
    # Once the operator creates it, the next request succeeds without a redeploy.
    ssm.put_parameter(Name=MONGO_PARAM, Value="mongomock://", Type="SecureString")
    assert config.get_settings().mongo_uri == "mongomock://"


def test_no_secret_anywhere_is_an_error(ssm, monkeypatch):
    monkeypatch.delenv("JWT_SECRET_SSM_PARAM")
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        config.get_settings()


def test_database_client_uses_the_uri_from_ssm(ssm):
    assert db.ping()
    database = db.get_db()
    database.things.insert_one({"a": 1})
    assert database.things.count_documents({}) == 1
    assert database.client.__class__.__module__.startswith("mongomock")


@pytest.mark.parametrize("secret", ["short", "x" * 31, "密" * 10])  # 5, 31 and 30 bytes
def test_short_jwt_secret_is_refused(monkeypatch, secret):
    monkeypatch.setenv("JWT_SECRET", secret)
    config.reset_settings()
    try:
        with pytest.raises(RuntimeError, match=r"JWT_SECRET is too short: \d+ bytes, it must be at least 32"):
            config.get_settings()
    finally:
        monkeypatch.undo()
        config.reset_settings()


@pytest.mark.parametrize("secret", ["x" * 32, "密" * 11])  # 32 and 33 bytes (UTF-8)
def test_jwt_secret_of_32_bytes_is_accepted(monkeypatch, secret):
    monkeypatch.setenv("JWT_SECRET", secret)
    config.reset_settings()
    try:
        assert config.get_settings().jwt_secret == secret
    finally:
        monkeypatch.undo()
        config.reset_settings()


def test_short_jwt_secret_from_ssm_names_the_parameter(ssm):
    ssm.put_parameter(Name=JWT_PARAM, Value="too-short", Type="SecureString", Overwrite=True)
    with pytest.raises(RuntimeError, match=f"JWT_SECRET \\(SSM {JWT_PARAM}\\) is too short: 9 bytes"):
        config.get_settings()
