"""What comes in and goes out of `chalicelib/notifications/`: batch notices (notices.py)."""

# No `from __future__ import annotations` (pydantic evaluates the annotations: cold start).
from typing import Annotated, Literal

from pydantic import Field, model_validator

from chalicelib.platform.errors import Invalid
from chalicelib.platform.schemas import In, LongText, MoneyOut, ObjectIdStr, Out


class NoticeIn(In):
    """POST /batches/{name}/notices: arrived and payment_due have an opening line of
    their own, so their message may be left out; a custom notice is its message."""

    kind: Literal["arrived", "payment_due", "custom"]
    message: LongText | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.message == "" or (self.kind == "custom" and not self.message):
            raise Invalid(
                "message_required", "a custom notice needs a message; it may not be empty", field="message"
            )
        return self


class NoticeSentIn(In):
    """POST /batches/{name}/notices/{id}/sent: the buyers the seller sent the LINE text to."""

    customer_ids: Annotated[list[ObjectIdStr], Field(min_length=1, max_length=1000)]


class NoticeRecipientOut(Out):
    customer_id: str
    name: str
    emailed: bool
    # sent | pending (email not set up, or refused: a retry sends it) | sending | skipped
    # (no email, or opted out)
    email_state: str
    line_text: str
    balance: MoneyOut
    line_sent_at: str | None


class NoticeCountsOut(Out):
    recipients: int
    emailed: int
    line_sent: int


class NoticeOut(Out):
    id: str
    batch: str
    kind: str
    message: str | None
    created_at: str
    recipients: list[NoticeRecipientOut]
    counts: NoticeCountsOut
