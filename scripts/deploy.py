"""`make deploy STAGE=dev|prod`: the API with `chalice deploy`, then the pages.

Deployment tooling, not app code: it runs on the operator's machine with their AWS
credentials and is never packaged into the Lambda zip. Steps, each printed as it runs:

  1. check .chalice/config.json and .chalice/site.json for the stage, AWS credentials,
     the SSM secrets and (HTTPS site) the distribution and certificate
  2. the function's log group /aws/lambda/APP-STAGE with the stage's retention
  3. `chalice deploy --stage STAGE` (through scripts/chalice_pyc.py: bytecode in the zip)
  4. read the API URL from .chalice/deployed/STAGE.json
  5. give API Gateway's own errors (unknown path, throttling, body too large) CORS
     headers and the contract's error body
  6. throttle the API Gateway stage (THROTTLING below: requests per second and burst)
  7. build the site with that API URL (scripts/build-site.sh)
  8. S3 bucket: create if missing; `cloudfront` hosting: private (all public access
     blocked); `s3-website` hosting (dev only): website hosting, public-read policy
  9. `cloudfront` hosting: origin access control, response headers policy (CSP, HSTS,
     ...), the distribution (HTTPS), a bucket policy that lets only it read
 10. upload static_site/dist with content types and cache headers; delete stale files

Hosting per stage is in .chalice/site.json: prod is always `cloudfront` (HTTPS; an
http:// PUBLIC_SITE_URL is refused), with its bucket named there and optionally a custom
domain with an ACM certificate in us-east-1. `s3-website` (plain HTTP) serves dev; its
bucket is the first label of the website host name in PUBLIC_SITE_URL, or `--bucket`.
`--site-address` creates the bucket and distribution only, to learn the address to put in
PUBLIC_SITE_URL before the first deploy of a stage without a custom domain.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import mimetypes
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
STEPS = 10
PLACEHOLDER = "CHANGE-ME"

# Days CloudWatch keeps the function's logs (they hold e-mail addresses). Set by the deploy
# on the group the function really writes to, /aws/lambda/APP-STAGE: Chalice's own
# `log_retention_in_days` manages /aws/lambda/APP-STAGE-api_handler instead, and breaks
# `chalice package`'s template (cfn-lint E1019/E3030), so it is not used.
LOG_RETENTION_DAYS = {"dev": 14, "prod": 90}

# API Gateway throttling of each stage: a token bucket shared by every client of the
# stage, `rate` requests per second on average with bursts of up to `burst`; above it
# API Gateway answers 429 without calling Lambda. Chalice's config.json has no key for
# it, so the deploy applies these after `chalice deploy`. Chosen so that all stages
# together cannot hold more than ACCOUNT_CONCURRENCY Lambda executions even if every
# request ran to the 15 s Lambda timeout (burst + rate x timeout each; docs/deploy.md).
THROTTLING = {
    "dev": {"rate": 10, "burst": 20},
    "prod": {"rate": 40, "burst": 80},
}
ACCOUNT_CONCURRENCY = 1000  # Lambda's default concurrent executions per account and region

# Regions whose website endpoint is `s3-website-REGION` (the older dash form);
# every other region uses `s3-website.REGION`.
DASH_WEBSITE_REGIONS = {
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "eu-west-1",
    "sa-east-1",
    "us-gov-west-1",
}

# Explicit types for what the site ships; mimetypes differs between Python versions
# (e.g. .js) and knows nothing of some (e.g. .webmanifest).
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".license": "text/plain; charset=utf-8",  # vendor/bootstrap.LICENSE
    "": "text/plain; charset=utf-8",  # LICENSE, README
}
# Hashed names never change content, so browsers may keep them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
# Everything else (HTML, config.js, unhashed files) is revalidated on every load
# (a cheap 304 when unchanged), so a deploy is visible at once.
REVALIDATE = "no-cache"


class DeployError(Exception):
    """A problem the operator must fix; printed without a traceback."""


def step(n: int, text: str) -> None:
    print(f"[{n}/{STEPS}] {text}", flush=True)


# --- configuration ---------------------------------------------------------------------


def stage_config(stage: str, root: Path | None = None) -> dict:
    stages = json.loads(((root or ROOT) / ".chalice" / "config.json").read_text())["stages"]
    if stage not in stages or stage == "local":
        raise DeployError(f"unknown stage {stage!r}: use one of {sorted(set(stages) - {'local'})}")
    return stages[stage]


def app_name(root: Path | None = None) -> str:
    return json.loads(((root or ROOT) / ".chalice" / "config.json").read_text())["app_name"]


def site_config(stage: str, root: Path | None = None) -> dict:
    """The stage's hosting in .chalice/site.json (`s3-website` when it has no entry)."""
    path = (root or ROOT) / ".chalice" / "site.json"
    sites = json.loads(path.read_text()) if path.exists() else {}
    return {"hosting": "s3-website", **sites.get(stage, {})}


