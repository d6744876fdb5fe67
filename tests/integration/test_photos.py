"""Item photos (issue 30): the presigned POST, the S3 event that makes the images, the
limit, removal, and `make run`'s local store with its own upload route.

S3 is moto's (mock_aws, in process). moto accepts a presigned POST without checking its
policy (a wrong type or an oversized file is stored all the same), so the policy's
conditions are checked here as S3 reads them, and the local store, which enforces them
itself, is tested against each one."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid

import pytest
from bson import ObjectId

from chalicelib.catalog import photos
from chalicelib.platform import blobs, clock, db
from tests.factories import make_item

BUCKET = "test-photos"
MB8 = 8 * 1024 * 1024
GPS = {1: "N", 2: (25.0, 2.0, 3.0), 3: "E", 4: (121.0, 30.0, 0.0)}


def jpeg(width=1200, height=900, orientation=6, gps=True) -> bytes:
    """A phone photo: taken sideways (EXIF orientation 6: turn 90° clockwise), with GPS."""
    from PIL import Image

    img = Image.new("RGB", (width, height), (200, 30, 30))
    img.paste((30, 30, 200), (0, 0, width // 4, height))  # a blue band on the left
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif[0x8825] = GPS
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_with_alpha() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def s3(backend):
    """moto's S3 with the photo bucket; the app's store made inside it."""
    from moto import mock_aws

    blobs.reset()
    with mock_aws():
        import boto3

        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
    blobs.reset()


@pytest.fixture
def local_blobs(backend, tmp_path, monkeypatch):
    """`make run`'s store: files under a folder, uploads to the API's own route."""
    monkeypatch.setenv("BLOB_DIR", str(tmp_path / "blobs"))
    monkeypatch.setenv("BLOB_URL", "http://127.0.0.1:8080/media")
    blobs.reset()
    yield tmp_path / "blobs"
    blobs.reset()


def start(api, token, item_id, content_type="image/jpeg", size=1000):
    return api.post(f"/items/{item_id}/photos", {"content_type": content_type, "size": size}, token=token)


def lambda_event(key: str, bucket: str = BUCKET) -> dict:
    """An S3 ObjectCreated notification as Lambda hands it over (the key URL-encoded)."""
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-12-05T08:00:00.000Z",
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "make_photo_images",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": 1234, "eTag": "x", "sequencer": "0A"},
                },
            }
        ]
    }


def run_handler(key: str) -> None:
    import app

    app.make_photo_images(lambda_event(key), None)  # what Lambda calls: the handler `app.make_photo_images`


def post_form(upload: dict, data: bytes, content_type: str | None = None):
    import requests

    fields = dict(upload["fields"])
    if content_type:
        fields["Content-Type"] = content_type
    return requests.post(upload["url"], data=fields, files={"file": ("photo", data)}, timeout=10)


def policy(upload: dict) -> dict:
    return json.loads(base64.b64decode(upload["fields"]["policy"]))


# --- the API ---------------------------------------------------------------------------


def test_start_gives_a_presigned_post_for_that_type_and_at_most_8_mb(api, token, s3):
    item = make_item(api, token)
    r = start(api, token, item["id"], "image/png", 2_000_000)
    assert r.status == 201, r
    upload = r.json["upload"]
    assert upload["url"].startswith(f"https://{BUCKET}.s3")
    key = upload["fields"]["key"]
    assert key.startswith("uploads/") and key.endswith(r.json["photo_id"])
    assert upload["fields"]["Content-Type"] == "image/png"
    conditions = policy(upload)["conditions"]
    # S3 refuses a POST that breaks any of these (moto does not check them: see the docstring).
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1, MB8] in conditions
    assert {"key": key} in conditions
    assert {"bucket": BUCKET} in conditions
    doc = db.get_db().photos.find_one()
    assert doc["status"] == "pending" and doc["key"] == key and doc["slot"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content_type": "image/gif", "size": 10}, "content_type"),
        ({"content_type": "image/heic", "size": 10}, "content_type"),
        ({"content_type": "image/jpeg", "size": MB8 + 1}, "size"),
        ({"content_type": "image/jpeg", "size": 0}, "size"),
        ({"content_type": "image/jpeg", "size": "１０"}, "size"),
        ({"content_type": "image/jpeg"}, "size"),
    ],
)
def test_wrong_type_or_size_is_a_400_naming_the_field_and_writes_nothing(api, token, s3, body, field):
    item = make_item(api, token)
    r = api.post(f"/items/{item['id']}/photos", body, token=token)
    assert r.status == 400, r
    assert r.json["error"]["code"] == "validation_error"
    assert [d["field"] for d in r.json["error"]["details"]] == [field]
    assert db.get_db().photos.count_documents({}) == 0


def test_another_sellers_item_and_photo_are_404(api, token, other_token, s3):
    item = make_item(api, token)
    photo = start(api, token, item["id"]).json
    assert start(api, other_token, item["id"]).status == 404
    path = f"/items/{item['id']}/photos/{photo['photo_id']}"
    assert api.get(path, token=other_token).status == 404
    assert api.delete(path, token=other_token).status == 404
    assert api.get(path, token=token).json["status"] == "pending"
    # The photo under another item of the same seller is no photo of that item.
    other_item = make_item(api, token, item_name="Other")
    assert api.get(f"/items/{other_item['id']}/photos/{photo['photo_id']}", token=token).status == 404


def test_an_item_holds_8_photos_then_409_until_one_is_removed(api, token, s3):
    item = make_item(api, token)
    ids = [start(api, token, item["id"]).json["photo_id"] for _ in range(8)]
    r = start(api, token, item["id"])
    assert r.status == 409 and r.json["error"]["code"] == "too_many_photos", r
    assert db.get_db().photos.count_documents({}) == 8
    assert api.delete(f"/items/{item['id']}/photos/{ids[3]}", token=token).status == 204
    assert start(api, token, item["id"]).status == 201
    assert start(api, token, item["id"]).status == 409


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
@pytest.mark.parametrize("where", ["s3", "local_blobs"])
def test_a_file_gone_reads_as_blob_missing_in_either_store(backend, where, request):
    """The S3 event's run tells "the file went meanwhile" from a storage failure by this
    (photos.uploaded): S3's NoSuchKey and a missing local file both read as BlobMissing."""
    request.getfixturevalue(where)
    with pytest.raises(blobs.BlobMissing):
        blobs.store().read("uploads/a/b/c")


