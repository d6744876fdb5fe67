"""A PATCH (or bulk set) never stores null where the model that reads the document back
requires a value: such an order answered 500 on every list, export and edit of it, for
good (issue 23, item 4). Every patch model against the output model of what it edits."""

from __future__ import annotations

import json
import types
import typing

import pytest

from chalicelib.accounts.schemas import SellerOut, SellerPatch
from chalicelib.buyers.schemas import CustomerOut, CustomerPatch
from chalicelib.catalog.schemas import BatchOut, BatchPatch, ItemOut, ItemPatch
from chalicelib.platform import payload
from chalicelib.platform.errors import ValidationFailed
from chalicelib.sales.schemas import BulkSet, FormOut, FormPatch, OrderOut, OrderPatch
from chalicelib.shipping.schemas import ParcelOut, ParcelPatch

PAIRS = [
    (OrderPatch, OrderOut),
    (BulkSet, OrderOut),
    (CustomerPatch, CustomerOut),
    (ItemPatch, ItemOut),
    (ParcelPatch, ParcelOut),
    (FormPatch, FormOut),
    (SellerPatch, SellerOut),
    (BatchPatch, BatchOut),
]
# Stored otherwise than given: a null recipient is stored as {} (parcels.update).
STORED_OTHERWISE = {(ParcelPatch, "recipient")}


def _nullable(annotation) -> bool:
    return (
        annotation is None
        or type(None) in typing.get_args(annotation)
        or (isinstance(annotation, types.UnionType) and type(None) in annotation.__args__)
    )


def required_fields(patch, out):
    for name in patch.model_fields:
        field = out.model_fields.get(name)
        if field is None or (patch, name) in STORED_OTHERWISE:
            continue
        if not _nullable(field.annotation):
            yield name


@pytest.mark.parametrize(("patch", "out"), PAIRS, ids=[p.__name__ for p, _ in PAIRS])
def test_null_for_a_required_field_is_refused(patch, out):
    names = list(required_fields(patch, out))
    assert names, "the pair shares no required field: the test would prove nothing"
    for name in names:
        with pytest.raises(ValidationFailed) as exc:
            payload.parse_body(patch, json.dumps({name: None}))
        assert [(d["field"], d["code"]) for d in exc.value.details] == [(name, "cannot_be_null")], (
            patch.__name__,
            name,
        )