def log_group_name(stage: str, root: Path | None = None) -> str:
    """Where Lambda writes: /aws/lambda/<function name>; Chalice names it APP-STAGE."""
    return f"/aws/lambda/{app_name(root)}-{stage}"


def website_endpoint(bucket: str, region: str) -> str:
    sep = "-" if region in DASH_WEBSITE_REGIONS else "."
    return f"http://{bucket}.s3-website{sep}{region}.amazonaws.com"


def site_bucket(public_site_url: str) -> str:
    host = urlsplit(public_site_url).hostname or ""
    if ".s3-website" in host:
        return host.split(".s3-website")[0]
    return host


def config_problems(stage: str, env: dict, region: str, site_cfg: dict | None = None) -> list[str]:
    """What must be fixed in .chalice/config.json (and site.json) before this stage can be deployed."""
    site_cfg = site_cfg or {"hosting": "s3-website"}
    problems = []
    if stage not in THROTTLING:
        problems.append(
            f"no throttling limits for stage {stage!r}: add it to THROTTLING in scripts/deploy.py"
        )
    for name in (
        "PUBLIC_SITE_URL",
        "CORS_ORIGIN",
        "SES_SENDER",
        "MONGO_URI_SSM_PARAM",
        "JWT_SECRET_SSM_PARAM",
    ):
        value = env.get(name, "")
        if not value:
            problems.append(f"{name} is not set")
        elif PLACEHOLDER.lower() in value.lower():
            problems.append(f"{name} still holds the placeholder: {value}")
    for name in ("MONGO_URI", "JWT_SECRET"):
        if env.get(name):
            problems.append(f"{name} must not be in config.json: put it in SSM as {name}_SSM_PARAM")
    if env.get("MAIL_OUTBOX"):
        problems.append("MAIL_OUTBOX is for `make run` only: a deployed stage sends mail through SES")
    site = env.get("PUBLIC_SITE_URL", "")
    parts = urlsplit(site)
    origin = f"{parts.scheme}://{parts.netloc}"
    cors = env.get("CORS_ORIGIN", "")
    if cors == "*":
        problems.append("CORS_ORIGIN is '*': set it to the site's origin")
    elif site and cors and cors.rstrip("/") != origin:
        problems.append(f"CORS_ORIGIN {cors} is not the origin of PUBLIC_SITE_URL ({origin})")
    host = parts.hostname or ""
    if ".s3-website" in host and host != urlsplit(website_endpoint(site_bucket(site), region)).hostname:
        problems.append(
            f"PUBLIC_SITE_URL {site} is not the website endpoint of that bucket in {region} "
            f"(expected {website_endpoint(site_bucket(site), region)})"
        )
    problems += site_problems(stage, site_cfg, site)
    if stage == "prod" and env.get("ALLOW_SIGNUP", "").lower() not in ("false", "0", "no", "off"):
        print("  note: ALLOW_SIGNUP is on in prod: anyone can create a seller account", flush=True)
    return problems


def site_problems(stage: str, site_cfg: dict, site_url: str) -> list[str]:
    """HTTPS for prod; for `cloudfront` hosting a bucket, and either a custom domain with a
    us-east-1 certificate or the distribution's own cloudfront.net address."""
    problems = []
    hosting = site_cfg.get("hosting")
    parts = urlsplit(site_url)
    if hosting not in ("cloudfront", "s3-website"):
        return [f"site.json: hosting of {stage!r} must be 'cloudfront' or 's3-website', not {hosting!r}"]
    if stage == "prod" and (hosting != "cloudfront" or parts.scheme != "https"):
        problems.append(
            "prod is served over HTTPS only: hosting 'cloudfront' in .chalice/site.json and an "
            f"https:// PUBLIC_SITE_URL (not {site_url or 'empty'}); a seller types a password on it"
        )
    if hosting != "cloudfront":
        return problems
    bucket = site_cfg.get("bucket", "")
    if not bucket or PLACEHOLDER.lower() in bucket.lower():
        problems.append(f"site.json: pick a globally unique bucket name for {stage!r} (now {bucket!r})")
    if parts.scheme != "https":
        problems.append(f"PUBLIC_SITE_URL {site_url} must be https:// with CloudFront")
    domain = site_cfg.get("domain", "")
    host = parts.hostname or ""
    if domain:
        if host != domain:
            problems.append(f"PUBLIC_SITE_URL {site_url} is not https://{domain} (site.json domain)")
        if not site_cfg.get("certificate_arn", "").startswith("arn:aws:acm:us-east-1:"):
            problems.append(
                f"site.json: certificate_arn for {domain} must be an ACM certificate in us-east-1 "
                "(CloudFront uses only that region)"
            )
    elif PLACEHOLDER.lower() in site_url.lower():
        problems.append(
            f"the site's address is not known yet: run `make site-address STAGE={stage}`, then put the "
            "https://....cloudfront.net address it prints in PUBLIC_SITE_URL and CORS_ORIGIN"
        )
    elif not host.endswith(".cloudfront.net"):
        problems.append(
            f"PUBLIC_SITE_URL {site_url}: without a custom domain (site.json) it is the distribution's "
            "https://....cloudfront.net address (`make site-address`)"
        )
    return problems


