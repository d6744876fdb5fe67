"""The carrier table: alias matching, tracking URLs, method pickers. Pure, no database."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from chalicelib.rules import carriers

# One sample per carrier and the exact URL it builds. Carriers whose page cannot take the
# number link their lookup page.
URLS = [
    ("tcat", "903221488720", "https://www.t-cat.com.tw/Inquire/TraceDetail.aspx?BillID=903221488720"),
    ("hct", "6717596830", "https://www.hct.com.tw/Search/SearchGoods_n.aspx"),
    ("pelican", "123456789012", "https://query2.e-can.com.tw/self_link/id_link_c.asp?txtMainid=123456789012"),
    ("chunghwa_post", "12345678901234", "https://postserv.post.gov.tw/pstmail/main_mail.html"),
    ("seven_eleven", "F1234567", "https://eservice.7-11.com.tw/e-tracking/search.aspx"),
    ("family_mart", "12345678901", "https://fmec.famiport.com.tw/FP_Entrance/QueryBox"),
    ("hilife", "1234567890", "https://www.hilife.com.tw/serviceInfo_search.aspx"),
    ("okmart", "1234567890", "https://ecservice.okmart.com.tw/Tracking/Search"),
    (
        "sf_express",
        "SF1234567890123",
        "https://www.sf-express.com/tw/tc/dynamic_function/waybill/#search/bill-number/SF1234567890123",
    ),
    (
        "dhl",
        "3318810025",
        "https://www.dhl.com/tw-zh/home/tracking/tracking-express.html?submit=1&tracking-id=3318810025",
    ),
    ("fedex", "986578788855", "https://www.fedex.com/fedextrack/?trknbr=986578788855"),
    ("ups", "1Z5R89390357567127", "https://www.ups.com/track?loc=zh_TW&tracknum=1Z5R89390357567127"),
    ("kerry_tj", "123456789012", "https://www.kerrytj.com/zh/checking"),
]


@pytest.mark.parametrize(("code", "number", "url"), URLS, ids=[u[0] for u in URLS])
def test_each_carrier_builds_its_url(code, number, url):
    assert carriers.tracking_url(code, number) == url


def test_every_carrier_has_a_url_sample():
    assert {u[0] for u in URLS} == set(carriers.BY_CODE)


def test_the_brief_carriers_are_all_there():
    for name in [
        "黑貓宅急便",
        "新竹物流",
        "宅配通",
        "中華郵政",
        "EMS",
        "7-ELEVEN 交貨便",
        "全家",
        "萊爾富",
        "OK mart",
        "順豐",
        "DHL",
        "FedEx",
        "UPS",
        "嘉里大榮",
    ]:
        assert carriers.find(name) is not None, name


@pytest.mark.parametrize("template", [c.url_template for c in carriers.CARRIERS])
def test_every_template_is_https(template):
    assert urlsplit(template).scheme == "https"
    assert template.startswith("https://")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        # 繁中 and the names sellers type
        ("黑貓", "tcat"),
        ("宅急便", "tcat"),
        ("黑貓宅急便", "tcat"),
        ("統一速達", "tcat"),
        ("新竹貨運", "hct"),
        ("郵局", "chunghwa_post"),
        ("賣貨便", "seven_eleven"),
        ("全家店到店", "family_mart"),
        ("大榮", "kerry_tj"),
        ("順豐速運", "sf_express"),
        # English, any case
        ("t-cat", "tcat"),
        ("T-CAT", "tcat"),
        ("TCat", "tcat"),
        ("Pelican", "pelican"),
        ("FamilyMart", "family_mart"),
        ("fedex", "fedex"),
        ("Hi-Life", "hilife"),
        ("7-11", "seven_eleven"),
        ("7-Eleven", "seven_eleven"),
        # full width
        ("ＴＣＡＴ", "tcat"),
        ("ｔ－ｃａｔ", "tcat"),
        ("７－１１", "seven_eleven"),
        ("ＵＰＳ", "ups"),
        ("ＤＨＬ", "dhl"),
        # spacing
        ("  黑貓 宅急便 ", "tcat"),
        ("黑貓\u3000宅急便", "tcat"),
        ("t cat", "tcat"),
        ("SF  Express", "sf_express"),
        ("ok mart", "okmart"),
        ("OKmart", "okmart"),
        # the code itself
        ("chunghwa_post", "chunghwa_post"),
        ("kerry_tj", "kerry_tj"),
    ],
)
def test_find_matches_aliases(name, code):
    found = carriers.find(name)
    assert found is not None, name
    assert found.code == code


@pytest.mark.parametrize(
    "name", ["", None, "   ", "黑貓快遞公司", "Yamato", "嘉里快遞", "蝦皮店到店", "unknown"]
)
def test_find_unknown_is_none(name):
    assert carriers.find(name) is None


@pytest.mark.parametrize("carrier", [None, "", "蝦皮店到店", "some courier"])
def test_unknown_carrier_has_no_url(carrier):
    assert carriers.tracking_url(carrier, "903221488720") is None


@pytest.mark.parametrize("number", [None, "", "   ", "-- -"])
def test_no_number_no_url(number):
    assert carriers.tracking_url("tcat", number) is None
    assert carriers.tracking_url("hct", number) is None


def test_a_number_that_fails_the_format_check_gets_no_url():
    assert carriers.tracking_url("tcat", "12345") is None  # T-Cat is 10 or 12 digits
    assert carriers.tracking_url("ups", "903221488720") is None  # UPS is 1Z…
    assert carriers.tracking_url("hct", "12345") is None  # even the bare lookup page


@pytest.mark.parametrize(
    ("code", "typed", "url"),
    [
        # Labels and messages group digits with dashes or spaces; the carriers take the run.
        ("黑貓", "9032-2148-8720", "https://www.t-cat.com.tw/Inquire/TraceDetail.aspx?BillID=903221488720"),
        ("黑貓", " 9032 2148 8720 ", "https://www.t-cat.com.tw/Inquire/TraceDetail.aspx?BillID=903221488720"),
        # full-width digits and dash, an ideographic space
        (
            "黑貓",
            "９０３２－２１４８\u3000８７２０",
            "https://www.t-cat.com.tw/Inquire/TraceDetail.aspx?BillID=903221488720",
        ),
        ("ups", "1z 5r8 939 03 5756 7127", "https://www.ups.com/track?loc=zh_TW&tracknum=1Z5R89390357567127"),
        (
            "dhl",
            "33 1881 0025",
            "https://www.dhl.com/tw-zh/home/tracking/tracking-express.html?submit=1&tracking-id=3318810025",
        ),
        ("郵局", "ee123456789tw", "https://postserv.post.gov.tw/pstmail/main_mail.html"),
    ],
)
def test_spaces_and_dashes_are_dropped_and_letters_upper_cased(code, typed, url):
    assert carriers.tracking_url(code, typed) == url


def test_normalise_number():
    assert carriers.normalise_number("9032-2148-8720") == "903221488720"
    assert carriers.normalise_number("ｓｆ１２３\u2013４５") == "SF12345"
    assert carriers.normalise_number("  ") is None
    assert carriers.normalise_number(None) is None


HOSTILE = [
    "1 OR 1=1",
    "<script>",
    "<script>alert(1)</script>",
    "../../x",
    "123456789012/../../x",
    "903221488720&BillID=1",
    "903221488720#x",
    "javascript:alert(1)",
    "%2e%2e%2f",
    "1234567890\n1234567890",
    "\"'><img src=x>",
]


@pytest.mark.parametrize("number", HOSTILE)
@pytest.mark.parametrize("code", sorted(carriers.BY_CODE))
def test_a_hostile_number_never_reaches_a_url(code, number):
    # Not letters and digits once spaces and dashes are gone: no URL at all, so nothing of it
    # can reach a link raw (not even the bare lookup page is given for it).
    assert carriers.tracking_url(code, number) is None


def test_the_number_is_percent_encoded():
    # Only letters and digits pass the checks; should a carrier ever allow more, the number
    # still goes in encoded, never raw.
    loose = carriers.Carrier(
        code="x",
        name_en="X",
        name_zh="X",
        aliases=(),
        methods=("home",),
        url_template="https://example.test/t?n={number}",
    )
    assert loose.url("AB12CD") == "https://example.test/t?n=AB12CD"
    assert loose.url("AB/12") is None


def test_deep_links_and_tracking_page():
    tcat = carriers.BY_CODE["tcat"]
    assert tcat.deep_links
    assert tcat.tracking_page == "https://www.t-cat.com.tw/Inquire/TraceDetail.aspx"
    sf = carriers.BY_CODE["sf_express"]
    assert sf.tracking_page == "https://www.sf-express.com/tw/tc/dynamic_function/waybill/"
    hct = carriers.BY_CODE["hct"]
    assert not hct.deep_links
    assert hct.tracking_page == "https://www.hct.com.tw/Search/SearchGoods_n.aspx"


def test_codes_are_stable_identifiers_and_aliases_unique():
    codes = [c.code for c in carriers.CARRIERS]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert code.isascii() and code == code.lower() and " " not in code


def test_an_alias_naming_two_carriers_is_refused(monkeypatch):
    twin = carriers.Carrier(
        code="twin",
        name_en="Twin",
        name_zh="雙胞胎",
        aliases=("黑 貓",),  # the same key as T-Cat's "黑貓"
        methods=("home",),
        url_template="https://example.test/",
    )
    monkeypatch.setattr(carriers, "CARRIERS", (*carriers.CARRIERS, twin))
    with pytest.raises(ValueError, match="tcat and twin"):
        carriers._build_alias_index()


def test_every_carrier_serves_known_methods():
    for c in carriers.CARRIERS:
        assert c.methods
        assert set(c.methods) <= set(carriers.METHODS)


@pytest.mark.parametrize(
    ("method", "codes"),
    [
        ("home", ["tcat", "hct", "pelican", "sf_express", "kerry_tj"]),
        ("cvs_711", ["seven_eleven"]),
        ("cvs_family", ["family_mart"]),
        ("cvs_hilife", ["hilife"]),
        ("cvs_ok", ["okmart"]),
        ("post", ["chunghwa_post"]),
        ("overseas", ["chunghwa_post", "sf_express", "dhl", "fedex", "ups"]),
        ("pickup", []),
    ],
)
def test_for_method(method, codes):
    assert [c.code for c in carriers.for_method(method)] == codes


def test_for_method_refuses_an_unknown_method():
    with pytest.raises(ValueError):
        carriers.for_method("drone")


def test_every_carrier_has_a_sample_that_passes_its_own_format():
    for code, number, _url in URLS:
        assert carriers.BY_CODE[code].accepts(number), code


def test_a_pasted_number_is_trimmed_but_two_lines_are_not_one_number():
    assert carriers.normalise_number("\t903221488720\r\n") == "903221488720"
    assert carriers.tracking_url("tcat", "903221488720\n") is not None
    assert carriers.tracking_url("sf_express", "SF123456\nSF654321") is None
