"""Where photos live: S3 in AWS, files under the run's data folder locally (`make run`).

Chosen when first asked for (docs/api.md, "Photos"): `BLOB_DIR` set means local files
(`make run` sets it to $DATA_DIR/blobs), else `PHOTO_BUCKET` means S3. Both hand the
browser a POST form (url + fields) whose policy fixes the key, the exact Content-Type and
the size range; S3 checks it itself, the local store checks the same conditions, the
expiry and an HMAC signature in `accept_post` (the API's local upload route).

Keys: `uploads/...` are originals (private, deleted once their images are made);
`images/...` are the small and medium images the pages load (public).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
from pathlib import Path

from chalicelib.platform import clock
from chalicelib.platform.errors import DomainError, Unavailable

UPLOAD_SECONDS = 900  # how long a presigned POST may be used


class UploadRefused(DomainError):
    """The local store refused a POST its policy does not allow (S3 answers 403 there; the
    page says "the upload failed" whatever the answer, so no code of its own)."""

    status, code = 403, "forbidden"


def _policy_conditions(key: str, content_type: str, max_bytes: int) -> list:
    return [{"key": key}, {"Content-Type": content_type}, ["content-length-range", 1, max_bytes]]


class BlobMissing(LookupError):
    """No file under that key (deleted by another run or a removal meanwhile)."""


class S3Blobs:
    """An S3 bucket; boto3 is imported on first use (never at a cold start)."""

    kind = "s3"

    def __init__(self, bucket: str, public_url: str):
        self.bucket = bucket
        self.public_base = public_url.rstrip("/")

    @functools.cached_property
    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None)

    def presigned_post(self, key: str, content_type: str, max_bytes: int) -> dict:
        conditions = _policy_conditions(key, content_type, max_bytes)[1:]  # boto3 adds the key
        post = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=conditions,
            ExpiresIn=UPLOAD_SECONDS,
        )
        return {"url": post["url"], "fields": post["fields"]}

    def read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise BlobMissing(key) from None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            # The key holds a random part and never changes content.
            CacheControl="public, max-age=31536000, immutable",
        )

    def delete(self, *keys: str) -> None:
        if keys:
            self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True}
            )

    def url(self, key: str) -> str:
        return f"{self.public_base}/{key}"


class LocalBlobs:
    """Files under `root`; images served by the page server (scripts/site_server.py
    --blobs) at `public_url`; uploads POSTed to the API's `upload_url`."""

    kind = "local"

    def __init__(self, root: str, upload_url: str, public_url: str, secret: bytes):
        self.root = Path(root)
        self.upload_url = upload_url
        self.public_base = public_url.rstrip("/")
        self._secret = secret

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key outside the store: {key!r}")
        return path

    def _sign(self, policy: str) -> str:
        return hmac.new(self._secret, policy.encode(), hashlib.sha256).hexdigest()

    def presigned_post(self, key: str, content_type: str, max_bytes: int) -> dict:
        expires = clock.now() + dt.timedelta(seconds=UPLOAD_SECONDS)
        document = {
            "expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "conditions": _policy_conditions(key, content_type, max_bytes),
        }
        policy = base64.b64encode(json.dumps(document).encode()).decode()
        fields = {
            "key": key,
            "Content-Type": content_type,
            "policy": policy,
            "x-signature": self._sign(policy),
        }
        return {"url": self.upload_url, "fields": fields}

    def accept_post(self, fields: dict[str, str], data: bytes) -> str:
        """Check a POST as S3 checks one (signature, expiry, every condition), store the
        file and return its key."""
        policy = fields.get("policy", "")
        if not hmac.compare_digest(self._sign(policy), fields.get("x-signature", "")):
            raise UploadRefused("the upload's signature does not match its policy")
        document = json.loads(base64.b64decode(policy))
        expires = dt.datetime.strptime(document["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        if clock.now() > expires:
            raise UploadRefused("the upload's policy has expired")
        for condition in document["conditions"]:
            if isinstance(condition, dict):
                ((name, want),) = condition.items()
                if fields.get(name) != want:
                    raise UploadRefused(f"the upload's {name} is not the one its policy allows")
            else:
                _, low, high = condition
                if not low <= len(data) <= high:
                    raise UploadRefused(f"the file's size is outside {low}-{high} bytes")
        key = fields["key"]
        self.put(key, data, fields["Content-Type"])
        return key

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def delete(self, *keys: str) -> None:
        root = self.root.resolve()
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            for folder in path.parents:  # no empty folders left behind (as in S3: none exist)
                if folder == root or not folder.is_relative_to(root):
                    break
                try:
                    folder.rmdir()
                except OSError:
                    break

    def url(self, key: str) -> str:
        return f"{self.public_base}/{key}"


@functools.lru_cache(maxsize=1)
def store() -> S3Blobs | LocalBlobs:
    if os.environ.get("BLOB_DIR"):
        from chalicelib.platform.config import get_settings

        secret = hashlib.sha256(b"blob-upload:" + get_settings().jwt_secret.encode()).digest()
        return LocalBlobs(
            os.environ["BLOB_DIR"],
            os.environ.get("BLOB_UPLOAD_URL") or "http://127.0.0.1:8000/photo-uploads",
            os.environ.get("BLOB_URL") or "http://127.0.0.1:8080/media",
            secret,
        )
    bucket = os.environ.get("PHOTO_BUCKET")
    if bucket:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        return S3Blobs(bucket, os.environ.get("PHOTO_URL") or f"https://{bucket}.s3.{region}.amazonaws.com")
    raise Unavailable("photo storage is not set up (PHOTO_BUCKET)", code="photos_unavailable", retry_after=60)


def event_bucket() -> str | None:
    """The bucket whose uploads trigger the photo Lambda (app.py), read when app.py is
    imported: in AWS and by `chalice deploy` (which loads app.py with the stage's
    environment). None for `chalice package` (SAM cannot wire it: scripts/chalice_pyc.py)."""
    if os.environ.get("CHALICE_SAM_PACKAGE"):
        return None
    return os.environ.get("PHOTO_BUCKET") or None


def reset() -> None:
    """Forget the chosen store (tests change the environment)."""
    store.cache_clear()
