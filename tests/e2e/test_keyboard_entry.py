"""Keyboard entry (issue 27): a seller types a run of orders without the mouse. The buyer and
item pickers take the arrows, Enter and Esc (a combobox with a listbox, the highlighted option
announced through aria-activedescendant), choosing an item fills its price, Create puts the
focus back in the item field with the buyer kept and the rest (the shipping fee too) reset,
Enter in the last field creates the order, and a server error keeps what was typed and
focuses the field it names. Only page.keyboard is used once the page is open; the keys are
counted. English at 1280 px and 繁體中文 at 375 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, api_call, order_row, serious, settled, shot

CASES = [pytest.param("en-US", DESKTOP, id="en-desktop"), pytest.param("zh-TW", PHONE, id="zh-phone")]
BUYERS = [{"name": "Amy Chen", "email": "amy@example.com"}, {"name": "Ben Wu", "email": "ben@example.com"}]
ITEMS = [
    {"item_name": "Pocky 草莓", "price": 120},
    {"item_name": "Pocket tissue", "price": 30},
    {"item_name": "Kit Kat 抹茶", "price": 150},
]


class Keys:
    """page.keyboard, counted: `presses` are keys other than the text typed (Tab, Enter,
    arrows...), `chars` the characters typed."""

    def __init__(self, page):
        self.page = page
        self.presses = 0
        self.chars = 0

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.presses += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.chars += len(text)


def seed(page, stack, items=ITEMS):
    token = page.evaluate("localStorage.getItem('token')")
    buyers = {b["name"]: api_call(stack, "POST", "/customers", token, b)["id"] for b in BUYERS}
    for item in items:
        api_call(stack, "POST", "/items", token, item)
    # The page loaded its pickers before these existed: a reload reads them, as a seller's next visit would.
    page.reload()
    expect(page.locator("#order-buyer-ts-control")).to_be_attached()
    settled(page)
    return token, buyers


def field(page, name):
    return page.locator(f"#order-form [name={name}]")


def item_box(page):
    return field(page, "item_name")


def highlighted(page):
    """The option the item field's aria-activedescendant names (what a screen reader reads)."""
    box = item_box(page)
    expect(box).to_have_attribute("aria-expanded", "true")
    active = box.get_attribute("aria-activedescendant")
    assert active, "no option is announced"
    option = page.locator(f"#order-item-list #{active}")
    expect(option).to_have_attribute("role", "option")
    expect(option).to_have_attribute("aria-selected", "true")
    return option


def created(page, no):
    expect(page.locator("#order-form-msg .alert-success")).to_contain_text(str(no))
    # The message and the item field, where typing goes on, are both on screen (a phone too).
    expect(page.locator("#order-form-msg")).to_be_in_viewport()
    expect(item_box(page)).to_be_in_viewport()
    expect(order_row(page, no)).to_be_attached()


def ready_for_next(page, buyer_id):
    """After Create: the item field has the focus, the buyer stays, the rest starts over."""
    expect(item_box(page)).to_be_focused()
    expect(item_box(page)).to_have_value("")
    expect(page.locator("#order-buyer")).to_have_value(buyer_id)
    expect(field(page, "quantity")).to_have_value("1")
    expect(field(page, "unit_price")).to_have_value("")
    expect(field(page, "shipping_fee")).to_have_value("0")
    expect(field(page, "note")).to_have_value("")


def choose_buyer(page, keys, typed, buyer_id, *, announced=False):
    """Type part of a buyer's name and Enter, as fast as a typist does (no wait between), or
    with `announced` first check that the option Enter takes is the one announced."""
    control = page.locator("#order-buyer-ts-control")
    expect(control).to_be_focused()
    keys.type(typed)
    if announced:
        option = page.locator("#order-buyer-ts-dropdown [role=option]")
        expect(option).to_have_count(1)
        option_id = option.get_attribute("id")
        assert option_id, "the option has no id for aria-activedescendant to name"
        expect(control).to_have_attribute("role", "combobox")
        expect(control).to_have_attribute("aria-activedescendant", option_id)
    keys.press("Enter")
    # Chosen with Enter: the picker closes and the item field is next (not the new-buyer fields).
    expect(page.locator("#order-buyer-ts-dropdown")).to_be_hidden()
    expect(page.locator("#order-buyer")).to_have_value(buyer_id)
    expect(item_box(page)).to_be_focused()


