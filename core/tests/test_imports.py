"""No import cycles between the project's modules, including imports written inside functions.

The layer contracts (pyproject.toml, `lint-imports` in `make test`) keep apps from importing upward; a
cycle inside one app, or one hidden in a function body, slips past them. grimp reads every import
statement, wherever it is written.
"""

import sys

import grimp
from django.conf import settings

FIRST_PARTY = ["core", "accounts", "tenants", "packhouses", "growers", "batches", "payments", "reconciliation",
               "demo", "fruitpak"]


def first_party_packages():
    return [name for name in FIRST_PARTY if name in settings.INSTALLED_APPS or name in ("core", "fruitpak")]


def cycles(graph, modules):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = iter(range(sys.maxsize))

    def visit(module):
        index[module] = low[module] = next(counter)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in modules:
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_round_a_cycle():
    graph = grimp.build_graph(*first_party_packages())
    modules = {module for module in graph.modules if ".tests" not in module and ".migrations" not in module}
    assert cycles(graph, modules) == []


def test_a_cycle_is_found():
    """The check itself: two modules of a made-up graph that import each other are reported."""
    graph = grimp.ImportGraph()
    for importer, imported in [("a.x", "a.y"), ("a.y", "a.x"), ("a.y", "a.z")]:
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph, set(graph.modules)) == [["a.x", "a.y"]]
