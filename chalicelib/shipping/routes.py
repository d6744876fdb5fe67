"""HTTP routes of `chalicelib/shipping/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.platform.web import api, body, header, json_response, query
from chalicelib.shipping import packing_slip, parcels
from chalicelib.shipping.schemas import ParcelIn, ParcelOut, ParcelPatch, ParcelQuery, ReadyQuery, SlipQuery

# --- parcels --------------------------------------------------------------------------


@api(
    "/parcels",
    "GET",
    "List parcels, newest first (?customer_id=, ?status=)",
    out=ParcelOut,
    list_of=True,
    query=ParcelQuery,
)
def list_parcels(who):
    return parcels.search(who, query(ParcelQuery))


@api(
    "/parcels",
    "POST",
    "Pack a buyer's orders in a parcel: they are shipped today (Idempotency-Key supported)",
    body=ParcelIn,
    out=ParcelOut,
    status=201,
    also=(200,),
)
def create_parcel(who):
    parcel, created = parcels.create(who, body(ParcelIn), header("idempotency-key"))
    return json_response(parcel, 201 if created else 200)


@api(
    "/parcels/ready",
    "GET",
    "Per buyer, the orders bought and not yet in a parcel, with the balance (?batch=)",
    query=ReadyQuery,
)
def parcels_ready(who):
    return parcels.ready(who, query(ReadyQuery).batch)


@api(
    "/parcels/{parcel_id}/packing-slip",
    "GET",
    "The parcel's packing slip: printable HTML in the shop's language (?prices=false, ?size=label)",
    query=SlipQuery,
)
def parcel_packing_slip(who, parcel_id):
    params = query(SlipQuery)
    return packing_slip.render(who, parcel_id, prices=params.prices, label=params.size == "label")


@api("/parcels/{parcel_id}", "GET", "One parcel", out=ParcelOut)
def get_parcel(who, parcel_id):
    return parcels.get(who, parcel_id)


@api(
    "/parcels/{parcel_id}",
    "PATCH",
    "Change a parcel: tracking number, carrier, fee, recipient, note; status delivered or returned",
    body=ParcelPatch,
    out=ParcelOut,
)
def patch_parcel(who, parcel_id):
    return parcels.update(who, parcel_id, body(ParcelPatch))


@api(
    "/parcels/{parcel_id}",
    "DELETE",
    "Unpack a parcel before delivery: its orders go back to purchased",
    status=204,
)
def delete_parcel(who, parcel_id):
    return parcels.delete(who, parcel_id)
