"""Issue 30, item photos on a phone (375 px), in English and in 繁體中文: the seller adds a
photo to an item on the Items tab (a file input that offers the camera), sees the upload
finish and the thumbnail, is told in the page's language when a file is not an image we
take; the buyer sees the small image on the public order form; the seller removes it.
`make run`'s storage: files uploaded to the API, images served by the page server."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, api_request, ok, serious, settled, shot

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": {
        "locale": "en-US",
        "tab": "Items",
        "photos": "Photos",
        "photos_1": "Photos (1)",
        "done": "Photo added.",
        "not_image": "is not a JPEG, PNG or WebP image",
        "remove": "Remove",
        "none": "No photos yet.",
        "alt": "Photo of 草莓 Pocky",
        "orders": "Orders",
        "reports": "Reports",
    },
    "zh-Hant": {
        "locale": "zh-TW",
        "tab": "商品",
        "photos": "照片",
        "photos_1": "照片（1）",
        "done": "已新增照片。",
        "not_image": "不是 JPEG、PNG 或 WebP 圖片",
        "remove": "刪除",
        "none": "還沒有照片。",
        "alt": "草莓 Pocky 的照片",
        "orders": "訂單",
        "reports": "報表",
    },
}
ITEM = "草莓 Pocky"


def phone_photo() -> bytes:
    """A photo as a phone saves it: sideways with EXIF orientation, and where it was taken."""
    from PIL import Image

    img = Image.new("RGB", (1600, 1200), (220, 60, 90))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (25.0, 2.0, 3.0), 3: "E", 4: (121.0, 30.0, 0.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


@pytest.mark.parametrize("language", ["en", "zh-Hant"])
def test_the_seller_adds_a_photo_and_the_buyer_sees_it_on_the_form_on_a_phone(
    stack, open_page, seller_page, language
):
    texts = TEXTS[language]
    seller = seller_page(locale=texts["locale"], viewport=PHONE)
    token = seller.evaluate("localStorage.getItem('token')")
    ok(api_request(stack, "PATCH", "/auth/me", token, {"language": language}))
    item = ok(api_request(stack, "POST", "/items", token, {"item_name": ITEM, "price": 120}), 201)

    seller.reload()
    seller.get_by_role("tab", name=texts["tab"]).click()
    row = seller.locator(f"#items-body tr[data-id='{item['id']}']")
    row.get_by_role("button", name=texts["photos"], exact=True).click()
    panel = seller.locator(".item-photo-row")
    expect(panel).to_contain_text(texts["none"])
    picker = panel.locator("input[type=file]")
    assert picker.get_attribute("accept") == "image/jpeg,image/png,image/webp"
    # A file that is no photo: said in the page's language, nothing uploaded.
    picker.set_input_files(files=[{"name": "anim.gif", "mimeType": "image/gif", "buffer": b"GIF89a"}])
    expect(panel.locator(".item-photo-msg")).to_contain_text(texts["not_image"])
    assert ok(api_request(stack, "GET", f"/items/{item['id']}", token))["photos"] == []
    # The phone's photo.
    picker.set_input_files(
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}]
    )
    panel = seller.locator(".item-photo-row")
    expect(panel.locator(".item-photo-msg")).to_have_text(texts["done"])
    tile = panel.locator(".item-photo img")
    expect(tile).to_have_count(1)
    expect(tile).to_have_attribute("alt", texts["alt"])
    row = seller.locator(f"#items-body tr[data-id='{item['id']}']")
    expect(row.get_by_role("button", name=texts["photos_1"])).to_be_visible()
    thumb = row.locator("img.item-thumb")
    expect(thumb).to_have_attribute("loading", "lazy")
    assert thumb.evaluate("(img) => img.complete && img.naturalWidth") == 120  # upright: 120 x 160
    settled(seller, 375)
    assert seller.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems = serious(seller, f"items photos {language} 375")
    shot(seller, f"item-photos-{language}")

    body = {"batch": "2026-12", "title": "相片表單", "items": [{"item_id": item["id"]}], "contact": "any"}
    url = ok(api_request(stack, "POST", "/forms", token, body), 201)["url"]
    buyer = open_page(viewport=PHONE, locale=texts["locale"])
    buyer.goto(url)
    photo = buyer.locator("#of-items .of-item img.of-photo")
    expect(photo).to_have_attribute("alt", ITEM)
    expect(photo).to_have_attribute("width", "64")
    expect(photo).to_have_attribute("height", "64")
    expect(photo).to_have_attribute("loading", "lazy")
    buyer.wait_for_function("() => document.querySelector('img.of-photo').naturalWidth > 0")
    src = photo.get_attribute("src")
    assert src.startswith(f"{stack.site_url}/media/images/") and src.endswith("/small.jpg"), src
    settled(buyer, 375)
    assert buyer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems += serious(buyer, f"form with a photo {language} 375")
    shot(buyer, f"form-photo-{language}")

    # The order panel and the purchase list show it too (from the items the page loaded).
    order = ok(
        api_request(
            stack,
            "POST",
            "/orders",
            token,
            {"buyer_email": "amy@example.com", "item_id": item["id"], "quantity": 2},
        ),
        201,
    )
    # The buyer's tracking page (the link the seller sends in LINE), on a phone.
    link = ok(api_request(stack, "POST", f"/customers/{order['customer_id']}/tracking-link", token), 201)
    tracking = open_page(viewport=PHONE, locale=texts["locale"])
    tracking.goto(link["url"])
    on_track = tracking.locator(f'.order-card[data-order-no="{order["order_no"]}"] img.track-photo')
    expect(on_track).to_have_attribute("src", src)
    expect(on_track).to_have_attribute("alt", ITEM)
    expect(on_track).to_have_attribute("loading", "lazy")
    settled(tracking, 375)
    assert tracking.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    problems += serious(tracking, f"tracking page with a photo {language} 375")
    seller.get_by_role("tab", name=texts["orders"]).click()
    seller.locator(f'#orders-body tr[data-order-no="{order["order_no"]}"] .order-open').click()
    expect(seller.locator("#detail-item img.item-thumb")).to_have_attribute("src", src)
    seller.locator("#detail-close").click()
    seller.get_by_role("tab", name=texts["reports"]).click()
    expect(seller.locator("#rep-items tbody tr", has_text=ITEM).locator("img.item-thumb")).to_have_attribute(
        "src", src
    )
    seller.get_by_role("tab", name=texts["tab"]).click()
    seller.locator(f"#items-body tr[data-id='{item['id']}']").get_by_role(
        "button", name=texts["photos_1"]
    ).click()

    # The seller removes it: gone from the item, the form and the storage.
    seller.locator(".item-photo-row").get_by_role("button", name=texts["remove"]).click()
    expect(seller.locator(".item-photo-row")).to_contain_text(texts["none"])
    assert ok(api_request(stack, "GET", f"/items/{item['id']}", token))["photos"] == []
    assert not any(stack.blobs.rglob(f"*{src.rsplit('/', 2)[-2]}*"))
    assert not problems, "\n".join(problems)
