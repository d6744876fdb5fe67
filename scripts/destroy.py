"""`make destroy STAGE=dev|prod`: remove what `make deploy` made for that stage.

Removes the CloudFront distribution (disabled first, then deleted once CloudFront has
rolled that out: several minutes), its response headers policy and origin access
control, the site bucket (emptied first), the API (`chalice delete`: Lambda, API
Gateway, IAM role) and the function's log group. Leaves alone what deploy did not
create: the SSM secrets, the ACM certificate and DNS of a custom domain, and the Atlas
database (the sellers' data), and prints how to remove those by hand.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from deploy import (
    ROOT,
    DeployError,
    _error_code,
    app_name,
    chalice_cmd,
    delete_headers_policy,
    delete_origin_access_control,
    distribution_comment,
    find_distribution,
    log_group_name,
    run,
    site_bucket,
    site_config,
    stage_config,
)

STEPS = 5


def step(n: int, text: str) -> None:
    print(f"[{n}/{STEPS}] {text}", flush=True)


def delete_bucket(s3, bucket: str) -> int | None:
    """Empty (every version, if versioning was ever on) and delete; None if it is not there."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if _error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return None
        raise
    doomed = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            doomed.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
    for i in range(0, len(doomed), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[i : i + 1000], "Quiet": True})
    s3.delete_bucket(Bucket=bucket)
    return len(doomed)


def delete_distribution(
    cf, comment: str, poll_seconds: float = 20, timeout_s: float = 1800, log=print
) -> str | None:
    """Disable, wait until CloudFront has deployed that, delete; None if there is none."""
    found = find_distribution(cf, comment)
    if found is None:
        return None
    dist_id = found["Id"]
    current = cf.get_distribution_config(Id=dist_id)
    if current["DistributionConfig"]["Enabled"]:
        config = {**current["DistributionConfig"], "Enabled": False}
        cf.update_distribution(Id=dist_id, IfMatch=current["ETag"], DistributionConfig=config)
        log(f"  disabled {dist_id}; waiting for CloudFront to deploy that (several minutes)")
    deadline = time.monotonic() + timeout_s
    while True:
        resp = cf.get_distribution(Id=dist_id)
        if resp["Distribution"]["Status"] == "Deployed":
            break
        if time.monotonic() > deadline:
            raise DeployError(
                f"distribution {dist_id} still {resp['Distribution']['Status']}: run destroy again later"
            )
        time.sleep(poll_seconds)
    cf.delete_distribution(Id=dist_id, IfMatch=resp["ETag"])
    return dist_id


def delete_log_groups(logs, names: list[str]) -> list[str]:
    from botocore.exceptions import ClientError

    deleted = []
    for name in names:
        try:
            logs.delete_log_group(logGroupName=name)
            deleted.append(name)
        except ClientError as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
    return deleted


def destroy(
    stage: str, bucket: str | None, yes: bool, root: Path | None = None, poll_seconds: float = 20
) -> None:
    """The whole removal; `root` is the project directory (tests use a copy)."""
    import boto3

    root = root or ROOT
    env = stage_config(stage, root).get("environment_variables", {})
    site_cfg = site_config(stage, root)
    cloudfront = site_cfg["hosting"] == "cloudfront"
    bucket = bucket or (site_cfg.get("bucket") if cloudfront else site_bucket(env.get("PUBLIC_SITE_URL", "")))
    app = app_name(root)
    if not yes:
        answer = input(
            f"Delete the {stage} API, its logs, the site and bucket s3://{bucket}? Type the stage name to confirm: "
        )
        if answer.strip() != stage:
            raise DeployError("not confirmed; nothing deleted")
    session = boto3.Session()
    step(1, "CloudFront distribution, headers policy, origin access control")
    if cloudfront:
        cf = session.client("cloudfront")
        gone = delete_distribution(cf, distribution_comment(app, stage), poll_seconds=poll_seconds)
        print(f"  deleted distribution {gone}" if gone else "  no distribution (already gone)", flush=True)
        name = f"{app}-{stage}"
        if delete_headers_policy(cf, name):
            print(f"  deleted response headers policy {name}", flush=True)
        if delete_origin_access_control(cf, name):
            print(f"  deleted origin access control {name}", flush=True)
    else:
        print("  none (hosting s3-website)", flush=True)
    step(2, f"site bucket s3://{bucket}")
    removed = delete_bucket(session.client("s3"), bucket)
    print(
        "  not found (already gone)" if removed is None else f"  deleted with {removed} objects", flush=True
    )
    step(3, f"chalice delete --stage {stage}")
    if (root / ".chalice" / "deployed" / f"{stage}.json").exists():
        run([*chalice_cmd(), "delete", "--stage", stage], cwd=root)
    else:
        print("  no .chalice/deployed record: the API is not deployed from this checkout", flush=True)
    group = log_group_name(stage, root)
    step(4, f"log group {group}")
    # Also the group older deploys made with Chalice's log_retention_in_days.
    deleted = delete_log_groups(session.client("logs"), [group, f"{group}-api_handler"])
    print(f"  deleted {', '.join(deleted)}" if deleted else "  not found (already gone)", flush=True)
    step(5, "left in place on purpose")
    for name in ("MONGO_URI_SSM_PARAM", "JWT_SECRET_SSM_PARAM"):
        if env.get(name):
            print(f"  SSM {env[name]}  (aws ssm delete-parameter --name {env[name]})", flush=True)
    if site_cfg.get("domain"):
        print(f"  ACM certificate and DNS record of {site_cfg['domain']}", flush=True)
    print(f"  Atlas database {env.get('MONGO_DB', '?')!r} (your sellers' data)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--bucket", help="site bucket (default: from the stage's PUBLIC_SITE_URL)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        destroy(args.stage, args.bucket, args.yes)
    except DeployError as exc:
        print(f"destroy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