def test_the_s3_event_makes_small_and_medium_images_upright_without_exif(api, token, s3):
    from PIL import Image

    item = make_item(api, token)
    photo = start(api, token, item["id"]).json
    upload = photo["upload"]
    original = jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825) == GPS  # the test file has GPS
    assert post_form(upload, original).status_code == 204  # the browser's POST, to moto
    key = upload["fields"]["key"]

    run_handler(key)

    got = api.get(f"/items/{item['id']}", token=token).json
    (shown,) = got["photos"]
    assert shown["id"] == photo["photo_id"]
    listed = api.get("/items", token=token).json["items"][0]["photos"]
    assert listed == got["photos"]
    sizes = {}
    for name in ("small", "medium"):
        url = shown[f"{name}_url"]
        assert url.startswith(f"https://{BUCKET}.s3.us-east-1.amazonaws.com/images/")
        obj = s3.get_object(Bucket=BUCKET, Key=url.split(".amazonaws.com/", 1)[1])
        assert obj["ContentType"] == "image/jpeg"
        body = obj["Body"].read()
        img = Image.open(io.BytesIO(body))
        assert img.format == "JPEG"
        assert "exif" not in img.info and len(img.getexif()) == 0, img.getexif()
        assert b"PhoneMaker" not in body and b"GPS" not in body
        sizes[name] = img.size
        # Turned upright: the left band (blue) is now at the top.
        r, g, b = img.convert("RGB").getpixel((img.width // 2, 2))
        assert b > 150 and r < 100, (r, g, b)
    assert sizes == {"small": (120, 160), "medium": (600, 800)}
    # The original (with its GPS) is gone: only the images stay.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert key not in keys and len(keys) == 2
    assert api.get(f"/items/{item['id']}/photos/{photo['photo_id']}", token=token).json["status"] == "ready"
    # S3 delivers at least once: the same event again changes nothing.
    run_handler(key)
    assert api.get(f"/items/{item['id']}", token=token).json["photos"] == got["photos"]
    assert len(s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == 2


def test_a_png_with_transparency_becomes_a_jpeg_on_white(api, token, s3):
    from PIL import Image

    item = make_item(api, token)
    upload = start(api, token, item["id"], "image/png").json["upload"]
    post_form(upload, png_with_alpha())
    run_handler(upload["fields"]["key"])
    (shown,) = api.get(f"/items/{item['id']}", token=token).json["photos"]
    key = shown["small_url"].split(".amazonaws.com/", 1)[1]
    img = Image.open(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()))
    assert img.size == (160, 107) and img.getpixel((80, 50))[0] > 240


@pytest.mark.parametrize("content", [b"not an image at all", "png"])
def test_a_corrupt_or_wrong_file_is_failed_once_and_frees_its_slot(api, token, s3, content):
    item = make_item(api, token)
    for _ in range(7):
        start(api, token, item["id"])
    photo = start(api, token, item["id"]).json  # the 8th: declared a JPEG
    data = png_with_alpha() if content == "png" else content
    post_form(photo["upload"], data)
    key = photo["upload"]["fields"]["key"]
    run_handler(key)  # no exception: Lambda does not retry it
    status = api.get(f"/items/{item['id']}/photos/{photo['photo_id']}", token=token).json
    assert status == {"id": photo["photo_id"], "status": "failed", "small_url": None, "medium_url": None}
    assert api.get(f"/items/{item['id']}", token=token).json["photos"] == []
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)  # the file is deleted
    run_handler(key)  # a second delivery: still failed, nothing made
    assert db.get_db().photos.find_one({"_id": ObjectId(photo["photo_id"])})["status"] == "failed"
    assert start(api, token, item["id"]).status == 201  # its slot is free again


def test_removing_a_photo_removes_its_images(api, token, s3):
    item = make_item(api, token)
    photo = start(api, token, item["id"]).json
    post_form(photo["upload"], jpeg(400, 300))
    run_handler(photo["upload"]["fields"]["key"])
    assert len(s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == 2
    assert api.delete(f"/items/{item['id']}/photos/{photo['photo_id']}", token=token).status == 204
    assert api.get(f"/items/{item['id']}", token=token).json["photos"] == []
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    assert api.delete(f"/items/{item['id']}/photos/{photo['photo_id']}", token=token).status == 404


def test_deleting_the_item_removes_its_photos(api, token, s3):
    item = make_item(api, token)
    for size in (400, 500):
        photo = start(api, token, item["id"]).json
        post_form(photo["upload"], jpeg(size, 300))
        run_handler(photo["upload"]["fields"]["key"])
    pending = start(api, token, item["id"]).json  # its file never came
    assert api.delete(f"/items/{item['id']}", token=token).status == 204
    assert db.get_db().photos.count_documents({}) == 0
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    # Its file arriving late is dropped, not made into images.
    post_form(pending["upload"], jpeg(300, 300))
    run_handler(pending["upload"]["fields"]["key"])
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_a_file_deleted_before_its_images_are_made_leaves_nothing(api, token, s3):
    item = make_item(api, token)
    photo = start(api, token, item["id"]).json
    post_form(photo["upload"], jpeg(300, 300))
    assert api.delete(f"/items/{item['id']}/photos/{photo['photo_id']}", token=token).status == 204
    run_handler(photo["upload"]["fields"]["key"])
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    assert api.get(f"/items/{item['id']}", token=token).json["photos"] == []


def test_no_storage_set_up_is_a_503_that_writes_nothing(api, token, monkeypatch):
    monkeypatch.delenv("PHOTO_BUCKET")
    blobs.reset()
    try:
        item = make_item(api, token)
        r = start(api, token, item["id"])
    finally:
        blobs.reset()
    assert r.status == 503 and r.json["error"]["code"] == "photos_unavailable", r
    assert db.get_db().photos.count_documents({}) == 0


# --- `make run`: the local store and its upload route ------------------------------------


def multipart(fields: dict, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def local_post(api, upload: dict, data: bytes, **change):
    body, content_type = multipart({**upload["fields"], **change}, data)
    assert upload["url"].endswith("/photo-uploads")
    return api.call("POST", "/photo-uploads", raw=body, headers={"Content-Type": content_type})


def test_locally_the_upload_route_checks_the_policy_and_makes_the_images(api, token, local_blobs):
    from PIL import Image

    item = make_item(api, token)
    photo = start(api, token, item["id"]).json
    upload = photo["upload"]
    r = local_post(api, upload, jpeg())
    assert r.status == 204, r
    (shown,) = api.get(f"/items/{item['id']}", token=token).json["photos"]
    assert shown["small_url"].startswith("http://127.0.0.1:8080/media/images/")
    small = local_blobs / shown["small_url"].split("/media/", 1)[1]
    img = Image.open(small)
    assert img.size == (120, 160) and len(img.getexif()) == 0
    assert not (local_blobs / upload["fields"]["key"]).exists()  # the original is not kept
    files = sorted(p.name for p in local_blobs.rglob("*") if p.is_file())
    assert files == ["medium.jpg", "small.jpg"]
    assert not (local_blobs / "uploads").exists()  # no empty folder left of the original
    photo_id = photo["photo_id"]
    assert api.delete(f"/items/{item['id']}/photos/{photo_id}", token=token).status == 204
    assert [p.name for p in local_blobs.rglob("*")] == []


@pytest.mark.parametrize(
    "wrong",
    ["content_type", "too_large", "empty", "signature", "key", "expired", "not_multipart"],
)
def test_locally_a_post_its_policy_does_not_allow_is_refused_and_stores_nothing(
    api, token, local_blobs, monkeypatch, wrong
):
    item = make_item(api, token)
    photo = start(api, token, item["id"]).json
    upload = photo["upload"]
    data, change = jpeg(300, 200), {}
    if wrong == "content_type":
        change = {"Content-Type": "image/png"}
    elif wrong == "too_large":
        data = data + b"\0" * (MB8 + 1 - len(data))
    elif wrong == "empty":
        data = b""
    elif wrong == "signature":
        change = {"x-signature": "0" * 64}
    elif wrong == "key":
        key = upload["fields"]["key"]
        change = {"key": key[:-1] + ("1" if key.endswith("0") else "0")}  # always another key
    elif wrong == "expired":
        later = clock.now() + dt.timedelta(seconds=blobs.UPLOAD_SECONDS + 1)
        monkeypatch.setattr(clock, "now", lambda: later)
    if wrong == "not_multipart":
        r = api.call("POST", "/photo-uploads", raw=data, headers={"Content-Type": "application/octet-stream"})
        assert r.status in (403, 415), r
    else:
        r = local_post(api, upload, data, **change)
        assert r.status == 403 and r.json["error"]["code"] == "forbidden", r
    assert not local_blobs.exists() or not any(p.is_file() for p in local_blobs.rglob("*"))
    assert db.get_db().photos.find_one()["status"] == "pending"


def test_the_local_upload_route_is_a_404_where_photos_go_to_s3(api, token, s3):
    item = make_item(api, token)
    upload = start(api, token, item["id"]).json["upload"]
    body, content_type = multipart(upload["fields"], jpeg(300, 200))
    r = api.call("POST", "/photo-uploads", raw=body, headers={"Content-Type": content_type})
    assert r.status == 404, r


# --- the thumbnail function alone ----------------------------------------------------


def test_make_images_refuses_a_file_of_another_type_than_declared():
    with pytest.raises(photos.BadImage):
        photos.make_images(png_with_alpha(), "image/jpeg")
    with pytest.raises(photos.BadImage):
        photos.make_images(jpeg()[:200], "image/jpeg")  # cut short


def test_the_images_need_none_of_the_pillow_parts_the_package_leaves_out():
    """scripts/chalice_pyc.PIL_LEFT_OUT: with those modules unimportable, JPEG, PNG and WebP
    uploads still make their images (tests/integration/test_package.py checks the zip)."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import io, sys\n"
        "for m in ('_avif', '_imagingft', '_imagingcms', '_imagingtk', '_imagingmath', '_imagingmorph'):\n"
        "    sys.modules['PIL.' + m] = None\n"
        "from PIL import Image\n"
        "from chalicelib.catalog import photos\n"
        "for fmt, kind, mode in (('JPEG', 'image/jpeg', 'RGB'), ('PNG', 'image/png', 'RGBA'), ('WEBP', 'image/webp', 'RGBA')):\n"
        "    out = io.BytesIO()\n"
        "    Image.new(mode, (300, 200)).save(out, fmt)\n"
        "    assert set(photos.make_images(out.getvalue(), kind)) == {'small', 'medium'}, fmt\n"
        "print('made')\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == "made", result.stderr


def test_the_shopping_list_shows_each_lines_item_photo(api, token, s3):
    """Issue 30: the shopping trip's rows carry the item's first small photo (none: null)."""
    from tests.factories import make_order

    scarf = make_item(api, token, item_name="Scarf")
    photo = start(api, token, scarf["id"]).json
    post_form(photo["upload"], jpeg(400, 300))
    run_handler(photo["upload"]["fields"]["key"])
    (shown,) = api.get(f"/items/{scarf['id']}", token=token).json["photos"]
    plain = make_item(api, token, item_name="Kit Kat")
    for item in (scarf, plain):
        make_order(api, token, buyer_email="amy@example.com", item_id=item["id"], batch="2026-12")
    lines = api.get("/batches/2026-12/shopping-list", token=token).json["lines"]
    assert {x["item_name"]: x["photo_url"] for x in lines} == {"Scarf": shown["small_url"], "Kit Kat": None}
    r = api.post("/batches/2026-12/purchases", {"item_id": scarf["id"], "quantity": 1}, token=token)
    assert r.status == 201 and r.json["line"]["photo_url"] == shown["small_url"], r


def test_the_buyers_page_shows_each_orders_item_photo_in_one_read_more(api, token, s3, commands):
    from tests.factories import make_order

    item = make_item(api, token, item_name="Scarf")
    photo = start(api, token, item["id"]).json
    post_form(photo["upload"], jpeg(400, 300))
    run_handler(photo["upload"]["fields"]["key"])
    (shown,) = api.get(f"/items/{item['id']}", token=token).json["photos"]
    with_photo = make_order(api, token, buyer_email="amy@example.com", item_id=item["id"])
    make_order(api, token, buyer_email="amy@example.com", item_name="Typed, no item")
    link = api.post(f"/customers/{with_photo['customer_id']}/tracking-link", token=token).json
    if commands:
        commands.names.clear()
    got = api.get(f"/track/{link['token']}").json
    by_name = {o["item_name"]: o["photo_url"] for o in got["orders"]}
    assert by_name == {"Scarf": shown["small_url"], "Typed, no item": None}
    if commands:  # the link, the orders, the items' photos, the payments, the charges
        assert commands.names == ["find"] * 5, commands.names
