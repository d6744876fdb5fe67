"""The statuses, methods and carriers the seller page offers come from the server
(chalicelib/site_constants.py, written into the built site as js/constants.js by
scripts/build-site.sh): they equal the server's definitions, the built site carries them,
every name a page imports exists, no page keeps a copy of its own, and each value has a
label in both languages."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import get_args

import pytest

from chalicelib import site_constants
from chalicelib.money.schemas import ChargeKind, PaymentMethod
from chalicelib.platform.schemas import FulfillmentStatus, PaymentStatus, PaymentStatusIn
from chalicelib.rules import carriers
from chalicelib.shipping.schemas import ParcelMethod, ParcelStatus
from tests.unit.test_i18n_tables import tables

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "static_site/src/js"
EXPORT = re.compile(r"^export const (\w+) = Object\.freeze\((.*)\);$")


def exported(text: str) -> dict:
    """The generated module's constants, read back from its text."""
    out = {}
    for line in text.splitlines()[1:]:
        m = EXPORT.match(line)
        assert m, line
        out[m.group(1)] = json.loads(m.group(2))
    return out


def test_the_module_says_what_the_server_accepts():
    js = exported(site_constants.module())
    assert js["PAYMENT_STATUSES"] == ["unpaid", "partial", "remitted", "refunded"]
    assert js["PAYMENT_STATUSES"] == list(get_args(PaymentStatus))
    assert js["PAYMENT_STATUSES_SETTABLE"] == list(get_args(PaymentStatusIn))
    assert js["FULFILLMENT_STATUSES"] == list(get_args(FulfillmentStatus))
    assert js["PAYMENT_METHODS"] == list(get_args(PaymentMethod))
    assert (
        js["CHARGE_KINDS"]
        == list(get_args(ChargeKind))
        == ["shipping", "duty", "packaging", "adjustment", "other"]
    )
    assert js["PARCEL_METHODS"] == list(get_args(ParcelMethod)) == list(carriers.METHODS)
    assert js["PARCEL_STATUSES"] == list(get_args(ParcelStatus))
    assert js["CVS_METHODS"] == ["cvs_711", "cvs_family", "cvs_hilife", "cvs_ok"]
    assert js["ADDRESS_FREE_METHODS"] == [*js["CVS_METHODS"], "pickup"]
    assert [(c["en"], c["zh"], c["methods"]) for c in js["CARRIERS"]] == [
        (c.name_en, c.name_zh, list(c.methods)) for c in carriers.CARRIERS
    ]
    # Every name the picker suggests is one the server takes as that carrier.
    for c in js["CARRIERS"]:
        assert carriers.find(c["en"]) is carriers.find(c["zh"]) is not None, c
        for method in c["methods"]:
            assert carriers.find(c["en"]) in carriers.for_method(method)


def test_the_built_site_carries_the_module(tmp_path):
    dist = tmp_path / "dist"
    env = {**os.environ, "API_URL": "http://127.0.0.1:9", "SITE_DIST": str(dist)}
    subprocess.run([str(ROOT / "scripts/build-site.sh")], cwd=ROOT, env=env, check=True, capture_output=True)
    [built] = dist.glob("assets/*/js/constants.js")
    assert built.read_text(encoding="utf-8") == site_constants.module()


def test_every_name_a_page_imports_is_generated():
    imported = set()
    for path in JS.rglob("*.js"):
        for names in re.findall(
            r"import \{([^}]*)\} from \"\.{1,2}/constants\.js\"", path.read_text(encoding="utf-8")
        ):
            imported |= {n.strip().split(" as ")[0] for n in names.split(",") if n.strip()}
    assert imported, "no page reads the constants"
    assert sorted(imported - set(site_constants.constants())) == []


@pytest.mark.parametrize("name", sorted(site_constants.constants()))
def test_no_page_keeps_its_own_copy(name):
    value = site_constants.constants()[name]
    if name == "CARRIERS":
        needles = [c[lang] for c in value for lang in ("en", "zh") if len(c[lang]) > 3]
    else:
        needles = [json.dumps(value, ensure_ascii=False)[1:-1]]  # '"a", "b", ...'
    found = [
        (path.name, needle)
        for path in JS.rglob("*.js")
        if path.parent.name != "i18n"  # the texts may name a carrier
        for needle in needles
        if needle in path.read_text(encoding="utf-8")
    ]
    assert found == []


LABELS = {
    "PAYMENT_STATUSES": "pay.{}",
    "FULFILLMENT_STATUSES": "ful.{}",
    "PAYMENT_METHODS": "pm.{}",
    "CHARGE_KINDS": "charge.kind.{}",
    "PARCEL_METHODS": "ship.m.{}",
    "PARCEL_STATUSES": "ship.status.{}",
}


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_value_has_a_label_in_both_languages(name):
    t = tables()
    keys = [LABELS[name].format(v) for v in site_constants.constants()[name]]
    assert {lang: [k for k in keys if k not in t[lang]] for lang in t} == {"en": [], "zh-Hant": []}
