"""The OpenAPI 3 document, built from the route table and the pydantic models."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.platform.schemas import ErrorOut


@dataclass(frozen=True)
class RouteDoc:
    path: str
    method: str
    summary: str
    body: type[BaseModel] | None = None
    out: type[BaseModel] | None = None
    status: int = 200
    public: bool = False
    query: type[BaseModel] | None = None
    # A body that is no JSON: its media type, or several (a bank statement: CSV or xlsx).
    content_type: str | tuple[str, ...] = "application/json"
    list_of: bool = False  # a page: {items, next_cursor}
    array_of: bool = False  # a plain JSON array (GET /batches)
    # A list whose first page also carries `total_count` (GET /orders).
    total_count: bool = False
    # Also answered as a CSV download (`?format=csv`).
    csv: bool = False
    # Other statuses the route answers: a second success (200 for a replayed create), or a
    # 401/403 that a public route gives (wrong password, sign-up closed).
    also: tuple[int, ...] = ()
    # Only the shop's owners (issue 31): a staff member's call is 403 forbidden_for_role.
    owner_only: bool = False

    @property
    def content_types(self) -> tuple[str, ...]:
        """The media types the body may come in (JSON for a route with a body model)."""
        if self.body is not None:
            return ("application/json",)
        return (self.content_type,) if isinstance(self.content_type, str) else tuple(self.content_type)


ERROR_STATUSES = {
    400: "Invalid request",
    401: "Missing or invalid token",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    429: "Rate limited",
    503: "Database unavailable",
}


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build(routes: list[RouteDoc], title: str, version: str) -> dict:
    models = {ErrorOut}
    for r in routes:
        models.update(m for m in (r.body, r.out) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, schema = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    schemas = schema.get("$defs", {})
    paths: dict[str, dict] = {}
    for r in routes:
        op: dict = {"summary": r.summary, "operationId": _operation_id(r), "responses": {}}
        params = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in re.findall(r"{(\w+)}", r.path)
        ]
        if r.query is not None:
            params += query_parameters(r.query)
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {r.content_type: {"schema": _ref(r.body)}}}
        elif r.content_type != "application/json":
            types = r.content_types
            op["requestBody"] = {
                "required": True,
                "content": {t: {"schema": {"type": "string"}} for t in types},
            }
        if r.out is not None:
            out_schema = _ref(r.out)
            if r.array_of:
                out_schema = {"type": "array", "items": out_schema}
            elif r.list_of:
                out_schema = {
                    "type": "object",
                    "required": ["items", "next_cursor"],
                    "properties": {
                        "items": {"type": "array", "items": out_schema},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                }
                if r.total_count:
                    out_schema["required"].append("total_count")
                    out_schema["properties"]["total_count"] = {
                        "type": ["integer", "null"],
                        "description": "orders matching the filters, on the first page (no cursor); "
                        "null on later pages",
                    }
            content = {"application/json": {"schema": out_schema}}
            if r.csv:
                content["text/csv"] = {"schema": {"type": "string"}}
            success = {"description": "OK", "content": content}
        else:
            success = {"description": "OK"}
        for status in sorted({r.status, *(s for s in r.also if s < 400)}):
            op["responses"][str(status)] = success
        for status, text in ERROR_STATUSES.items():
            if r.public and status in (401, 403) and status not in r.also:
                continue
            op["responses"][str(status)] = {
                "description": text,
                "content": {"application/json": {"schema": _ref(ErrorOut)}},
            }
        if not r.public:
            op["security"] = [{"bearer": []}]
        paths.setdefault(r.path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def query_parameters(model: type[BaseModel]) -> list[dict]:
    """One OpenAPI parameter per field of a query model (by its alias: `from`), typed as
    the model checks it. `None` means "not given", so it is not a value in the schema."""
    schema = model.model_json_schema()
    params = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        branches = [b for b in prop.pop("anyOf", []) if b != {"type": "null"}]
        if len(branches) == 1:
            prop = {**branches[0], **prop}
        if prop.get("default", ...) is None:
            del prop["default"]
        param = {"name": name, "in": "query", "required": name in schema.get("required", ())}
        if "description" in prop:
            param["description"] = prop.pop("description")
        params.append({**param, "schema": prop})
    return params


def _operation_id(r: RouteDoc) -> str:
    words = re.sub(r"[{}]", "", r.path).strip("/").replace("/", "_").replace(".", "_").replace("-", "_")
    return f"{r.method.lower()}_{words or 'root'}"
