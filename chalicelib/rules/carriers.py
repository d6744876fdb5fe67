"""The carriers a Taiwan-based personal shopper (代購) ships with, and their public tracking pages.

One table, `CARRIERS`. Each carrier has a stable `code` (what a parcel stores), display names
in English and 繁體中文, the aliases sellers type ("黑貓", "宅急便", "t-cat", "統一速達" are all
T-Cat), the parcel methods it serves, a format check for its tracking numbers where the format
is known, and the address of its public tracking page.

`url_template` holds `{number}` when the carrier's page takes the number in its address, and is
the bare lookup page otherwise (the page needs a captcha or a form POST, or the number travels
in browser storage): the buyer then types the number there. Each entry names, in a comment, the
source of its address. The sources are public code that links to or scrapes these pages; none
was re-checked against the live site from here (no network), so a carrier can move a page.

Tracking numbers are normalised before they are checked or put in a URL: NFKC (full-width
digits and letters become ASCII), spaces and dashes removed, letters upper-cased. Every carrier
here prints a number as one run of letters and digits: the dashes and spaces on a label or in a
message ("9032-2148-8720", "1Z 999 AA1 01 2345 6784") are only for reading, and T-Cat's own
form asks for the number without "-". A number that is not letters and digits after that, or
that fails its carrier's format check, gets no URL at all (not even the bare lookup page), so
nothing a seller typed reaches a link unchecked; what does reach it is percent-encoded anyway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

# The parcel methods of the API contract (## Parcels).
METHODS = ("home", "cvs_711", "cvs_family", "cvs_hilife", "cvs_ok", "post", "pickup", "overseas")
# Collected at a convenience store: the buyer names a store, not an address.
CVS_METHODS = tuple(m for m in METHODS if m.startswith("cvs_"))
# Sent to no address: collected at a store or in person.
ADDRESS_FREE_METHODS = (*CVS_METHODS, "pickup")

# Any tracking number, after normalisation: letters and digits only, of a sane length. A carrier
# whose format is unknown is held to this much.
_ANY_NUMBER = re.compile(r"[A-Z0-9]{4,40}")
# Dashes a seller may type between groups of digits (NFKC already maps the full-width "－").
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70"
# Spaces and tabs between groups go; a line break inside a number stays (and fails the check):
# that is two numbers pasted together, not one.
_NUMBER_DROP = re.compile(rf"[ \t{_DASHES}]+")
# Dropped from names before aliases are compared: "T-Cat", "t cat", "TCAT", "ｔ－ｃａｔ" match.
_NAME_DROP = re.compile(rf"[\s{_DASHES}_.·・]+")


@dataclass(frozen=True)
class Carrier:
    code: str
    name_en: str
    name_zh: str
    aliases: tuple[str, ...]
    methods: tuple[str, ...]
    url_template: str
    # Full-match on the normalised number; None when the format is not known.
    number_format: re.Pattern[str] | None = None

    @property
    def deep_links(self) -> bool:
        """True when the tracking URL opens this number's page, not a lookup form."""
        return "{number}" in self.url_template

    @property
    def tracking_page(self) -> str:
        """The carrier's tracking page, without a number."""
        return self.url_template.split("?")[0].split("#")[0] if self.deep_links else self.url_template

    def accepts(self, number: str | None) -> bool:
        """Whether `number` (as typed) is a plausible tracking number of this carrier."""
        n = normalise_number(number)
        if n is None or not _ANY_NUMBER.fullmatch(n):
            return False
        return self.number_format is None or self.number_format.fullmatch(n) is not None

    def url(self, number: str | None) -> str | None:
        if not self.accepts(number):
            return None
        n = normalise_number(number)
        assert n is not None
        if not self.deep_links:
            return self.url_template
        return self.url_template.replace("{number}", quote(n, safe=""))


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)  # \d is 0-9 only


CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        code="tcat",
        name_en="T-Cat",
        name_zh="黑貓宅急便",
        aliases=(
            "黑貓",
            "黑猫",
            "宅急便",
            "黑貓宅急便",
            "黑猫宅急便",
            "統一速達",
            "统一速达",
            "t-cat",
            "black cat",
        ),
        methods=("home",),
        # Source: GET links in several public codebases, e.g. github.com/koopa0/goen
        # internal/carrier ("the one public GET link that carries a tracking number",
        # checked against the live site), parcel-kau-a endpoints.py, a Chrome extension that
        # reads the page ("宅急便託運單號碼為10或12碼", also the number format).
        url_template="https://www.t-cat.com.tw/Inquire/TraceDetail.aspx?BillID={number}",
        number_format=_re(r"\d{10}|\d{12}"),
    ),
    Carrier(
        code="hct",
        name_en="HCT Logistics",
        name_zh="新竹物流",
        aliases=("新竹", "新竹物流", "新竹貨運", "hct", "hct logistics", "hct express"),
        methods=("home",),
        # Lookup form only: github.com/koopa0/goen internal/carrier and many shop pages link
        # SearchGoods_n.aspx with the number typed on the page. (One scraper, ishchiu/hct-tracker,
        # GETs cagweb/C_PIKAM020AS_NEW.aspx?pACT=C_POKAM31&pINVOICE_NO=; an internal page behind
        # a redirect, not relied on here.) 10-digit 貨號: ishchiu/hct-tracker.
        url_template="https://www.hct.com.tw/Search/SearchGoods_n.aspx",
        number_format=_re(r"\d{10}"),
    ),
    Carrier(
        code="pelican",
        name_en="Pelican Express",
        name_zh="宅配通",
        aliases=("宅配通", "台灣宅配通", "臺灣宅配通", "pelican", "pelican express", "e-can"),
        methods=("home",),
        # Source: query2.e-can.com.tw/self_link/id_link_c.asp?txtMainid= in several scrapers
        # (e.g. a PHP shop backend and a Python batch checker); they use http://, the host
        # serves https (pickupp-dev/gitbook links https://query2.e-can.com.tw/ECAN_APP/...).
        # 12-digit number: the Chrome extension above ("宅配通為12碼").
        url_template="https://query2.e-can.com.tw/self_link/id_link_c.asp?txtMainid={number}",
        number_format=_re(r"\d{12}"),
    ),
    Carrier(
        code="chunghwa_post",
        name_en="Chunghwa Post",
        name_zh="中華郵政",
        aliases=(
            "中華郵政",
            "郵局",
            "郵政",
            "郵局掛號",
            "掛號",
            "國際快捷",
            "ems",
            "e小包",
            "chunghwa post",
            "taiwan post",
        ),
        methods=("post", "overseas"),
        # Lookup form only: postserv's 郵件查詢 is a script page that posts the number (the
        # international/EMS query also needs a captcha: parcel scrapers with ddddocr; goen links
        # main_mail.html bare). Public code passes the number in half a dozen different
        # parameters (MAILNO, searchItem, Num, q_mail_no…), none confirmed, so none is used.
        # Formats: domestic 14 or 20 digits (Chrome extension above), international UPU S10
        # "EE123456789TW" (jkeen/tracking_number_data s10.json).
        url_template="https://postserv.post.gov.tw/pstmail/main_mail.html",
        number_format=_re(r"\d{14}|\d{20}|[A-Z]{2}\d{9}[A-Z]{2}"),
    ),
    Carrier(
        code="seven_eleven",
        name_en="7-ELEVEN",
        name_zh="7-ELEVEN 交貨便",
        aliases=(
            "7-11",
            "711",
            "7-eleven",
            "seven eleven",
            "統一超商",
            "小七",
            "交貨便",
            "7-11交貨便",
            "賣貨便",
        ),
        methods=("cvs_711",),
        # Lookup form only, with a captcha (ImgVCode): paul159321/parcel-tw ("無法繞過
        # Captcha"), hippogod1983/package-tracker, goen. The number parameters seen in public
        # code (TBSTKECNO, shipNum, sn…) disagree and are unconfirmed.
        url_template="https://eservice.7-11.com.tw/e-tracking/search.aspx",
    ),
    Carrier(
        code="family_mart",
        name_en="FamilyMart",
        name_zh="全家店到店",
        aliases=("全家", "全家便利商店", "全家超商", "全家店到店", "familymart", "family mart", "famiport"),
        methods=("cvs_family",),
        # Lookup form only, with a captcha: hippogod1983/package-tracker (ddddocr), goen.
        url_template="https://fmec.famiport.com.tw/FP_Entrance/QueryBox",
    ),
    Carrier(
        code="hilife",
        name_en="Hi-Life",
        name_zh="萊爾富",
        aliases=("萊爾富", "萊爾富超商", "hi-life", "hilife"),
        methods=("cvs_hilife",),
        # Lookup page only: serviceInfo_search.aspx, linked by a shop's tracking menu and a
        # carrier table (no number parameter found; the site answers 403 to scripts, per goen).
        url_template="https://www.hilife.com.tw/serviceInfo_search.aspx",
    ),
    Carrier(
        code="okmart",
        name_en="OK mart",
        name_zh="OK超商",
        aliases=("ok", "ok mart", "okmart", "ok超商", "ok便利商店"),
        methods=("cvs_ok",),
        # Lookup form only, with a captcha: a Swift tracker validates the code at
        # ecservice.okmart.com.tw/Tracking/ValidateNumber.ashx before Tracking/Result; shops link
        # Tracking/Search.
        url_template="https://ecservice.okmart.com.tw/Tracking/Search",
    ),
    Carrier(
        code="sf_express",
        name_en="SF Express",
        name_zh="順豐速運",
        aliases=("順豐", "順豐速運", "順豐快遞", "顺丰", "顺丰速运", "sf", "sf express"),
        methods=("home", "overseas"),
        # The number goes in the URL fragment (the page is a script app that reads it):
        # .../waybill/#search/bill-number/<number>, used by many public codebases (order pages
        # in Taiwan shops, an Apple-order tracker). No reliable number format found.
        url_template="https://www.sf-express.com/tw/tc/dynamic_function/waybill/#search/bill-number/{number}",
    ),
    Carrier(
        code="dhl",
        name_en="DHL Express",
        name_zh="DHL",
        aliases=("dhl", "dhl express", "敦豪"),
        methods=("overseas",),
        # Source: tracking-express.html?submit=1&tracking-id= on dhl.com (global-en, us-en,
        # fr-fr… locales) in many codebases; tw-zh is DHL's Taiwan locale (dhl.com/tw-zh/home/
        # tracking.html in a carrier table). Formats: jkeen/tracking_number_data dhl.json
        # (Express waybill 10-11 digits, piece id J + 2-3 letters + 9-10 digits).
        url_template="https://www.dhl.com/tw-zh/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
        number_format=_re(r"\d{10,11}|J[A-Z]{2,3}\d{9,10}"),
    ),
    Carrier(
        code="fedex",
        name_en="FedEx",
        name_zh="聯邦快遞",
        aliases=("fedex", "federal express", "聯邦快遞", "联邦快递"),
        methods=("overseas",),
        # Source: fedex.com/fedextrack/?trknbr= (gist perryraskin "generateTrackingUrl", and
        # many codebases). Formats: jkeen/tracking_number_data fedex.json (12, 15, 18, 22, 32
        # and 34 digits).
        url_template="https://www.fedex.com/fedextrack/?trknbr={number}",
        number_format=_re(r"\d{12}|\d{15}|\d{18}|\d{22}|\d{32}|\d{34}"),
    ),
    Carrier(
        code="ups",
        name_en="UPS",
        name_zh="優比速",
        aliases=("ups", "united parcel service", "優比速"),
        methods=("overseas",),
        # Source: ups.com/track?loc=…&tracknum= (gist perryraskin, Tryton's UPS module uses
        # https://www.ups.com/track); loc=zh_TW from a Taiwan carrier table. Format:
        # jkeen/tracking_number_data ups.json (1Z + 16 letters/digits).
        url_template="https://www.ups.com/track?loc=zh_TW&tracknum={number}",
        number_format=_re(r"1Z[A-Z0-9]{16}"),
    ),
    Carrier(
        code="kerry_tj",
        name_en="Kerry TJ Logistics",
        name_zh="嘉里大榮",
        aliases=("嘉里大榮", "大榮", "大榮貨運", "大榮物流", "kerry tj", "kerrytj", "ktj"),
        methods=("home",),
        # Lookup form only: kerrytj.com/zh/checking is a script page that keeps the number in
        # sessionStorage and POSTs api/Tracking/GetTracking (parcel-kau-a notes, 2026-08); goen
        # links it bare. Number format not confirmed (10 vs 12 digits), so none is enforced.
        url_template="https://www.kerrytj.com/zh/checking",
    ),
)