def orders_on_server(stack, token):
    page = api_call(stack, "GET", "/orders?sort=order_no&limit=50", token)
    return [
        (
            o["order_no"],
            o["customer_id"],
            o["item_name"],
            o["quantity"],
            o["unit_price"],
            o["shipping_fee"],
            o.get("note"),
        )
        for o in page["items"]
    ]


def open_form(page, keys):
    summary = page.locator("#new-order-box summary")
    summary.focus()  # where a Tab from the tab bar lands
    keys.press("Enter")
    expect(page.locator("#new-order-box")).to_have_attribute("open", "")
    keys.press("Tab")


@pytest.mark.parametrize(("locale", "viewport"), CASES)
def test_four_orders_typed_with_the_keyboard_only(stack, seller_page, locale, viewport, record_property):
    zh = locale == "zh-TW"
    page = seller_page(locale=locale, viewport=viewport)
    token, buyers = seed(page, stack)
    amy, ben = buyers["Amy Chen"], buyers["Ben Wu"]
    keys = Keys(page)
    per_order = []

    # 1: Amy, the second of two items starting "pock" by the arrows, qty 2, a shipping fee.
    open_form(page, keys)
    choose_buyer(page, keys, "amy", amy)
    keys.type("pock")
    expect(page.locator("#order-item-list [role=option]")).to_have_count(2)
    expect(page.locator("#order-item-list")).to_have_attribute("role", "listbox")
    keys.press("ArrowDown")
    expect(highlighted(page)).to_contain_text("Pocket tissue")
    keys.press("ArrowDown")
    expect(highlighted(page)).to_contain_text("Pocky 草莓")
    assert serious(page, "item list open") == []
    shot(page, f"keyboard-entry-{'zh-phone' if zh else 'en-desktop'}", full_page=False)
    keys.press("ArrowUp")
    keys.press("ArrowUp")  # round to the last
    expect(highlighted(page)).to_contain_text("Pocky 草莓")
    keys.press("Enter")  # chooses; the list was open, so nothing is submitted
    expect(page.locator("#order-item-list")).to_be_hidden()
    expect(item_box(page)).to_have_attribute("aria-expanded", "false")
    expect(item_box(page)).to_have_value("Pocky 草莓")
    expect(field(page, "unit_price")).to_have_value("120")
    expect(page.locator("#order-form-msg .alert-success")).to_have_count(0)
    keys.press("Tab")
    keys.type("2")
    keys.press("Tab", 2)  # the price stays as the item gave it
    keys.type("６０" if zh else "60")
    keys.press("Enter")
    created(page, 1001)
    ready_for_next(page, amy)
    per_order.append(keys.presses)

    # 2: Amy again: Esc closes the list without choosing or submitting; ArrowDown reopens it.
    keys.type("kit")
    expect(page.locator("#order-item-list")).to_be_visible()
    keys.press("Escape")
    expect(page.locator("#order-item-list")).to_be_hidden()
    expect(item_box(page)).to_have_value("kit")
    expect(page.locator("#new-order-box")).to_have_attribute("open", "")
    keys.press("ArrowDown")
    expect(highlighted(page)).to_contain_text("Kit Kat 抹茶")
    keys.press("Enter")
    expect(field(page, "unit_price")).to_have_value("150")
    keys.press("Enter")  # the list is closed: Enter creates
    created(page, 1002)
    ready_for_next(page, amy)
    per_order.append(keys.presses - sum(per_order))

    # 3: a new item (no list), a price typed as people type it, Enter in the last field (note).
    keys.type("Tokyo Banana")
    expect(page.locator("#order-item-list")).to_be_hidden()
    keys.press("Tab")
    keys.type("3")
    keys.press("Tab")
    keys.type("３５０" if zh else "NT$350")
    keys.press("Tab", 5)  # fee, cost, cost currency, batch, note
    expect(field(page, "note")).to_be_focused()
    keys.type("禮物" if zh else "gift")
    keys.press("Enter")
    created(page, 1003)
    ready_for_next(page, amy)
    per_order.append(keys.presses - sum(per_order))

    # 4: another buyer: back to the picker, choose Ben, the item by the arrows.
    keys.press("Shift+Tab", 5)  # the new buyer's email, LINE ID, phone, name, then the picker
    choose_buyer(page, keys, "ben", ben, announced=True)
    keys.type("pocky")
    keys.press("ArrowDown")
    expect(highlighted(page)).to_contain_text("Pocky 草莓")
    keys.press("Enter")
    keys.press("Enter")
    created(page, 1004)
    ready_for_next(page, ben)
    per_order.append(keys.presses - sum(per_order))

    assert orders_on_server(stack, token) == [
        (1001, amy, "Pocky 草莓", 2, 120, 60, None),
        (1002, amy, "Kit Kat 抹茶", 1, 150, 0, None),
        (1003, amy, "Tokyo Banana", 3, 350, 0, "禮物" if zh else "gift"),
        (1004, ben, "Pocky 草莓", 1, 120, 0, None),
    ]
    # Keys other than the text itself, per order (the first opens the form and picks the
    # buyer; the second is Esc, an arrow, Enter to choose, Enter to create), and characters typed.
    record_property("keys_per_order", per_order)
    record_property("chars_typed", keys.chars)
    print(f"keys per order {per_order}, characters typed {keys.chars}")