def ses_policy_problems(stage: str, env: dict, root: Path | None = None) -> list[str]:
    """The role may send only as SES_SENDER: the policy's ses:FromAddress must be it."""
    path = (root or ROOT) / ".chalice" / f"policy-{stage}.json"
    if not path.exists():
        return [f"{path.name} not found"]
    senders = [
        st.get("Condition", {}).get("StringEquals", {}).get("ses:FromAddress")
        for st in json.loads(path.read_text())["Statement"]
        if "ses:SendEmail" in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    ]
    want = env.get("SES_SENDER", "")
    if senders != [want]:
        return [
            f"{path.name}: ses:FromAddress {senders} must be SES_SENDER ({want!r}), the only sender allowed"
        ]
    return []


PHOTO_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


def photo_policy_problems(stage: str, env: dict, root: Path | None = None) -> list[str]:
    """With PHOTO_BUCKET set, the role must reach that bucket's objects (the presigned POST is
    signed with it, the thumbnail Lambda reads, writes and deletes there) and no other bucket:
    without the statement every upload fails at run time with S3's AccessDenied."""
    bucket = env.get("PHOTO_BUCKET", "")
    path = (root or ROOT) / ".chalice" / f"policy-{stage}.json"
    if not path.exists():
        return [f"{path.name} not found"]
    s3_statements = [
        st
        for st in json.loads(path.read_text())["Statement"]
        if any(
            a.startswith("s3:") for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
        )
    ]
    if not bucket:
        return [f"{path.name}: an s3 statement but no PHOTO_BUCKET"] if s3_statements else []
    want = f"arn:aws:s3:::{bucket}/*"
    if len(s3_statements) != 1:
        return [
            f"{path.name}: one statement allowing {sorted(PHOTO_ACTIONS)} on {want} (PHOTO_BUCKET is set)"
        ]
    (st,) = s3_statements
    actions = {st["Action"]} if isinstance(st["Action"], str) else set(st["Action"])
    resources = [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
    if actions != PHOTO_ACTIONS or resources != [want]:
        return [f"{path.name}: the s3 statement must allow exactly {sorted(PHOTO_ACTIONS)} on {want}"]
    return []


def missing_parameters(ssm, names: Iterable[str]) -> list[str]:
    """Parameter names that do not exist (values are not decrypted or printed)."""
    resp = ssm.get_parameters(Names=sorted(set(names)), WithDecryption=False)
    return sorted(resp.get("InvalidParameters", []))


def api_url(stage: str, root: Path | None = None) -> tuple[str, str]:
    """(rest_api_url, rest_api_id) recorded by `chalice deploy`."""
    path = (root or ROOT) / ".chalice" / "deployed" / f"{stage}.json"
    if not path.exists():
        raise DeployError(f"{path} not found: has `chalice deploy --stage {stage}` run?")
    for res in json.loads(path.read_text())["resources"]:
        if res.get("resource_type") == "rest_api":
            return res["rest_api_url"], res["rest_api_id"]
    raise DeployError(f"no rest_api in {path}")


# --- API Gateway's own errors ----------------------------------------------------------

# API Gateway answers some requests without calling Lambda. Without these, a browser
# sees an opaque CORS failure instead of the error.
ERROR_TEMPLATE = (
    '{"error": {"code": "$context.error.responseType.toLowerCase()", '
    '"message": $context.error.messageString, "details": []}}'
)


def gateway_error_responses(apigw, rest_api_id: str, origin: str, api_stage: str) -> None:
    headers = {"gatewayresponse.header.Access-Control-Allow-Origin": f"'{origin}'"}
    templates = {"application/json": ERROR_TEMPLATE}
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        apigw.put_gateway_response(
            restApiId=rest_api_id, responseType=kind, responseParameters=headers, responseTemplates=templates
        )
    # An unknown path is "403 Missing Authentication Token" by default; the contract says 404.
    apigw.put_gateway_response(
        restApiId=rest_api_id,
        responseType="MISSING_AUTHENTICATION_TOKEN",
        statusCode="404",
        responseParameters=headers,
        responseTemplates={
            "application/json": '{"error": {"code": "not_found", "message": "No such route.", "details": []}}'
        },
    )
    apigw.create_deployment(restApiId=rest_api_id, stageName=api_stage, description="gateway error responses")


def throttling_operations(limits: dict) -> list[dict]:
    """Patch operations setting rate and burst on every method (`*/*`) of a stage."""
    return [
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": str(limits["rate"])},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": str(limits["burst"])},
    ]


