"""The import directions of docs/architecture.md: no circle among chalicelib's modules,
counting imports inside functions too (a function-level import only hides a circle
until that function runs), and every module imports on its own in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
# Every module, dotted below chalicelib: "platform.bus", "sales.orders", "manage".
MODULES = sorted(
    ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
    for p in PACKAGE.rglob("*.py")
    if p.stem != "__init__"
)
# Platform modules: they know no domain module (docs/architecture.md).
PLATFORM = {m for m in MODULES if m.startswith("platform.")}
# The order repository (the one writer of orders) sits below every domain package that
# writes orders through it (catalog, money, shipping, sales): it knows only these.
BELOW_ORDERBOOK = PLATFORM | {m for m in MODULES if m.startswith("rules.")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str) -> set[str]:
    """The chalicelib modules `module` imports anywhere in its code (not under
    `if TYPE_CHECKING:`, which never runs)."""
    tree = ast.parse((PACKAGE / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module}: relative import"
            base = node.module or ""
            if base == "chalicelib" or base.startswith("chalicelib."):
                base = base.removeprefix("chalicelib").lstrip(".")
                # `from chalicelib.sales import orders` names a module; `from
                # chalicelib.sales.orders import x` names a name of one.
                for alias in node.names:
                    joined = f"{base}.{alias.name}" if base else alias.name
                    found.add(joined if joined in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("chalicelib.") for a in node.names if a.name.startswith("chalicelib.")
            )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return (found & set(MODULES)) - {module}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_among_chalicelib_modules():
    graph = {m: imports_of(m) for m in MODULES}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_platform_modules_import_no_domain_module():
    for module in PLATFORM:
        assert imports_of(module) <= PLATFORM, (module, imports_of(module) - PLATFORM)


def test_the_order_repository_imports_only_rules_and_platform():
    orderbook = {m for m in MODULES if m.startswith("orderbook.")}
    assert "orderbook.repository" in orderbook
    for module in orderbook:
        assert imports_of(module) <= BELOW_ORDERBOOK, (module, imports_of(module) - BELOW_ORDERBOOK)


def test_every_module_imports_first_in_a_fresh_interpreter():
    """Each module as the first chalicelib import of its own interpreter: a circle at
    module level fails here with "partially initialized module"."""
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {MODULES!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'chalicelib' or m.startswith('chalicelib.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module('chalicelib.' + name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    env = {
        "JWT_SECRET": "x" * 32,
        "PUBLIC_SITE_URL": "https://shop.example.test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stdout + out.stderr


# A module whose data others copy records an event; it does not call the copies' owners.
MUST_NOT_IMPORT = {
    "buyers.customers": {
        "sales.orders",
        "money.payments",
        "shipping.parcels",
        "tracking.tracking",
        "sales.forms",
        "notifications.notifications",
    },
    "accounts.auth": {"tracking.tracking", "sales.forms", "catalog.batches", "notifications.notifications"},
    "shipping.parcels": {"notifications.notifications", "shipping.packing_slip"},
    "money.payments": {"notifications.notifications", "tracking.tracking", "sales.orders"},
    "sales.forms": {"notifications.notifications", "platform.mailer"},
}


def test_the_module_list_walks_the_subpackages():
    assert {"platform.bus", "sales.orders", "platform.web", "manage"} <= set(MODULES)
    assert imports_of("shipping.packing_slip") >= {"shipping.parcels", "rules.allocation"}
    for names in MUST_NOT_IMPORT.values():
        assert names <= set(MODULES), names - set(MODULES)


def test_raisers_do_not_import_their_handlers():
    for module, forbidden in MUST_NOT_IMPORT.items():
        assert not imports_of(module) & forbidden, (module, imports_of(module) & forbidden)


def test_only_the_routes_modules_import_the_web_edge():
    """Routes are declared in `<package>/routes.py`; the rest of chalicelib takes and
    returns plain values (import-linter checks the same, indirect imports included)."""
    importers = {m for m in MODULES if "platform.web" in imports_of(m)}
    assert {"sales.routes", "platform.routes"} <= importers
    assert {m for m in importers if not m.endswith(".routes")} == set()


def test_app_imports_every_routes_module_and_nothing_else():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    imported = {
        f"{node.module}.{alias.name}".removeprefix("chalicelib.")
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chalicelib")
        for alias in node.names
    }
    routes = {m for m in MODULES if m.endswith(".routes")}
    assert len(routes) == 10  # + notifications (batch notices)
    # SCHEDULES, S3_HANDLERS: the scheduled Lambdas and the photo upload's, which app.py
    # names (their handler is `app.<name>`).
    assert imported == routes | {
        "platform.web.ROUTES",
        "platform.web.SCHEDULES",
        "platform.web.S3_HANDLERS",
        "platform.web.app",
    }


def test_schemas_import_only_schemas_and_the_platform():
    """A package's schemas build on platform.schemas and on the schemas of packages below
    it (the layers contract says which), never on its domain code. `rules.contacts` is
    allowed: a phone or LINE ID is normalised at the edge (pure functions, no storage)."""
    schemas = [m for m in MODULES if m.endswith(".schemas")]
    assert len(schemas) == 10
    edge_rules = {"rules.contacts"}
    for module in schemas:
        other = {
            i
            for i in imports_of(module)
            if not (i.startswith("platform.") or i.endswith(".schemas") or i in edge_rules)
        }
        assert other == set(), (module, other)
