"""`make destroy STAGE=dev|prod`: remove what `make deploy` made for that stage.

Removes the site bucket (emptied first) and the API (`chalice delete`: Lambda, API
Gateway, IAM role). Leaves alone what deploy did not create: the SSM secrets and the
Atlas database (the sellers' data), and prints how to remove those by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy import (
    ROOT,
    DeployError,
    _error_code,
    chalice_bin,
    run,
    site_bucket,
    stage_config,
)

STEPS = 3


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


def destroy(stage: str, bucket: str | None, yes: bool, root: Path | None = None) -> None:
    """The whole removal; `root` is the project directory (tests use a copy)."""
    import boto3

    root = root or ROOT
    env = stage_config(stage, root).get("environment_variables", {})
    bucket = bucket or site_bucket(env.get("PUBLIC_SITE_URL", ""))
    if not yes:
        answer = input(f"Delete the {stage} API and bucket s3://{bucket}? Type the stage name to confirm: ")
        if answer.strip() != stage:
            raise DeployError("not confirmed; nothing deleted")
    session = boto3.Session()
    step(1, f"site bucket s3://{bucket}")
    removed = delete_bucket(session.client("s3"), bucket)
    print(
        "  not found (already gone)" if removed is None else f"  deleted with {removed} objects", flush=True
    )
    step(2, f"chalice delete --stage {stage}")
    if (root / ".chalice" / "deployed" / f"{stage}.json").exists():
        run([chalice_bin(), "delete", "--stage", stage], cwd=root)
    else:
        print("  no .chalice/deployed record: the API is not deployed from this checkout", flush=True)
    step(3, "left in place on purpose")
    for name in ("MONGO_URI_SSM_PARAM", "JWT_SECRET_SSM_PARAM"):
        if env.get(name):
            print(f"  SSM {env[name]}  (aws ssm delete-parameter --name {env[name]})", flush=True)
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