def apply_throttling(apigw, rest_api_id: str, api_stage: str, limits: dict) -> dict:
    """Set the stage's throttling; returns the `*/*` method settings API Gateway reports."""
    resp = apigw.update_stage(
        restApiId=rest_api_id, stageName=api_stage, patchOperations=throttling_operations(limits)
    )
    return resp.get("methodSettings", {}).get("*/*", {})


def worst_case_concurrency(limits: dict, timeout_s: int) -> int:
    """Most Lambda executions one stage can hold at once: a full burst plus `rate` a
    second for as long as a request may run (Little's law with the timeout as duration)."""
    return limits["burst"] + limits["rate"] * timeout_s


# --- S3 static website -----------------------------------------------------------------


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def cache_control(key: str) -> str:
    return IMMUTABLE if key.startswith("assets/") else REVALIDATE


def site_files(dist: Path) -> dict[str, Path]:
    """S3 key -> local file, for every file under dist (hidden files skipped)."""
    files = {}
    for path in sorted(dist.rglob("*")):
        rel = path.relative_to(dist)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            files[rel.as_posix()] = path
    if "index.html" not in files:
        raise DeployError(f"{dist} has no index.html: did the site build run?")
    return files


def _error_code(exc) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def ensure_bucket(s3, bucket: str, region: str) -> bool:
    """Create the bucket in `region` if it does not exist; True when it was created."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = _error_code(exc)
        if code in ("403", "AccessDenied", "Forbidden"):
            raise DeployError(
                f"bucket {bucket} exists but belongs to another account: pick another name"
            ) from None
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
        args = {"Bucket": bucket}
        if region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**args)
        return True
    actual = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    if actual != region:
        raise DeployError(f"bucket {bucket} is in {actual}, not {region}: set AWS_DEFAULT_REGION={actual}")
    return False


def configure_website(s3, bucket: str, error_document: str) -> None:
    """Website hosting plus the public-read policy it needs (objects stay private to ACLs)."""
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": error_document},
        },
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadForWebsite",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    from botocore.exceptions import ClientError

    try:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    except ClientError as exc:
        if _error_code(exc) == "AccessDenied":
            raise DeployError(
                "S3 refused the public-read policy: the account-level Block Public Access setting is on "
                "(S3 console > Block Public Access settings for this account), or use CloudFront (docs/deploy.md)"
            ) from None
        raise


def upload_order(key: str) -> tuple[int, str]:
    """Assets first, pages and config.js last: a page never points at a missing asset."""
    if key.startswith("assets/"):
        return (0, key)
    if key.endswith(".html") or key == "config.js":
        return (2, key)
    return (1, key)


def publish(s3, bucket: str, dist: Path, log=print) -> dict:
    """Upload every file of dist with its headers, then delete objects dist no longer has."""
    files = site_files(dist)
    for key in sorted(files, key=upload_order):
        path = files[key]
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type(path),
            CacheControl=cache_control(key),
        )
        log(f"  uploaded {key} ({content_type(path)}, {cache_control(key)})")
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [o["Key"] for o in page.get("Contents", []) if o["Key"] not in files]
    for i in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[i : i + 1000]], "Quiet": True}
        )
    for key in stale:
        log(f"  deleted stale {key}")
    return {"uploaded": sorted(files), "deleted": sorted(stale)}


def error_document(dist: Path) -> str:
    return "404.html" if (dist / "404.html").is_file() else "index.html"


# --- log group -------------------------------------------------------------------------


def ensure_log_group(logs, name: str, days: int) -> bool:
    """Create the group if missing (before the function first runs) and set its retention;
    True when it was created."""
    from botocore.exceptions import ClientError

    created = True
    try:
        logs.create_log_group(logGroupName=name)
    except ClientError as exc:
        if _error_code(exc) != "ResourceAlreadyExistsException":
            raise
        created = False
    logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    return created


# --- HTTPS site: private bucket behind CloudFront ---------------------------------------

# AWS's managed "CachingOptimized" cache policy: honours the objects' Cache-Control
# (no-cache pages are revalidated, at most 1 s stale at the edge; assets for a year),
# gzip/brotli, no cookies, headers or query strings in the cache key.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ORIGIN_ID = "site-bucket"
HSTS_SECONDS = 63_072_000  # two years
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(pages: Path) -> list[str]:
    """CSP hashes of the inline scripts of the site's pages: only the import maps that
    point `app-config` at ./config.js; nothing else inline may run."""
    hashes = set()
    for page in sorted(pages.glob("*.html")):
        for body in _INLINE_SCRIPT.findall(page.read_text()):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def content_security_policy(
    api_origin: str | None, script_hashes: list[str], photo_origin: str | None = None
) -> str:
    """Scripts only from the site itself (plus the hashed import maps, no inline code, no
    eval); fetch only to the site and the API (and the photo bucket, which the Items tab
    POSTs photos to); images from the site and the photo bucket; no framing, plugins or
    <base>. Styles allow inline `style` attributes (the pages use a few for widths; no
    script runs from them)."""
    photos = [photo_origin] if photo_origin else []
    return "; ".join(
        [
            "default-src 'none'",
            " ".join(["script-src 'self'", *script_hashes]),
            "style-src 'self' 'unsafe-inline'",
            " ".join(["img-src 'self' data:", *photos]),
            "font-src 'self'",
            " ".join(["connect-src 'self'", *([api_origin] if api_origin else []), *photos]),
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


def headers_policy_config(name: str, csp: str) -> dict:
    return {
        "Name": name,
        "Comment": "personal-shopper site: CSP, HSTS, nosniff, no referrer, no framing",
        "SecurityHeadersConfig": {
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": csp},
            "StrictTransportSecurity": {
                "Override": True,
                "AccessControlMaxAgeSec": HSTS_SECONDS,
                "IncludeSubdomains": False,
                "Preload": False,
            },
            "ContentTypeOptions": {"Override": True},
            "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "no-referrer"},
            "FrameOptions": {"Override": True, "FrameOption": "DENY"},
        },
    }


def _find_headers_policy(cf, name: str) -> str | None:
    marker = None
    while True:
        resp = cf.list_response_headers_policies(Type="custom", **({"Marker": marker} if marker else {}))
        listing = resp.get("ResponseHeadersPolicyList", {})
        for item in listing.get("Items", []):
            policy = item["ResponseHeadersPolicy"]
            if policy["ResponseHeadersPolicyConfig"]["Name"] == name:
                return policy["Id"]
        marker = listing.get("NextMarker")
        if not marker:
            return None


def ensure_headers_policy(cf, name: str, csp: str) -> str:
    """Create or update the response headers policy; returns its id."""
    config = headers_policy_config(name, csp)
    policy_id = _find_headers_policy(cf, name)
    if policy_id is None:
        return cf.create_response_headers_policy(ResponseHeadersPolicyConfig=config)["ResponseHeadersPolicy"][
            "Id"
        ]
    etag = cf.get_response_headers_policy_config(Id=policy_id)["ETag"]
    cf.update_response_headers_policy(Id=policy_id, IfMatch=etag, ResponseHeadersPolicyConfig=config)
    return policy_id


def delete_headers_policy(cf, name: str) -> bool:
    policy_id = _find_headers_policy(cf, name)
    if policy_id is None:
        return False
    etag = cf.get_response_headers_policy_config(Id=policy_id)["ETag"]
    cf.delete_response_headers_policy(Id=policy_id, IfMatch=etag)
    return True


def _find_oac(cf, name: str) -> str | None:
    for item in cf.list_origin_access_controls().get("OriginAccessControlList", {}).get("Items", []) or []:
        if item["Name"] == name:
            return item["Id"]
    return None


def ensure_origin_access_control(cf, name: str) -> str:
    """Origin access control: CloudFront signs every request to the bucket (SigV4)."""
    oac_id = _find_oac(cf, name)
    if oac_id:
        return oac_id
    return cf.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": name,
            "Description": "personal-shopper site bucket, read by CloudFront only",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]


def delete_origin_access_control(cf, name: str) -> bool:
    oac_id = _find_oac(cf, name)
    if oac_id is None:
        return False
    etag = cf.get_origin_access_control(Id=oac_id)["ETag"]
    cf.delete_origin_access_control(Id=oac_id, IfMatch=etag)
    return True


def distribution_comment(app: str, stage: str) -> str:
    return f"{app} {stage} site"  # how deploy and destroy find the stage's distribution


def find_distribution(cf, comment: str) -> dict | None:
    for page in cf.get_paginator("list_distributions").paginate():
        for item in page.get("DistributionList", {}).get("Items", []) or []:
            if item.get("Comment") == comment:
                return item
    return None


def distribution_config(
    comment: str,
    bucket: str,
    region: str,
    oac_id: str,
    headers_policy_id: str,
    site_cfg: dict,
    error_page: str,
    caller_reference: str,
) -> dict:
    domain = site_cfg.get("domain", "")
    certificate = (
        {
            "ACMCertificateArn": site_cfg["certificate_arn"],
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        }
        if domain
        else {"CloudFrontDefaultCertificate": True}
    )
    return {
        "CallerReference": caller_reference,
        "Comment": comment,
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "PriceClass": "PriceClass_200",  # edges in Asia (Taiwan, Japan) included, not South America
        "Aliases": {"Quantity": 1, "Items": [domain]} if domain else {"Quantity": 0},
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": ORIGIN_ID,
                    "DomainName": f"{bucket}.s3.{region}.amazonaws.com",
                    "OriginAccessControlId": oac_id,
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": ORIGIN_ID,
            "ViewerProtocolPolicy": "redirect-to-https",
            "Compress": True,
            "CachePolicyId": CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId": headers_policy_id,
            "AllowedMethods": {
                "Quantity": 2,
                "Items": ["GET", "HEAD"],
                "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
            },
        },
        # A private bucket answers 403 for a missing key (no s3:ListBucket): show the 404 page.
        "CustomErrorResponses": {
            "Quantity": 1,
            "Items": [
                {
                    "ErrorCode": 403,
                    "ResponsePagePath": "/" + error_page,
                    "ResponseCode": "404",
                    "ErrorCachingMinTTL": 10,
                }
            ],
        },
        "ViewerCertificate": certificate,
    }


def ensure_distribution(cf, config: dict) -> tuple[dict, bool]:
    """Create the distribution, or bring an existing one (same Comment) to `config`;
    returns (distribution summary with Id, ARN, DomainName, created)."""
    existing = find_distribution(cf, config["Comment"])
    if existing is None:
        dist = cf.create_distribution(DistributionConfig=config)["Distribution"]
        return dist, True
    current = cf.get_distribution_config(Id=existing["Id"])
    config = {**config, "CallerReference": current["DistributionConfig"]["CallerReference"]}
    dist = cf.update_distribution(Id=existing["Id"], IfMatch=current["ETag"], DistributionConfig=config)[
        "Distribution"
    ]
    return dist, False


def configure_private_bucket(s3, bucket: str, distribution_arn: str) -> None:
    """All public access blocked, no website hosting, readable only through the distribution."""
    from botocore.exceptions import ClientError

    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    with contextlib.suppress(ClientError):
        s3.delete_bucket_website(Bucket=bucket)  # left from an earlier s3-website deploy
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(distribution_only_policy(bucket, distribution_arn)))


def distribution_only_policy(bucket: str, distribution_arn: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadByTheSiteDistributionOnly",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            }
        ],
    }


def certificate_problems(acm, arn: str, domain: str) -> list[str]:
    """The custom domain's certificate must be issued and cover the domain."""
    from botocore.exceptions import ClientError

    try:
        cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    except ClientError as exc:
        return [f"certificate {arn}: {_error_code(exc)} (it must exist in us-east-1)"]
    names = {cert.get("DomainName", ""), *cert.get("SubjectAlternativeNames", [])}
    wildcard = "*." + domain.split(".", 1)[-1]
    problems = []
    if cert.get("Status") != "ISSUED":
        problems.append(
            f"certificate for {domain} is {cert.get('Status')}, not ISSUED: add the DNS validation record ACM shows"
        )
    if domain not in names and wildcard not in names:
        problems.append(f"certificate {arn} does not cover {domain} (it covers {sorted(names)})")
    return problems


