"""The site upload of `make deploy` against a moto S3 server on loopback (no real AWS)."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-1"


def _load_script(name: str):
    """scripts/ is not a package: load a script by path (destroy.py imports `deploy`)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


deploy = _load_script("deploy")
destroy = _load_script("destroy")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)


def write(root: Path, rel: str, data: bytes | str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


# What scripts/build-site.sh produces: stable page names, hashed assets/ directory.
SITE = {
    "index.html": "<!doctype html><title>賣家</title>",
    "track.html": "<!doctype html><title>追蹤</title>",
    "config.js": 'export const API_BASE_URL = "https://abc.execute-api.ap-northeast-1.amazonaws.com/api";\n',
    "favicon.ico": b"\x00\x00\x01\x00",
    "assets/3f2a9c1b0d/js/app.js": "console.log(1);",
    "assets/3f2a9c1b0d/css/site.css": "body{}",
    "assets/3f2a9c1b0d/vendor/bootstrap.min.css": ".btn{}",
    "assets/3f2a9c1b0d/vendor/chart.umd.min.js": "var Chart;",
    "assets/3f2a9c1b0d/vendor/bootstrap.LICENSE": "MIT",
    "assets/3f2a9c1b0d/vendor/chart.js.LICENSE.md": "# MIT",
    "assets/3f2a9c1b0d/img/logo.svg": "<svg/>",
}
EXPECTED = {
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "track.html": ("text/html; charset=utf-8", "no-cache"),
    "config.js": ("text/javascript; charset=utf-8", "no-cache"),
    "favicon.ico": ("image/x-icon", "no-cache"),
    "assets/3f2a9c1b0d/js/app.js": ("text/javascript; charset=utf-8", deploy.IMMUTABLE),
    "assets/3f2a9c1b0d/css/site.css": ("text/css; charset=utf-8", deploy.IMMUTABLE),
    "assets/3f2a9c1b0d/vendor/bootstrap.min.css": ("text/css; charset=utf-8", deploy.IMMUTABLE),
    "assets/3f2a9c1b0d/vendor/chart.umd.min.js": ("text/javascript; charset=utf-8", deploy.IMMUTABLE),
    "assets/3f2a9c1b0d/vendor/bootstrap.LICENSE": ("text/plain; charset=utf-8", deploy.IMMUTABLE),
    "assets/3f2a9c1b0d/vendor/chart.js.LICENSE.md": ("text/markdown; charset=utf-8", deploy.IMMUTABLE),
    "assets/3f2a9c1b0d/img/logo.svg": ("image/svg+xml", deploy.IMMUTABLE),
}
assert deploy.IMMUTABLE == "public, max-age=31536000, immutable"


@pytest.fixture
def dist(tmp_path):
    root = tmp_path / "dist"
    for rel, data in SITE.items():
        write(root, rel, data)
    write(root, ".DS_Store", b"junk")  # hidden files are never published
    return root


def objects(s3, bucket):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_publish_uploads_every_file_with_type_and_cache_headers(s3, dist):
    bucket = "personal-shopper-test-site"
    assert deploy.ensure_bucket(s3, bucket, REGION) is True
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == REGION
    deploy.configure_website(s3, bucket, deploy.error_document(dist))
    logged = []
    result = deploy.publish(s3, bucket, dist, log=logged.append)

    assert objects(s3, bucket) == sorted(SITE)
    assert result == {"uploaded": sorted(SITE), "deleted": []}
    for key, (ctype, cache) in EXPECTED.items():
        obj = s3.get_object(Bucket=bucket, Key=key)
        assert obj["ContentType"] == ctype, key
        assert obj["CacheControl"] == cache, key
        want = SITE[key]
        assert obj["Body"].read() == (want.encode() if isinstance(want, str) else want), key
    # Pages and config.js go up last, so they never point at an asset not yet uploaded.
    order = [line.split()[1] for line in logged if line.strip().startswith("uploaded")]
    assert order[-3:] == ["config.js", "index.html", "track.html"]
    assert all(k.startswith("assets/") for k in order[:7])

    website = s3.get_bucket_website(Bucket=bucket)
    assert website["IndexDocument"] == {"Suffix": "index.html"}
    assert website["ErrorDocument"] == {"Key": "index.html"}
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"] == [
        {
            "Sid": "PublicReadForWebsite",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    ]


def test_second_deploy_deletes_stale_files_and_keeps_the_bucket(s3, dist):
    bucket = "personal-shopper-test-redeploy"
    deploy.ensure_bucket(s3, bucket, REGION)
    deploy.configure_website(s3, bucket, "index.html")
    deploy.publish(s3, bucket, dist, log=lambda _: None)

    # A new build: new asset hash, one page gone, a 404 page added.
    (dist / "track.html").unlink()
    (dist / "assets" / "3f2a9c1b0d").rename(dist / "assets" / "9e8d7c6b5a")
    write(dist, "404.html", "<!doctype html><title>404</title>")
    assert deploy.ensure_bucket(s3, bucket, REGION) is False  # exists: not created again
    deploy.configure_website(s3, bucket, deploy.error_document(dist))
    result = deploy.publish(s3, bucket, dist, log=lambda _: None)

    expected = sorted(
        [k.replace("3f2a9c1b0d", "9e8d7c6b5a") for k in SITE if k != "track.html"] + ["404.html"]
    )
    assert objects(s3, bucket) == expected
    assert "track.html" in result["deleted"]
    assert "assets/3f2a9c1b0d/js/app.js" in result["deleted"]
    assert len(result["deleted"]) == 8
    assert s3.get_bucket_website(Bucket=bucket)["ErrorDocument"] == {"Key": "404.html"}
    head = s3.head_object(Bucket=bucket, Key="404.html")
    assert (head["ContentType"], head["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")


def test_destroy_empties_and_deletes_the_bucket(s3, dist):
    bucket = "personal-shopper-test-destroy"
    deploy.ensure_bucket(s3, bucket, REGION)
    deploy.configure_website(s3, bucket, "index.html")
    deploy.publish(s3, bucket, dist, log=lambda _: None)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"v2")  # a second version
    assert destroy.delete_bucket(s3, bucket) == len(SITE) + 1
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert destroy.delete_bucket(s3, bucket) is None  # running destroy again is harmless


def test_bucket_in_another_region_is_refused(s3, moto_endpoint):
    other = boto3.client("s3", region_name="us-west-2", endpoint_url=moto_endpoint)
    other.create_bucket(
        Bucket="ps-west-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    with pytest.raises(deploy.DeployError, match="us-west-2"):
        deploy.ensure_bucket(s3, "ps-west-bucket", REGION)


def test_publish_refuses_an_unbuilt_site(s3, tmp_path):
    write(tmp_path, "dist/assets/x.js", "1")
    with pytest.raises(deploy.DeployError, match=r"index\.html"):
        deploy.publish(s3, "never-created", tmp_path / "dist", log=lambda _: None)


# --- configuration checks and helpers (no network) -------------------------------------


def test_website_endpoints_and_bucket_from_site_url():
    assert (
        deploy.website_endpoint("b", "ap-northeast-1") == "http://b.s3-website-ap-northeast-1.amazonaws.com"
    )
    assert deploy.website_endpoint("b", "ap-east-2") == "http://b.s3-website.ap-east-2.amazonaws.com"
    assert deploy.site_bucket("http://my-shop.s3-website-ap-northeast-1.amazonaws.com/") == "my-shop"
    assert deploy.site_bucket("https://shop.example.com") == "shop.example.com"


def test_placeholders_in_config_are_refused():
    """The committed config has CHANGE-ME values; a seller's filled-in copy passes."""
    for stage in ("dev", "prod"):
        env = deploy.stage_config(stage)["environment_variables"]
        assert "MONGO_URI" not in env and "JWT_SECRET" not in env  # secrets never in the file
        placeholder = {
            **env,
            "PUBLIC_SITE_URL": "http://shop-CHANGE-ME.s3-website-ap-northeast-1.amazonaws.com",
        }
        problems = deploy.config_problems(
            stage, {**placeholder, "SES_SENDER": "CHANGE-ME@example.com"}, REGION
        )
        assert any("PUBLIC_SITE_URL" in p and "placeholder" in p for p in problems), problems
        assert any("SES_SENDER" in p and "placeholder" in p for p in problems), problems
    with pytest.raises(deploy.DeployError, match="unknown stage"):
        deploy.stage_config("local")


def test_filled_in_config_passes_and_mismatches_are_caught():
    site = "http://tokyo-picks-dev.s3-website-ap-northeast-1.amazonaws.com"
    env = {
        "PUBLIC_SITE_URL": site,
        "CORS_ORIGIN": site,
        "SES_SENDER": "orders@tokyo-picks.example",
        "MONGO_URI_SSM_PARAM": "/personal-shopper/dev/mongo_uri",
        "JWT_SECRET_SSM_PARAM": "/personal-shopper/dev/jwt_secret",
        "ALLOW_SIGNUP": "true",
    }
    assert deploy.config_problems("dev", env, REGION) == []
    assert any("CORS_ORIGIN" in p for p in deploy.config_problems("dev", {**env, "CORS_ORIGIN": "*"}, REGION))
    wrong = deploy.config_problems("dev", {**env, "CORS_ORIGIN": "https://other.example"}, REGION)
    assert any("not the origin" in p for p in wrong)
    assert any("ap-northeast-1" in p for p in deploy.config_problems("dev", env, "eu-central-1"))
    leaked = deploy.config_problems("dev", {**env, "JWT_SECRET": "oops"}, REGION)
    assert any("must not be in config.json" in p for p in leaked)
    outbox = deploy.config_problems("dev", {**env, "MAIL_OUTBOX": "/tmp/outbox"}, REGION)
    assert any("MAIL_OUTBOX" in p for p in outbox)  # the local outbox never reaches a stage


CLOUDFRONT_SITE = {
    "hosting": "cloudfront",
    "bucket": "tokyo-picks-shop-prod",
    "domain": "",
    "certificate_arn": "",
}


def test_prod_refuses_plain_http_and_needs_its_https_address():
    http = "http://tokyo-picks-prod.s3-website-ap-northeast-1.amazonaws.com"
    env = {
        "PUBLIC_SITE_URL": http,
        "CORS_ORIGIN": http,
        "SES_SENDER": "orders@tokyo-picks.example",
        "MONGO_URI_SSM_PARAM": "/personal-shopper/prod/mongo_uri",
        "JWT_SECRET_SSM_PARAM": "/personal-shopper/prod/jwt_secret",
        "ALLOW_SIGNUP": "false",
    }
    # The old way (S3 website endpoint, plain HTTP) is refused for prod, whatever site.json says.
    for site_cfg in ({"hosting": "s3-website"}, CLOUDFRONT_SITE):
        assert any("HTTPS only" in p for p in deploy.config_problems("prod", env, REGION, site_cfg))
    https = "https://d111111abcdef8.cloudfront.net"
    good = {**env, "PUBLIC_SITE_URL": https, "CORS_ORIGIN": https}
    assert deploy.config_problems("prod", good, REGION, CLOUDFRONT_SITE) == []
    placeholder = {**good, "PUBLIC_SITE_URL": "https://CHANGE-ME.cloudfront.net"}
    assert any(
        "make site-address" in p for p in deploy.config_problems("prod", placeholder, REGION, CLOUDFRONT_SITE)
    )
    unnamed = {**CLOUDFRONT_SITE, "bucket": "personal-shopper-prod-CHANGE-ME"}
    assert any("bucket name" in p for p in deploy.config_problems("prod", good, REGION, unnamed))
    # A custom domain needs its own address and a us-east-1 certificate.
    custom = {
        **CLOUDFRONT_SITE,
        "domain": "shop.example.com",
        "certificate_arn": "arn:aws:acm:ap-northeast-1:1:certificate/x",
    }
    problems = deploy.config_problems("prod", good, REGION, custom)
    assert any("us-east-1" in p for p in problems) and any("https://shop.example.com" in p for p in problems)
    ok = {**custom, "certificate_arn": "arn:aws:acm:us-east-1:1:certificate/x"}
    mine = {**good, "PUBLIC_SITE_URL": "https://shop.example.com", "CORS_ORIGIN": "https://shop.example.com"}
    assert deploy.config_problems("prod", mine, REGION, ok) == []
    # The committed files: prod is CloudFront, dev the S3 website endpoint.
    assert deploy.site_config("prod")["hosting"] == "cloudfront"
    assert deploy.site_config("dev")["hosting"] == "s3-website"


def test_api_url_is_read_from_chalice_deployed_record(tmp_path):
    (tmp_path / ".chalice" / "deployed").mkdir(parents=True)
    record = {
        "resources": [
            {"name": "api_handler", "resource_type": "lambda_function", "lambda_arn": "arn:x"},
            {
                "name": "rest_api",
                "resource_type": "rest_api",
                "rest_api_id": "abc123",
                "rest_api_url": "https://abc123.execute-api.ap-northeast-1.amazonaws.com/api/",
            },
        ],
        "schema_version": "2.0",
        "backend": "api",
    }
    (tmp_path / ".chalice" / "deployed" / "prod.json").write_text(json.dumps(record))
    assert deploy.api_url("prod", tmp_path) == (
        "https://abc123.execute-api.ap-northeast-1.amazonaws.com/api/",
        "abc123",
    )
    with pytest.raises(deploy.DeployError, match="chalice deploy"):
        deploy.api_url("dev", tmp_path)


def test_gateway_error_responses_get_cors_and_contract_body(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    apigw = boto3.client("apigateway", region_name=REGION)
    origin = "http://tokyo-picks-prod.s3-website-ap-northeast-1.amazonaws.com"
    header = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{origin}'"}
    with Stubber(apigw) as stub:
        for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
            stub.add_response(
                "put_gateway_response",
                {},
                {
                    "restApiId": "abc123",
                    "responseType": kind,
                    "responseParameters": header,
                    "responseTemplates": {"application/json": deploy.ERROR_TEMPLATE},
                },
            )
        stub.add_response(
            "put_gateway_response",
            {},
            {
                "restApiId": "abc123",
                "responseType": "MISSING_AUTHENTICATION_TOKEN",
                "statusCode": "404",
                "responseParameters": header,
                "responseTemplates": {
                    "application/json": '{"error": {"code": "not_found", "message": "No such route.", "details": []}}'
                },
            },
        )
        stub.add_response(
            "create_deployment",
            {"id": "dep1"},
            {"restApiId": "abc123", "stageName": "api", "description": "gateway error responses"},
        )
        deploy.gateway_error_responses(apigw, "abc123", origin, "api")
        stub.assert_no_pending_responses()


def test_throttling_is_one_update_stage_call_with_rate_and_burst(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    apigw = boto3.client("apigateway", region_name=REGION)
    with Stubber(apigw) as stub:
        stub.add_response(
            "update_stage",
            {
                "stageName": "api",
                "methodSettings": {"*/*": {"throttlingRateLimit": 40.0, "throttlingBurstLimit": 80}},
            },
            {
                "restApiId": "abc123",
                "stageName": "api",
                "patchOperations": [
                    {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "40"},
                    {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "80"},
                ],
            },
        )
        settings = deploy.apply_throttling(apigw, "abc123", "api", {"rate": 40, "burst": 80})
        stub.assert_no_pending_responses()
    assert settings == {"throttlingRateLimit": 40.0, "throttlingBurstLimit": 80}


def test_throttling_numbers_fit_the_account_lambda_concurrency():
    """Every deployable stage has limits, and all stages at once, every request running to
    the Lambda timeout, stay under the account's default 1,000 concurrent executions."""
    stages = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]
    deployable = sorted(set(stages) - {"local"})
    assert sorted(deploy.THROTTLING) == deployable
    worst = sum(
        deploy.worst_case_concurrency(deploy.THROTTLING[s], stages[s]["lambda_timeout"]) for s in deployable
    )
    assert worst <= deploy.ACCOUNT_CONCURRENCY
    assert deploy.worst_case_concurrency({"rate": 40, "burst": 80}, 15) == 680
    assert any("THROTTLING" in p for p in deploy.config_problems("staging", {}, REGION))


# --- HTTPS site pieces ------------------------------------------------------------------


def test_csp_allows_only_the_pages_own_scripts_and_the_api():
    """Hashes of the real pages' inline scripts (the import maps) and nothing else inline;
    the pages have no inline event handlers or javascript: URLs a CSP would break."""
    import re

    src = ROOT / "static_site" / "src"
    hashes = deploy.inline_script_hashes(src)
    inline = [m for page in src.glob("*.html") for m in deploy._INLINE_SCRIPT.findall(page.read_text())]
    assert inline and all("importmap" not in m and "imports" in m for m in inline)
    assert len(hashes) == len(set(inline))
    for page in src.glob("*.html"):
        html = page.read_text()
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), page.name
        assert "javascript:" not in html.lower(), page.name
    api = "https://abc123.execute-api.ap-northeast-1.amazonaws.com"
    csp = deploy.content_security_policy(api, hashes)
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == " ".join(["'self'", *hashes])
    assert "unsafe" not in directives["script-src"]
    assert directives["connect-src"] == f"'self' {api}"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert len(csp) < 1783  # CloudFront's limit for the header value
    # The photo bucket (issue 30): its images shown, its presigned POSTs sent.
    photos = "https://shop-photos.s3.ap-northeast-1.amazonaws.com"
    with_photos = dict(
        d.split(" ", 1) for d in deploy.content_security_policy(api, hashes, photos).split("; ")
    )
    assert with_photos["img-src"] == f"'self' data: {photos}"
    assert with_photos["connect-src"] == f"'self' {api} {photos}"
    assert directives["img-src"] == "'self' data:"


def test_headers_policy_is_created_then_updated(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    cf = boto3.client("cloudfront", region_name="us-east-1")
    csp = deploy.content_security_policy("https://api.example", ["'sha256-x'"])
    config = deploy.headers_policy_config("personal-shopper-prod", csp)
    security = config["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ContentTypeOptions"] == {"Override": True}
    assert all(h["Override"] for h in security.values())
    existing = {
        "ResponseHeadersPolicyList": {
            "MaxItems": 100,
            "Quantity": 1,
            "Items": [
                {
                    "Type": "custom",
                    "ResponseHeadersPolicy": {
                        "Id": "rhp-1",
                        "LastModifiedTime": "2026-01-01T00:00:00Z",
                        "ResponseHeadersPolicyConfig": {"Name": "personal-shopper-prod"},
                    },
                }
            ],
        }
    }
    empty = {"ResponseHeadersPolicyList": {"MaxItems": 100, "Quantity": 0, "Items": []}}
    with Stubber(cf) as stub:
        stub.add_response("list_response_headers_policies", empty, {"Type": "custom"})
        stub.add_response(
            "create_response_headers_policy",
            {
                "ResponseHeadersPolicy": {
                    "Id": "rhp-1",
                    "LastModifiedTime": "2026-01-01T00:00:00Z",
                    "ResponseHeadersPolicyConfig": config,
                }
            },
            {"ResponseHeadersPolicyConfig": config},
        )
        assert deploy.ensure_headers_policy(cf, "personal-shopper-prod", csp) == "rhp-1"
        stub.add_response("list_response_headers_policies", existing, {"Type": "custom"})
        stub.add_response(
            "get_response_headers_policy_config",
            {"ETag": "E1", "ResponseHeadersPolicyConfig": config},
            {"Id": "rhp-1"},
        )
        stub.add_response(
            "update_response_headers_policy",
            {},
            {"Id": "rhp-1", "IfMatch": "E1", "ResponseHeadersPolicyConfig": config},
        )
        assert deploy.ensure_headers_policy(cf, "personal-shopper-prod", csp) == "rhp-1"
        stub.add_response("list_response_headers_policies", existing, {"Type": "custom"})
        stub.add_response(
            "get_response_headers_policy_config",
            {"ETag": "E2", "ResponseHeadersPolicyConfig": config},
            {"Id": "rhp-1"},
        )
        stub.add_response("delete_response_headers_policy", {}, {"Id": "rhp-1", "IfMatch": "E2"})
        assert deploy.delete_headers_policy(cf, "personal-shopper-prod")
        stub.assert_no_pending_responses()


def test_custom_domain_certificate_must_be_issued_and_cover_the_domain(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    acm = boto3.client("acm", region_name="us-east-1", endpoint_url=moto_endpoint)
    arn = acm.request_certificate(DomainName="shop.example.com", ValidationMethod="DNS")["CertificateArn"]
    problems = deploy.certificate_problems(acm, arn, "shop.example.com")
    assert problems and "not ISSUED" in problems[0]  # moto: pending DNS validation
    assert any("does not cover" in p for p in deploy.certificate_problems(acm, arn, "other.example.com"))
    missing = deploy.certificate_problems(acm, arn.replace(arn[-6:], "000000"), "shop.example.com")
    assert missing and "us-east-1" in missing[0]
    stubbed = boto3.client("acm", region_name="us-east-1")
    with Stubber(stubbed) as stub:
        cert = {
            "CertificateArn": arn,
            "DomainName": "*.example.com",
            "SubjectAlternativeNames": ["*.example.com"],
            "Status": "ISSUED",
        }
        stub.add_response("describe_certificate", {"Certificate": cert}, {"CertificateArn": arn})
        assert deploy.certificate_problems(stubbed, arn, "shop.example.com") == []


def test_log_group_gets_retention_and_destroy_removes_it(moto_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    logs = boto3.client("logs", region_name=REGION, endpoint_url=moto_endpoint)
    name = deploy.log_group_name("prod")
    assert name == "/aws/lambda/personal-shopper-prod"  # the function's name, no -api_handler
    assert deploy.ensure_log_group(logs, name, 90) is True
    logs.put_retention_policy(logGroupName=name, retentionInDays=1)  # changed by hand
    assert deploy.ensure_log_group(logs, name, 90) is False  # the deploy sets it again
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    assert group["retentionInDays"] == 90
    assert destroy.delete_log_groups(logs, [name, name + "-api_handler"]) == [name]
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    assert sorted(deploy.LOG_RETENTION_DAYS) == sorted(deploy.THROTTLING)


# --- the whole `make deploy` / `make destroy` against moto (chalice itself faked) ------

SITE_BUCKET = "tokyo-picks-shop-prod"
DEV_BUCKET = "tokyo-picks-shop-dev"
DEV_URL = f"http://{DEV_BUCKET}.s3-website-ap-northeast-1.amazonaws.com"
API = "https://abc123.execute-api.ap-northeast-1.amazonaws.com/api/"

FAKE_BUILD = """#!/usr/bin/env bash
# Stand-in for scripts/build-site.sh: the same layout, config.js from API_URL.
set -euo pipefail
rm -rf static_site/dist && mkdir -p static_site/dist/assets/0a1b2c3d4e
echo '<!doctype html><title>shop</title><script type="importmap">{"imports": {}}</script>' > static_site/dist/index.html
echo '<!doctype html><title>track</title>' > static_site/dist/track.html
echo 'console.log(1)' > static_site/dist/assets/0a1b2c3d4e/app.js
printf 'export const API_BASE_URL = "%s";\\n' "$API_URL" > static_site/dist/config.js
"""

FAKE_CHALICE = """#!/usr/bin/env bash
# Stand-in for chalice: records its arguments, writes what `chalice deploy` records.
set -euo pipefail
echo "$*" >> chalice-calls.log
mkdir -p .chalice/deployed
if [[ "$1" == deploy ]]; then
  cat > ".chalice/deployed/$3.json" <<JSON
{"resources": [{"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123",
 "rest_api_url": "API_URL_HERE"}], "schema_version": "2.0", "backend": "api"}
JSON
else
  rm -f ".chalice/deployed/$3.json"
fi
""".replace("API_URL_HERE", API)


def _set_stage(root: Path, stage: str, **env) -> None:
    path = root / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    config["stages"][stage]["environment_variables"].update(env)
    path.write_text(json.dumps(config))


@pytest.fixture
def project(tmp_path, moto_endpoint, monkeypatch):
    """A copy of the project's deploy inputs with the stages filled in, AWS = moto."""
    root = tmp_path / "project"
    (root / ".chalice").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / ".chalice" / "config.json").write_text((ROOT / ".chalice" / "config.json").read_text())
    sender = "orders@tokyo-picks.example"
    for stage in ("dev", "prod"):
        _set_stage(root, stage, SES_SENDER=sender)
        policy = (
            (ROOT / ".chalice" / f"policy-{stage}.json").read_text().replace("CHANGE-ME@example.com", sender)
        )
        (root / ".chalice" / f"policy-{stage}.json").write_text(policy)
    _set_stage(root, "dev", PUBLIC_SITE_URL=DEV_URL, CORS_ORIGIN=DEV_URL)
    site = json.loads((ROOT / ".chalice" / "site.json").read_text())
    site["prod"]["bucket"] = SITE_BUCKET
    (root / ".chalice" / "site.json").write_text(json.dumps(site))
    build = root / "scripts" / "build-site.sh"
    build.write_text(FAKE_BUILD)
    build.chmod(0o755)
    chalice = tmp_path / "chalice"
    chalice.write_text(FAKE_CHALICE)
    chalice.chmod(0o755)
    monkeypatch.setattr(deploy, "chalice_cmd", lambda: [str(chalice)])
    monkeypatch.setattr(destroy, "chalice_cmd", lambda: [str(chalice)])
    gateway_calls = []
    monkeypatch.setattr(deploy, "gateway_error_responses", lambda *a: gateway_calls.append(a[1:]))

    def throttling(apigw, rest_api_id, api_stage, limits):
        gateway_calls.append(("throttling", rest_api_id, api_stage, limits))
        return {"throttlingRateLimit": float(limits["rate"]), "throttlingBurstLimit": limits["burst"]}

    monkeypatch.setattr(deploy, "apply_throttling", throttling)
    # moto has no response headers policies: these two are tested with a Stubber above.
    headers_policies = {}

    def ensure_headers_policy(cf, name, csp):
        headers_policies[name] = csp
        return "rhp-" + name

    monkeypatch.setattr(deploy, "ensure_headers_policy", ensure_headers_policy)
    monkeypatch.setattr(
        destroy, "delete_headers_policy", lambda cf, name: headers_policies.pop(name, None) is not None
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # every boto3 client -> moto
    ssm = boto3.client("ssm", region_name=REGION)
    for stage in ("dev", "prod"):
        env = deploy.stage_config(stage, root)["environment_variables"]
        for name in ("MONGO_URI_SSM_PARAM", "JWT_SECRET_SSM_PARAM"):
            ssm.put_parameter(
                Name=env[name], Value="secret-value-" + "s" * 32, Type="SecureString", Overwrite=True
            )
    env = deploy.stage_config("prod", root)["environment_variables"]
    return root, gateway_calls, ssm, env, headers_policies


def _steps(out: str) -> list[str]:
    return [line.split("]")[0] + "]" for line in out.splitlines() if line.startswith("[")]


def test_make_deploy_prod_https_end_to_end(project, capsys, monkeypatch):
    root, gateway_calls, _, env, headers_policies = project
    sent = []
    real_ensure_distribution = deploy.ensure_distribution

    def ensure_distribution(cf, config):
        sent.append(config)
        return real_ensure_distribution(cf, config)

    monkeypatch.setattr(deploy, "ensure_distribution", ensure_distribution)
    # The committed prod address is a placeholder: nothing is changed, the way is named.
    with pytest.raises(deploy.DeployError, match="make site-address STAGE=prod"):
        deploy.deploy("prod", None, site_only=False, root=root)
    assert not (root / "chalice-calls.log").exists()

    # `make site-address STAGE=prod`: private bucket + distribution, prints the address.
    address = deploy.site_address("prod", root)
    assert address.startswith("https://") and address.endswith(".cloudfront.net")
    assert deploy.site_address("prod", root) == address  # idempotent: the same distribution
    _set_stage(root, "prod", PUBLIC_SITE_URL=address, CORS_ORIGIN=address)
    # An http:// address for prod is refused before anything is deployed.
    _set_stage(root, "prod", PUBLIC_SITE_URL=address.replace("https:", "http:"))
    with pytest.raises(deploy.DeployError, match="HTTPS only"):
        deploy.deploy("prod", None, site_only=False, root=root)
    _set_stage(root, "prod", PUBLIC_SITE_URL=address)
    capsys.readouterr()

    deploy.deploy("prod", None, site_only=False, root=root)
    out = capsys.readouterr().out
    assert _steps(out) == [f"[{n}/10]" for n in range(1, 11)]
    assert f"API   {API}" in out and f"Site  {address}/" in out
    assert (root / "chalice-calls.log").read_text() == "deploy --stage prod\n"
    assert gateway_calls == [
        ("abc123", address, "api"),
        ("throttling", "abc123", "api", {"rate": 40, "burst": 80}),
    ]

    logs = boto3.client("logs", region_name=REGION)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/personal-shopper-prod")["logGroups"]
    assert group["logGroupName"] == "/aws/lambda/personal-shopper-prod" and group["retentionInDays"] == 90

    # The bucket is private: every public access blocked, no website, read by the distribution only.
    s3 = boto3.client("s3", region_name=REGION)
    block = s3.get_public_access_block(Bucket=SITE_BUCKET)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_website(Bucket=SITE_BUCKET)
    cf = boto3.client("cloudfront", region_name="us-east-1")
    (dist,) = cf.list_distributions()["DistributionList"]["Items"]
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=SITE_BUCKET)["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Action"] == "s3:GetObject"
    assert statement["Condition"] == {"StringEquals": {"AWS:SourceArn": dist["ARN"]}}
    config = cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["ResponseHeadersPolicyId"] == "rhp-personal-shopper-prod"
    (origin,) = config["Origins"]["Items"]
    assert origin["DomainName"] == f"{SITE_BUCKET}.s3.{REGION}.amazonaws.com"
    (oac,) = cf.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    assert oac["SigningBehavior"] == "always" and oac["OriginAccessControlOriginType"] == "s3"
    # moto drops OriginAccessControlId from the stored origin: check what the deploy sent.
    (sent_origin,) = sent[-1]["Origins"]["Items"]
    assert sent_origin["OriginAccessControlId"] == oac["Id"]
    assert sent_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    # The CSP names the API's origin (known only after chalice deploy) and the page's import map.
    csp = headers_policies["personal-shopper-prod"]
    assert "connect-src 'self' https://abc123.execute-api.ap-northeast-1.amazonaws.com;" in csp
    assert "script-src 'self' 'sha256-" in csp
    assert objects(s3, SITE_BUCKET) == ["assets/0a1b2c3d4e/app.js", "config.js", "index.html", "track.html"]

    # `make destroy`: distribution (disabled, then deleted), policies, bucket, API, logs.
    destroy.destroy("prod", None, yes=True, root=root, poll_seconds=0)
    destroy.destroy("prod", None, yes=True, root=root, poll_seconds=0)
    assert cf.list_distributions()["DistributionList"].get("Items", []) == []
    assert cf.list_origin_access_controls()["OriginAccessControlList"].get("Items", []) == []
    assert headers_policies == {}
    assert SITE_BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/personal-shopper-prod")["logGroups"] == []
    assert (root / "chalice-calls.log").read_text() == "deploy --stage prod\ndelete --stage prod\n"


def test_make_deploy_dev_on_the_s3_website_endpoint(project, capsys):
    """dev keeps the simpler S3 website endpoint (plain HTTP, public read)."""
    root, gateway_calls, *_ = project
    deploy.deploy("dev", None, site_only=False, root=root)
    out = capsys.readouterr().out
    assert _steps(out) == [f"[{n}/10]" for n in range(1, 11)]
    assert "CloudFront: not used" in out and f"Site  {DEV_URL}/" in out
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_bucket_website(Bucket=DEV_BUCKET)["IndexDocument"] == {"Suffix": "index.html"}
    config_js = s3.get_object(Bucket=DEV_BUCKET, Key="config.js")
    assert API in config_js["Body"].read().decode() and config_js["CacheControl"] == "no-cache"
    assert (
        s3.head_object(Bucket=DEV_BUCKET, Key="assets/0a1b2c3d4e/app.js")["CacheControl"] == deploy.IMMUTABLE
    )
    logs = boto3.client("logs", region_name=REGION)
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/personal-shopper-dev")["logGroups"]
    assert group["retentionInDays"] == 14
    destroy.destroy("dev", None, yes=True, root=root)
    assert DEV_BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_deploy_refuses_a_policy_whose_sender_is_not_ses_sender(project):
    root, *_ = project
    _set_stage(root, "dev", SES_SENDER="other@tokyo-picks.example")
    with pytest.raises(deploy.DeployError, match="ses:FromAddress"):
        deploy.deploy("dev", None, site_only=False, root=root)
    assert not (root / "chalice-calls.log").exists()


def test_deploy_refuses_a_photo_bucket_the_role_cannot_reach(project):
    """PHOTO_BUCKET set but the policy has no statement on it: every upload would fail with
    AccessDenied once deployed, so the deploy stops first; with the statement it passes."""
    root, *_ = project
    _set_stage(root, "dev", PHOTO_BUCKET="shop-photos")
    with pytest.raises(deploy.DeployError, match=r"arn:aws:s3:::shop-photos/\*"):
        deploy.deploy("dev", None, site_only=False, root=root)
    assert not (root / "chalice-calls.log").exists()

    env = deploy.stage_config("dev", root)["environment_variables"]
    path = root / ".chalice" / "policy-dev.json"
    policy = json.loads(path.read_text())
    statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::*"}
    policy["Statement"].append(statement)
    path.write_text(json.dumps(policy))
    assert deploy.photo_policy_problems("dev", env, root)  # too broad, and no DeleteObject
    statement.update(Action=sorted(deploy.PHOTO_ACTIONS), Resource="arn:aws:s3:::shop-photos/*")
    path.write_text(json.dumps(policy))
    assert deploy.photo_policy_problems("dev", env, root) == []
    assert deploy.photo_policy_problems("dev", {**env, "PHOTO_BUCKET": ""}, root)  # a statement left behind


def test_deploy_stops_before_changing_anything_when_a_secret_is_missing(project, capsys):
    root, gateway_calls, ssm, _, _ = project
    env = deploy.stage_config("dev", root)["environment_variables"]
    ssm.delete_parameter(Name=env["JWT_SECRET_SSM_PARAM"])
    with pytest.raises(deploy.DeployError, match=env["JWT_SECRET_SSM_PARAM"]):
        deploy.deploy("dev", "never-created-bucket", site_only=False, root=root)
    assert not (root / "chalice-calls.log").exists()
    assert gateway_calls == []
    s3 = boto3.client("s3", region_name=REGION)
    assert "never-created-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_init_db_reads_the_atlas_uri_from_ssm(project, ferretdb):
    """`make init-db-aws`: manage.py gets only SSM parameter names and finds the database."""
    import subprocess

    import pymongo

    root, _, ssm, env, _ = project
    ssm.put_parameter(
        Name=env["MONGO_URI_SSM_PARAM"], Value=ferretdb.uri, Type="SecureString", Overwrite=True
    )
    exports = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deploy.py"), "--stage", "prod", "--print-db-env"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    db_name = "t_initdb_" + str(abs(hash(str(root))) % 10**8)
    child_env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "JWT_SECRET", "MONGO_DB")}
    for line in exports.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        child_env[key] = value
    assert child_env["MONGO_URI_SSM_PARAM"] == "/personal-shopper/prod/mongo_uri"
    child_env["MONGO_DB"] = db_name  # not the real prod name, on the test server
    result = subprocess.run(
        [sys.executable, "-m", "chalicelib.manage", "init-db"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"database {db_name!r}: indexes ready" in result.stdout
    client = pymongo.MongoClient(ferretdb.uri)
    try:
        names = {ix["name"] for ix in client[db_name].orders.list_indexes()}
        assert "seller_order_no_unique" in names and "idempotency_unique" not in names
    finally:
        client.drop_database(db_name)
        client.close()
