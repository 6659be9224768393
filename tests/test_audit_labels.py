"""Every action the code records, and every field it puts in an entry, has a
Korean label: the audit page would show an English key otherwise.

The actions are read from the source: each `record(` call of market/ names
its action as a literal, a choice between literals, a name bound to those in
the same function (or a parameter whose callers pass literals), or a value of
a module-level dict of literals. A call the reader cannot follow fails the
test, so a new action cannot slip through. Field keys are read from the dict
literals in those calls, and from the helpers that build whole snapshots
(called here on real records)."""

import ast
from datetime import date
from pathlib import Path

import pytest

import market
from market.audit import labels
from market.audit.labels import field_for
from market.audit.models import AuditEntry
from market.extensions import db
from tests.markets_factories import make_market, make_venue
from tests.takings_factories import add_takings, take_part
from tests.vendors_factories import make_vendor

SOURCE = Path(market.__file__).parent


class Unreadable(Exception):
    pass


def _modules():
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _record_names(tree) -> tuple[set[str], set[str]]:
    """Names under which this module calls market.audit.services.record, and
    names of the services module itself."""
    functions, modules = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "market.audit.services":
            functions |= {a.asname or a.name for a in node.names if a.name == "record"}
        if isinstance(node, ast.ImportFrom) and node.module == "market.audit":
            modules |= {a.asname or a.name for a in node.names if a.name == "services"}
    return functions, modules


def _is_record(call: ast.Call, functions: set[str], modules: set[str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in functions
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "record"
        and isinstance(func.value, ast.Name)
        and func.value.id in modules
    )


def _parents(tree) -> dict:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _enclosing_function(node, parents):
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None


def _argument(call: ast.Call, position: int, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[position] if len(call.args) > position else None


def _strings(expr, tree, parents, depth: int = 0) -> set[str]:
    """The string values `expr` can take, or Unreadable."""
    if depth > 4:
        raise Unreadable
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _strings(expr.body, tree, parents, depth) | _strings(
            expr.orelse, tree, parents, depth
        )
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == expr.value.id for t in node.targets)
                and isinstance(node.value, ast.Dict)
            ):
                return set().union(
                    *(_strings(v, tree, parents, depth + 1) for v in node.value.values)
                )
        raise Unreadable
    if isinstance(expr, ast.Name):
        function = _enclosing_function(expr, parents)
        if function is None:
            raise Unreadable
        found: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                found |= _strings(node.value, tree, parents, depth + 1)
        params = [a.arg for a in function.args.args]
        if expr.id in params:
            found |= _passed(function.name, params.index(expr.id), expr.id, tree, parents, depth)
        if not found:
            raise Unreadable
        return found
    raise Unreadable


def _passed(function_name, position, name, tree, parents, depth) -> set[str]:
    """What the callers of `function_name` in this module pass for one parameter."""
    found: set[str] = set()
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == function_name
    ]
    for call in calls:
        argument = _argument(call, position, name)
        if argument is None:
            raise Unreadable
        found |= _strings(argument, tree, parents, depth + 1)
    if not calls:
        raise Unreadable
    return found


def _record_calls():
    for path, tree in _modules():
        functions, modules = _record_names(tree)
        if not functions and not modules:
            continue
        parents = _parents(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_record(node, functions, modules):
                yield path, tree, parents, node


def _literal_keys(expr) -> set[str]:
    if isinstance(expr, ast.Dict):
        return {k.value for k in expr.keys if isinstance(k, ast.Constant)}
    return set()


def recorded_actions() -> tuple[set[str], list[str]]:
    actions, unreadable = set(), []
    for path, tree, parents, call in _record_calls():
        where = f"{path.relative_to(SOURCE.parent)}:{call.lineno}"
        argument = _argument(call, 1, "action")
        try:
            actions |= _strings(argument, tree, parents)
        except Unreadable:
            unreadable.append(where)
    return actions, unreadable


def recorded_literal_keys() -> dict[str, str]:
    keys = {}
    for path, _tree, _parents, call in _record_calls():
        for position, name in ((3, "before"), (4, "after")):
            for key in _literal_keys(_argument(call, position, name)):
                keys.setdefault(key, f"{path.relative_to(SOURCE.parent)}:{call.lineno}")
    return keys


def test_the_reader_finds_the_actions_it_should(app):
    actions, unreadable = recorded_actions()
    assert unreadable == [], "write the action of these record() calls so it can be read"
    # literal, choice, variable, parameter passed by callers, a dict's values
    assert {
        "vendor.register",
        "user.enable",
        "user.disable",
        "application.create",
        "application.withdraw",
        "market.update",
        "vendor.suspend",
        "takings.update",
        "takings.ceiling",
        "customers.upload",
        "vendor.change_approve",
    } <= actions


def test_every_recorded_action_has_a_label(app):
    actions, _unreadable = recorded_actions()
    missing = sorted(action for action in actions if action not in labels.ACTIONS)
    assert missing == [], "describe these actions (market.audit.labels.describe_actions)"


def test_every_literal_field_key_has_a_label(app):
    keys = recorded_literal_keys()
    assert {"takings_ceiling", "status", "active"} <= keys.keys()
    registered = {key for _type, key in labels.FIELDS}
    missing = {key: where for key, where in keys.items() if key not in registered}
    assert missing == {}, "describe these fields (market.audit.labels.describe_fields)"


def _assert_labelled(object_type: str, values: dict | None) -> None:
    missing = [key for key in values or {} if field_for(object_type, key) is None]
    assert missing == [], f"{object_type}: describe {missing}"


def test_every_snapshot_field_has_a_label(app, clock):
    """The helpers that put a whole record into an entry, called on real records."""
    from market.markets.services import _venue_values, market_values
    from market.takings.services import takings_values
    from market.vendors.changes import requested_values
    from market.vendors.services import vendor_values

    clock.seoul(2026, 11, 20)
    venue = make_venue()
    market_ = make_market(venue, date(2026, 11, 26))
    vendor = make_vendor()
    take_part(vendor, market_)
    _assert_labelled("vendors", vendor_values(vendor))
    _assert_labelled("vendors", requested_values(vendor, None))
    _assert_labelled("markets", market_values(market_))
    _assert_labelled("venues", _venue_values(venue))
    _assert_labelled("takings", takings_values(add_takings(vendor, market_, 5000)))
    _assert_labelled("markets", {"booth 3": vendor.id, "4": vendor.id})


def test_every_entry_of_the_demo_reads_in_korean(app, runner):
    """The demo goes through the areas' own services: whatever they record
    has a label for its action, its kind of record and each field."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    entries = db.session.scalars(db.select(AuditEntry)).all()
    assert len({entry.action for entry in entries}) >= 3
    for entry in entries:
        assert entry.action in labels.ACTIONS, entry.action
        assert entry.object_type in labels.RECORDS or entry.object_type == "-", entry.object_type
        _assert_labelled(entry.object_type, entry.before)
        _assert_labelled(entry.object_type, entry.after)


@pytest.mark.parametrize("object_type", sorted(["vendors", "markets", "booths", "users"]))
def test_each_kind_of_record_is_named(app, object_type):
    assert labels.RECORDS[object_type].names is not None
