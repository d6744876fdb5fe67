"""`make deploy STAGE=dev|prod`: the API with `chalice deploy`, then the pages on S3.

Deployment tooling, not app code: it runs on the operator's machine with their AWS
credentials and is never packaged into the Lambda zip. Steps, each printed as it runs:

  1. check .chalice/config.json for the stage, AWS credentials and the SSM secrets
  2. `chalice deploy --stage STAGE`
  3. read the API URL from .chalice/deployed/STAGE.json
  4. give API Gateway's own errors (unknown path, throttling, body too large) CORS
     headers and the contract's error body
  5. throttle the API Gateway stage (THROTTLING below: requests per second and burst)
  6. build the site with that API URL (scripts/build-site.sh)
  7. S3 bucket: create if missing, static website hosting, public-read policy
  8. upload static_site/dist with content types and cache headers; delete stale files

The site's address is the stage's PUBLIC_SITE_URL; the bucket is the first label of an
S3 website host name (`BUCKET.s3-website-REGION.amazonaws.com`), else the host itself
(an S3 website behind a custom domain must be named after it), or `--bucket`.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
STEPS = 8
PLACEHOLDER = "CHANGE-ME"

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


def website_endpoint(bucket: str, region: str) -> str:
    sep = "-" if region in DASH_WEBSITE_REGIONS else "."
    return f"http://{bucket}.s3-website{sep}{region}.amazonaws.com"


def site_bucket(public_site_url: str) -> str:
    host = urlsplit(public_site_url).hostname or ""
    if ".s3-website" in host:
        return host.split(".s3-website")[0]
    return host


def config_problems(stage: str, env: dict, region: str) -> list[str]:
    """What must be fixed in .chalice/config.json before this stage can be deployed."""
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
    if stage == "prod" and env.get("ALLOW_SIGNUP", "").lower() not in ("false", "0", "no", "off"):
        print("  note: ALLOW_SIGNUP is on in prod: anyone can create a seller account", flush=True)
    return problems


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


# --- the command -----------------------------------------------------------------------


def chalice_bin() -> str:
    return str(Path(sys.executable).parent / "chalice")


def run(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> None:
    print("  $ " + " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=cwd or ROOT, env={**os.environ, **(env or {})}, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DeployError(f"{cmd[0]} failed (exit {result.returncode})")


def deploy(stage: str, bucket: str | None, site_only: bool, root: Path | None = None) -> None:
    """The whole deploy; `root` is the project directory (tests use a copy)."""
    import boto3

    root = root or ROOT
    dist = root / "static_site" / "dist"
    session = boto3.Session()
    region = session.region_name
    if not region:
        raise DeployError("no AWS region: set AWS_DEFAULT_REGION (e.g. ap-northeast-1) or a profile region")

    cfg = stage_config(stage, root)
    env = cfg.get("environment_variables", {})
    step(1, f"checking stage {stage!r} in {region}")
    problems = config_problems(stage, env, region)
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
    bucket = bucket or site_bucket(site_url)

    if site_only:
        print("  --site-only: skipping chalice deploy", flush=True)
    else:
        step(2, f"chalice deploy --stage {stage}")
        run([chalice_bin(), "deploy", "--stage", stage], cwd=root)
    step(3, "reading the API URL")
    url, rest_api_id = api_url(stage, root)
    print(f"  {url}", flush=True)
    step(4, "CORS headers on API Gateway's own error responses")
    if site_only:
        print("  skipped (--site-only)", flush=True)
    else:
        gateway_error_responses(
            session.client("apigateway"), rest_api_id, env["CORS_ORIGIN"], cfg.get("api_gateway_stage", "api")
        )
    limits = THROTTLING[stage]
    step(5, f"API Gateway throttling: {limits['rate']} requests/s, burst {limits['burst']}")
    if site_only:
        print("  skipped (--site-only)", flush=True)
    else:
        api_stage = cfg.get("api_gateway_stage", "api")
        settings = apply_throttling(session.client("apigateway"), rest_api_id, api_stage, limits)
        print(
            f"  stage {api_stage}: rateLimit {settings.get('throttlingRateLimit')}, "
            f"burstLimit {settings.get('throttlingBurstLimit')} on every method",
            flush=True,
        )
    step(6, "building the site")
    run([str(root / "scripts" / "build-site.sh")], env={"API_URL": url}, cwd=root)
    step(7, f"bucket s3://{bucket} (website hosting, public read)")
    s3 = session.client("s3")
    created = ensure_bucket(s3, bucket, region)
    print("  created" if created else "  exists", flush=True)
    configure_website(s3, bucket, error_document(dist))
    step(8, "uploading static_site/dist")
    result = publish(s3, bucket, dist)
    print(f"  {len(result['uploaded'])} files uploaded, {len(result['deleted'])} stale deleted", flush=True)
    print(
        f"\nDeployed stage {stage}:\n  API   {url}\n  Site  {site_url}/\n"
        f"  (S3 endpoint {website_endpoint(bucket, region)}/)"
    )


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
    args = parser.parse_args(argv)
    try:
        if args.print_db_env:
            print(database_env(args.stage))
            return 0
        deploy(args.stage, args.bucket, args.site_only)
    except DeployError as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
