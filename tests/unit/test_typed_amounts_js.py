"""The pages read typed amounts as the server does (issue 27): format.js `typedAmount` and
`currencySigns` against money.to_cents and money.signs, on the same texts and currencies,
so the page never sends what the server refuses nor refuses what it reads."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from chalicelib.platform.errors import Invalid
from chalicelib.platform.money import signs, to_cents

ROOT = Path(__file__).resolve().parents[2]
CURRENCIES = ["TWD", "JPY", "USD", "CNY", "HKD", "EUR", "KRW", "GBP", "SGD", "MYR", "THB", "MOP", "VND"]
TEXTS = [
    "1200", "19.99", "１２００", "１２０．５", "1,200", "１，２００", "1,234,567.89", "NT$1200", "NT$ 1,200",
    "nt$1200", "$1200", "＄１２００", "ＮＴ＄６０", "1200元", "1200 TWD", "¥1200", "￥１２００", "1200円",
    "JP¥1,200", "US$12.50", "HK$88", "€12", "£5", "₩1000", "0", "-0", "00012", "1.200,50", "12,00",
    "1,2000", "NT$1200元", "$$1200", "abc", "12a0", "1e3", "", " ", "NT$", "1 200", "1200.", ".5",
    "--1200", "٣٠٠", "1" * 41, "-1200", "－１２００", "NT$-1200", "-NT$1,200", "1200.555", "1200.500",
    "100000000", "100000000.01", "NT$100,000,001", "999999999999",
]  # fmt: skip


def _server(text: str, currency: str) -> dict:
    if not text.strip():
        return {"empty": True}  # the page's "nothing typed"; the server never sees it
    try:
        return {"cents": to_cents(text, currency=currency)}
    except Invalid as exc:
        return {"error": exc.code}


@pytest.fixture(scope="module")
def page_reads() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = f"""
        await import({json.dumps(str(ROOT / "static_site/test/browser.js"))});
        const f = await import({json.dumps(str(ROOT / "static_site/src/js/format.js"))});
        const [texts, currencies] = JSON.parse(process.argv[1]);
        const out = {{ signs: {{}}, reads: {{}} }};
        for (const c of currencies) {{
          out.signs[c] = [...f.currencySigns(c)].sort();
          out.reads[c] = texts.map((t) => f.typedAmount(t, c));
        }}
        console.log(JSON.stringify(out));
    """
    done = subprocess.run(
        [node, "--input-type=module", "-e", script, json.dumps([TEXTS, CURRENCIES])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("currency", CURRENCIES)
def test_the_page_knows_the_same_currency_signs(page_reads, currency):
    assert page_reads["signs"][currency] == sorted(signs(currency))


@pytest.mark.parametrize("currency", CURRENCIES)
def test_the_page_reads_every_text_as_the_server_does(page_reads, currency):
    for text, page in zip(TEXTS, page_reads["reads"][currency], strict=True):
        server = _server(text, currency)
        assert page == ({"cents": 0, "empty": True} if "empty" in server else server), text