def ensure_site_distribution(
    session,
    app: str,
    stage: str,
    bucket: str,
    region: str,
    site_cfg: dict,
    api_origin: str | None,
    pages: Path,
    error_page: str,
    root: Path | None = None,
) -> dict:
    """Bucket (private), OAC, headers policy, distribution, bucket policy; returns the
    distribution summary and whether it was created."""
    s3 = session.client("s3")
    cf = session.client("cloudfront")
    ensure_bucket(s3, bucket, region)
    name = f"{app}-{stage}"
    oac_id = ensure_origin_access_control(cf, name)
    csp = content_security_policy(api_origin, inline_script_hashes(pages), photo_origin(stage, region, root))
    headers_id = ensure_headers_policy(cf, name, csp)
    config = distribution_config(
        distribution_comment(app, stage), bucket, region, oac_id, headers_id, site_cfg, error_page, name
    )
    dist, created = ensure_distribution(cf, config)
    configure_private_bucket(s3, bucket, dist["ARN"])
    return {
        "id": dist["Id"],
        "arn": dist["ARN"],
        "domain": dist["DomainName"],
        "created": created,
        "csp": csp,
    }


# --- the command -----------------------------------------------------------------------


def chalice_cmd() -> list[str]:
    """chalice, with compiled bytecode added to the Lambda zip (scripts/chalice_pyc.py)."""
    return [sys.executable, str(ROOT / "scripts" / "chalice_pyc.py")]


