"""HTTP routes of `chalicelib/buyers/`: parse the request, call one function of the
package, return its result (declared with `platform.web.api`; app.py imports this module)."""

from __future__ import annotations

from chalicelib.buyers import customers
from chalicelib.buyers.schemas import CustomerIn, CustomerOut, CustomerPatch, CustomerQuery
from chalicelib.platform.web import api, body, query

# --- customers ------------------------------------------------------------------------


@api("/customers", "GET", "List customers", out=CustomerOut, list_of=True, query=CustomerQuery)
def list_customers(who):
    return customers.search(who, query(CustomerQuery))


@api("/customers", "POST", "Add a customer", body=CustomerIn, out=CustomerOut, status=201)
def create_customer(who):
    return customers.create(who, body(CustomerIn))


@api("/customers/{customer_id}", "GET", "One customer", out=CustomerOut)
def get_customer(who, customer_id):
    return customers.get(who, customer_id)


@api("/customers/{customer_id}", "PATCH", "Edit a customer", body=CustomerPatch, out=CustomerOut)
def patch_customer(who, customer_id):
    return customers.update(who, customer_id, body(CustomerPatch))


@api("/customers/{customer_id}", "DELETE", "Delete a customer without orders", status=204)
def delete_customer(who, customer_id):
    return customers.delete(who, customer_id)
