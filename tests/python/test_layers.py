"""The C++ sources form layers (docs/design.md, Layers): mapping/ includes nothing of
cpp/hddnn, and no two folders of cpp/hddnn include each other, directly or through
others. Reads the #include lines; builds nothing."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "cpp" / "hddnn"
INCLUDE = re.compile(r'^#include "hddnn/([^"]+)"', re.M)


def includes(path):
    return INCLUDE.findall(path.read_text())


def sources(folder):
    return sorted(p for p in folder.rglob("*") if p.suffix in (".hpp", ".cpp"))


def folder_graph():
    """Folder of cpp/hddnn -> the other folders its files include (info.cpp, at the top, aside)."""
    graph = {}
    for path in sources(CORE):
        parts = path.relative_to(CORE).parts
        if len(parts) == 1:
            continue
        used = {header.split("/")[0] for header in includes(path) if "/" in header}
        graph.setdefault(parts[0], set()).update(used - {parts[0]})
    return graph


def cycle_in(graph):
    """A cycle of the graph as a list of folders, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":  # open folders are the ones on the path
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        found = start not in state and visit(start, [start])
        if found:
            return found
    return None


def test_mapping_includes_only_itself_and_the_errors():
    for path in sources(ROOT / "mapping"):
        for header in includes(path):
            assert header == "errors.hpp" or header.startswith("mapping/"), f"{path.relative_to(ROOT)}: {header}"


def test_core_folders_include_each_other_one_way():
    graph = folder_graph()
    assert {"wire", "crypto", "comm", "parallel"} <= set(graph)
    assert cycle_in(graph) is None, " -> ".join(cycle_in(graph))


def test_wire_is_below_crypto_and_crypto_below_comm():
    graph = folder_graph()
    assert graph["wire"] == set() and graph["crypto"] == {"wire"} and "crypto" in graph["comm"]


def test_cycle_in_finds_a_cycle():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) is None