BY_CODE: dict[str, Carrier] = {c.code: c for c in CARRIERS}


def _name_key(name: str) -> str:
    return _NAME_DROP.sub("", unicodedata.normalize("NFKC", name)).casefold()


def _build_alias_index() -> dict[str, Carrier]:
    index: dict[str, Carrier] = {}
    for carrier in CARRIERS:
        for name in (carrier.code, carrier.name_en, carrier.name_zh, *carrier.aliases):
            key = _name_key(name)
            other = index.setdefault(key, carrier)
            if other is not carrier:
                raise ValueError(f"alias {name!r} names both {other.code} and {carrier.code}")
    return index


_BY_ALIAS = _build_alias_index()


def find(name: str | None) -> Carrier | None:
    """The carrier a seller means by `name` (a code, a display name or an alias), ignoring
    case, full/half width, spaces and dashes; None when it is not one we know."""
    if not name:
        return None
    return _BY_ALIAS.get(_name_key(name))


def normalise_number(number: str | None) -> str | None:
    """The tracking number as carriers take it: NFKC, trimmed, no spaces or dashes, upper case."""
    if number is None:
        return None
    n = _NUMBER_DROP.sub("", unicodedata.normalize("NFKC", number).strip()).upper()
    return n or None


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The buyer's link for a parcel: the carrier's page for this number, or its lookup page
    when that page cannot take the number. None for an unknown carrier, a missing number, or a
    number that fails the carrier's format check."""
    found = find(carrier)
    if found is None:
        return None
    return found.url(number)


def for_method(method: str) -> list[Carrier]:
    """The carriers that serve a parcel method, in table order (for a carrier picker)."""
    if method not in METHODS:
        raise ValueError(f"unknown parcel method {method!r}")
    return [c for c in CARRIERS if method in c.methods]
