"""HTTP routes of `chalicelib/notifications/`: batch notices (declared with
`platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.catalog.schemas import BatchPath
from chalicelib.notifications import notices
from chalicelib.notifications.schemas import NoticeIn, NoticeOut, NoticeSentIn
from chalicelib.platform.web import api, body, header, json_response, path_model
from chalicelib.sales.schemas import ShortageIn, ShortageOut


def _batch(name: str) -> str:
    return path_model(BatchPath, name=name).name


@api(
    "/batches/{name}/notices",
    "GET",
    "The batch's notices, newest first, with who was reached (emailed, LINE text sent)",
    out=NoticeOut,
    list_of=True,
)
def list_notices(who, name):
    return notices.search(who, _batch(name))


@api(
    "/batches/{name}/notices",
    "POST",
    "A notice to every buyer with live orders in the batch: each gets their own text (LINE) "
    "and email, once per buyer (Idempotency-Key supported)",
    body=NoticeIn,
    out=NoticeOut,
    status=201,
    also=(200,),
)
def create_notice(who, name):
    data = body(NoticeIn)
    notice, created = notices.create(who, _batch(name), data.kind, data.message, header("idempotency-key"))
    return json_response(notice, 201 if created else 200)


@api(
    "/batches/{name}/notices/{notice_id}/sent",
    "POST",
    "Tick the buyers the seller sent the notice's LINE text to (again: no change)",
    body=NoticeSentIn,
    out=NoticeOut,
)
def notice_sent(who, name, notice_id):
    return notices.mark_sent(who, _batch(name), notice_id, body(NoticeSentIn).customer_ids)


@api(
    "/batches/{name}/shortages",
    "POST",
    "Resolve a shortage: the kept orders become purchased, the others cancelled (money to "
    "credit, buyers emailed; each one's LINE text in the answer) (Idempotency-Key supported)",
    body=ShortageIn,
    out=ShortageOut,
    status=201,
    also=(200,),
)
def resolve_shortage(who, name):
    answer, created = notices.resolve_shortage(who, _batch(name), body(ShortageIn), header("idempotency-key"))
    return json_response(answer, 201 if created else 200)
