"""HTTP routes of `chalicelib/reporting/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.platform.web import api, query
from chalicelib.reporting import reports
from chalicelib.reporting.schemas import (
    BuyersReportOut,
    ItemsReportOut,
    MonthlyQuery,
    MonthlyReportOut,
    ReportQuery,
)

# --- reports --------------------------------------------------------------------------


@api(
    "/reports/buyers",
    "GET",
    "Summary by buyer (JSON or CSV)",
    out=BuyersReportOut,
    query=ReportQuery,
    csv=True,
)
def report_buyers(who):
    return reports.buyers_report(who, query(ReportQuery))


@api(
    "/reports/items",
    "GET",
    "Purchase list: pending quantity per item",
    out=ItemsReportOut,
    query=ReportQuery,
    csv=True,
)
def report_items(who):
    return reports.items_report(who, query(ReportQuery))


@api(
    "/reports/monthly",
    "GET",
    "Orders and money per month of a year",
    out=MonthlyReportOut,
    query=MonthlyQuery,
    csv=True,
)
def report_monthly(who):
    return reports.monthly_report(who, query(MonthlyQuery))