def run(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> None:
    print("  $ " + " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, check=False)  # noqa: S603
    if result.returncode != 0:
        name = Path(cmd[1] if cmd[0] == sys.executable else cmd[0]).name
        raise DeployError(f"{name} failed (exit {result.returncode})")


def photo_origin(stage: str, region: str, root: Path | None = None) -> str | None:
    """Where the stage's item photos are loaded from and uploaded to (docs/deploy.md,
    "Photos"): PHOTO_URL's origin, else the bucket's own; None without PHOTO_BUCKET."""
    try:
        env = stage_config(stage, root).get("environment_variables", {})
    except DeployError:
        return None
    if not env.get("PHOTO_BUCKET"):
        return None
    return _origin(env.get("PHOTO_URL") or f"https://{env['PHOTO_BUCKET']}.s3.{region}.amazonaws.com")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _remote_site_problems(session, app: str, stage: str, site_cfg: dict, site_url: str) -> list[str]:
    """Read-only checks of what the HTTPS site needs in AWS: the certificate of a custom
    domain, or the distribution whose address PUBLIC_SITE_URL holds."""
    if site_cfg["hosting"] != "cloudfront":
        return []
    if site_cfg.get("domain"):
        acm = session.client("acm", region_name="us-east-1")
        return certificate_problems(acm, site_cfg["certificate_arn"], site_cfg["domain"])
    dist = find_distribution(session.client("cloudfront"), distribution_comment(app, stage))
    host = urlsplit(site_url).hostname
    if dist is None:
        return [f"no CloudFront distribution for {stage!r} yet: run `make site-address STAGE={stage}` first"]
    if dist["DomainName"] != host:
        return [f"PUBLIC_SITE_URL {site_url} is not the stage's distribution, https://{dist['DomainName']}"]
    return []


def _session_region():
    import boto3

    session = boto3.Session()
    if not session.region_name:
        raise DeployError("no AWS region: set AWS_DEFAULT_REGION (e.g. ap-northeast-1) or a profile region")
    return session, session.region_name


def deploy(stage: str, bucket: str | None, site_only: bool, root: Path | None = None) -> None:
    """The whole deploy; `root` is the project directory (tests use a copy)."""
    root = root or ROOT
    dist = root / "static_site" / "dist"
    session, region = _session_region()

    cfg = stage_config(stage, root)
    env = cfg.get("environment_variables", {})
    site_cfg = site_config(stage, root)
    app = app_name(root)
    hosting = site_cfg["hosting"]
    step(1, f"checking stage {stage!r} in {region}")
    problems = (
        config_problems(stage, env, region, site_cfg)
        + ses_policy_problems(stage, env, root)
        + photo_policy_problems(stage, env, root)
    )
    if stage not in LOG_RETENTION_DAYS:
        problems.append(
            f"no log retention for stage {stage!r}: add it to LOG_RETENTION_DAYS in scripts/deploy.py"
        )
    if problems:
        raise DeployError("fix .chalice/config.json first:\n  - " + "\n  - ".join(problems))
    account = session.client("sts").get_caller_identity()["Account"]
    print(f"  AWS account {account}", flush=True)
    params = [env["MONGO_URI_SSM_PARAM"], env["JWT_SECRET_SSM_PARAM"]]
    missing = missing_parameters(session.client("ssm"), params)
    if missing:
        raise DeployError(
            "missing SSM parameters (see docs/deploy.md): "
            + ", ".join(missing)
            + "\n  aws ssm put-parameter --type SecureString --name NAME --value VALUE"
        )
    site_url = env["PUBLIC_SITE_URL"].rstrip("/")
    problems = _remote_site_problems(session, app, stage, site_cfg, site_url)
    if problems:
        raise DeployError("\n  - ".join(["the HTTPS site is not ready:", *problems]))
    bucket = bucket or (site_cfg["bucket"] if hosting == "cloudfront" else site_bucket(site_url))
    api_stage = cfg.get("api_gateway_stage", "api")

    group = log_group_name(stage, root)
    step(2, f"log group {group}: {LOG_RETENTION_DAYS[stage]} days")
    created = ensure_log_group(session.client("logs"), group, LOG_RETENTION_DAYS[stage])
    print("  created" if created else "  retention set", flush=True)
    if site_only:
        print("  --site-only: skipping chalice deploy", flush=True)
    else:
        step(3, f"chalice deploy --stage {stage}")
        run([*chalice_cmd(), "deploy", "--stage", stage], cwd=root)
    step(4, "reading the API URL")
    url, rest_api_id = api_url(stage, root)
    print(f"  {url}", flush=True)
    step(5, "CORS headers on API Gateway's own error responses")
    if site_only:
        print("  skipped (--site-only)", flush=True)
    else:
        gateway_error_responses(session.client("apigateway"), rest_api_id, env["CORS_ORIGIN"], api_stage)
    limits = THROTTLING[stage]
    step(6, f"API Gateway throttling: {limits['rate']} requests/s, burst {limits['burst']}")
    if site_only:
        print("  skipped (--site-only)", flush=True)
    else:
        settings = apply_throttling(session.client("apigateway"), rest_api_id, api_stage, limits)
        print(
            f"  stage {api_stage}: rateLimit {settings.get('throttlingRateLimit')}, "
            f"burstLimit {settings.get('throttlingBurstLimit')} on every method",
            flush=True,
        )
    step(7, "building the site")
    run([str(root / "scripts" / "build-site.sh")], env={"API_URL": url}, cwd=root)
    s3 = session.client("s3")
    if hosting == "cloudfront":
        step(8, f"bucket s3://{bucket} (private: all public access blocked)")
        step(9, "CloudFront distribution (HTTPS, origin access control, security headers)")
        result = ensure_site_distribution(
            session, app, stage, bucket, region, site_cfg, _origin(url), dist, error_document(dist), root
        )
        print(
            f"  {'created' if result['created'] else 'updated'} {result['id']} https://{result['domain']}",
            flush=True,
        )
        print(f"  Content-Security-Policy: {result['csp']}", flush=True)
    else:
        step(8, f"bucket s3://{bucket} (website hosting, public read; plain HTTP, dev only)")
        created = ensure_bucket(s3, bucket, region)
        print("  created" if created else "  exists", flush=True)
        configure_website(s3, bucket, error_document(dist))
        step(9, "CloudFront: not used (hosting s3-website in .chalice/site.json)")
    step(10, "uploading static_site/dist")
    result = publish(s3, bucket, dist)
    print(f"  {len(result['uploaded'])} files uploaded, {len(result['deleted'])} stale deleted", flush=True)
    where = (
        f"(bucket s3://{bucket})"
        if hosting == "cloudfront"
        else f"(S3 endpoint {website_endpoint(bucket, region)}/)"
    )
    print(f"\nDeployed stage {stage}:\n  API   {url}\n  Site  {site_url}/\n  {where}")


def site_address(stage: str, root: Path | None = None) -> str:
    """Create (or update) the stage's private bucket and distribution before the first
    deploy, and return the https:// address to put in PUBLIC_SITE_URL and CORS_ORIGIN."""
    root = root or ROOT
    session, region = _session_region()
    site_cfg = site_config(stage, root)
    if site_cfg["hosting"] != "cloudfront":
        raise DeployError(f"stage {stage!r} is not served by CloudFront (.chalice/site.json)")
    problems = [p for p in site_problems(stage, site_cfg, "https://") if p.startswith("site.json")]
    if problems:
        raise DeployError("fix .chalice/site.json first:\n  - " + "\n  - ".join(problems))
    api_origin = None
    with contextlib.suppress(DeployError):
        api_origin = _origin(api_url(stage, root)[0])
    result = ensure_site_distribution(
        session,
        app_name(root),
        stage,
        site_cfg["bucket"],
        region,
        site_cfg,
        api_origin,
        root / "static_site" / "src",
        "404.html",
        root,
    )
    address = f"https://{site_cfg.get('domain') or result['domain']}"
    print(
        f"Site of stage {stage}: {address}\n"
        f"  put it in PUBLIC_SITE_URL and CORS_ORIGIN of stage {stage} in .chalice/config.json, "
        f"then `make deploy STAGE={stage}`"
        + (f"\n  DNS: CNAME {site_cfg['domain']} -> {result['domain']}" if site_cfg.get("domain") else "")
    )
    return address


def database_env(stage: str) -> str:
    """Shell exports that point `chalicelib.manage` at the stage's database via SSM,
    exactly as the Lambda finds it (used by `make init-db-aws`)."""
    env = stage_config(stage).get("environment_variables", {})
    names = ("MONGO_DB", "MONGO_URI_SSM_PARAM", "JWT_SECRET_SSM_PARAM")
    return "\n".join(f"export {n}={shlex.quote(env[n])}" for n in names if env.get(n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="dev or prod (a stage of .chalice/config.json)")
    parser.add_argument("--bucket", help="site bucket (default: from the stage's PUBLIC_SITE_URL)")
    parser.add_argument("--site-only", action="store_true", help="rebuild and upload the site only")
    parser.add_argument("--print-db-env", action="store_true", help="print the stage's database exports")
    parser.add_argument(
        "--site-address",
        action="store_true",
        help="create the HTTPS site's bucket and distribution, print its address",
    )
    args = parser.parse_args(argv)
    try:
        if args.print_db_env:
            print(database_env(args.stage))
            return 0
        if args.site_address:
            site_address(args.stage)
            return 0
        deploy(args.stage, args.bucket, args.site_only)
    except DeployError as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