@pytest.mark.parametrize(("locale", "viewport"), CASES)
def test_a_server_error_keeps_the_order_and_focuses_the_field_it_names(stack, seller_page, locale, viewport):
    zh = locale == "zh-TW"
    page = seller_page(locale=locale, viewport=viewport)
    token, buyers = seed(page, stack, items=[{"item_name": "Last one 限量", "price": 500, "stock": 1}])
    amy = buyers["Amy Chen"]
    keys = Keys(page)

    open_form(page, keys)
    choose_buyer(page, keys, "amy", amy, announced=True)
    keys.type("last")
    keys.press("ArrowDown")
    keys.press("Enter")
    keys.press("Tab")
    keys.type("3")  # only 1 left
    keys.press("Tab")
    keys.type("5OO")  # a typo (letter O): the page cannot read it, says so and goes back to it
    keys.press("Tab")
    keys.type("80")
    keys.press("Tab", 4)
    keys.type("急件" if zh else "rush")
    keys.press("Enter")
    price = field(page, "unit_price")
    expect(page.locator("#order-form-msg .alert-danger")).to_be_visible()
    expect(price).to_be_focused()
    expect(price).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(field(page, "note")).to_have_value("急件" if zh else "rush")
    keys.type("500")  # replaces the selected typo
    keys.press("Enter")
    # 409 insufficient_stock names the quantity: it is marked and has the focus, nothing typed is lost.
    expect(page.locator("#order-form-msg .alert-danger")).to_be_visible()
    quantity = field(page, "quantity")
    expect(quantity).to_be_focused()
    expect(quantity).to_be_in_viewport()
    expect(page.locator("#order-form-msg .alert-danger")).to_be_in_viewport()
    expect(quantity).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(quantity).to_have_value("3")
    expect(item_box(page)).to_have_value("Last one 限量")
    expect(field(page, "unit_price")).to_have_value("500")
    expect(field(page, "shipping_fee")).to_have_value("80")
    expect(field(page, "note")).to_have_value("急件" if zh else "rush")
    expect(page.locator("#order-buyer")).to_have_value(amy)
    assert orders_on_server(stack, token) == []

    keys.type("1")  # the focused quantity's text was selected: this replaces it
    keys.press("Enter")
    created(page, 1001)
    ready_for_next(page, amy)
    assert orders_on_server(stack, token) == [
        (1001, amy, "Last one 限量", 1, 500, 80, "急件" if zh else "rush")
    ]

    # The draft kept across a reload brings the buyer back, not the last order's shipping fee.
    page.reload()
    expect(page.locator("#order-buyer")).to_have_value(amy)
    expect(field(page, "shipping_fee")).to_have_value("0")
