"""hddnn.mapping from Python and `hddnn map` from the shell: shipped topologies,
placement against brute force written here, routing behaviour, planning lab7, and
ConfigError for bad input."""
import itertools
import json
import random
import subprocess
import sys

import pytest

from hddnn import mapping
from hddnn.errors import ConfigError

PROFILE = {"input_bytes": 784, "sections": [
    {"name": "end", "tier": "end", "param_bytes": 20000, "out_bytes": 256,
     "compute_ms": {"batch1": 0.4, "batch32": 3.0}, "escalate_fraction": 0.4},
    {"name": "edge", "tier": "edge", "param_bytes": 400000, "out_bytes": 512,
     "compute_ms": {"batch1": 1.5, "batch32": 10.0}, "escalate_fraction": 0.5},
    {"name": "cloud", "tier": "cloud", "param_bytes": 4000000, "out_bytes": 0,
     "compute_ms": {"batch1": 6.0, "batch32": 40.0}, "escalate_fraction": 0.0}]}
TIERS = ("end", "edge", "cloud")


def test_shipped_topologies_load():
    lab7 = mapping.load_topology(mapping.shipped_topology("lab7"))
    assert [d["tier"] for d in lab7["devices"]] == ["end"] * 4 + ["edge"] * 2 + ["cloud"]
    ddnn6 = mapping.load_topology(mapping.shipped_topology("ddnn6"))
    assert [d.get("views") for d in ddnn6["devices"][:6]] == [[v] for v in range(6)]


def test_topology_errors_name_the_device(tmp_path):
    lab7 = mapping.load_topology(mapping.shipped_topology("lab7"))
    lab7["devices"][1]["parent"] = "edge7"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(lab7))
    with pytest.raises(ConfigError, match=r"devices\[1\] \('end1'\)\.parent: unknown device \"edge7\""):
        mapping.load_topology(path)
    with pytest.raises(ValueError):  # ConfigError is also a ValueError
        mapping.load_topology(tmp_path / "missing.json")


def random_placement(rng, n):
    layers = []
    for v in range(n):
        inputs = ["input"] if v == 0 or rng.random() < 0.3 else []
        if v > 0:
            inputs.append(f"L{rng.randrange(v)}")
        layers.append({"id": f"L{v}", "inputs": inputs, "out_bytes": rng.uniform(50, 4000),
                       "compute_ms": {"end": rng.uniform(1, 20), "edge": rng.uniform(0.5, 6),
                                      "cloud": rng.uniform(0.1, 2)}})
    consumed = {i for layer in layers for i in layer["inputs"]}
    sink = layers[-1]
    sink["inputs"] += [f"L{u}" for u in range(n - 1) if f"L{u}" not in consumed and f"L{u}" not in sink["inputs"]]
    return {"kind": "placement", "input_bytes": rng.uniform(500, 3000), "result_bytes": rng.uniform(4, 64),
            "layers": layers,
            "hops": [{"from": "end", "to": "edge", "latency_ms": rng.uniform(1, 10), "bytes_per_ms": rng.uniform(20, 200)},
                     {"from": "edge", "to": "cloud", "latency_ms": rng.uniform(5, 30), "bytes_per_ms": rng.uniform(100, 1000)}]}


def brute_force(problem):
    """The placement cost of docs/design.md, enumerated over every assignment (infinite if not monotone)."""
    layers, hops = problem["layers"], problem["hops"]
    hop_ms = [lambda b, h=h: h["latency_ms"] + b / h["bytes_per_ms"] for h in hops]
    best = float("inf")
    for tiers in itertools.product(range(3), repeat=len(layers)):
        tier = {layer["id"]: t for layer, t in zip(layers, tiers)}
        tier["input"] = 0
        if any(tier[i] > tier[layer["id"]] for layer in layers for i in layer["inputs"]):
            continue
        cost = sum(layer["compute_ms"][TIERS[tier[layer["id"]]]] for layer in layers)
        for producer in ["input"] + [layer["id"] for layer in layers]:
            consumers = [tier[layer["id"]] for layer in layers if producer in layer["inputs"]]
            size = problem["input_bytes"] if producer == "input" else next(
                layer["out_bytes"] for layer in layers if layer["id"] == producer)
            cost += sum(hop_ms[h](size) for h in range(tier[producer], max(consumers, default=0)))
        cost += sum(hop_ms[h](problem["result_bytes"]) for h in range(tier[layers[-1]["id"]]))
        best = min(best, cost)
    return best


def test_placement_matches_brute_force():
    rng = random.Random(5)
    for instance in range(40):
        problem = random_placement(rng, 1 + instance % 6)
        answer = mapping.solve(problem)
        assert answer["objective_ms"] == pytest.approx(brute_force(problem), rel=1e-6), instance
        assert set(answer["tier"].values()) <= set(TIERS)


def test_routing_fastest_path_then_split():
    def split(rate):
        answer = mapping.solve({"kind": "routing", "streams": [
            {"id": "s", "rate_per_s": rate, "options": [{"node": "near", "cost_ms": 0}, {"node": "far", "cost_ms": 5}]}],
            "nodes": [{"id": "near", "service_rate_per_s": 100}, {"id": "far", "service_rate_per_s": 100}]})
        return answer["split"]["s"]["far"]
    assert split(5) == 0.0
    assert 0.0 < split(40) < split(80)


def test_routing_infeasible_reports_scale():
    answer = mapping.solve({"kind": "routing", "rho_max": 0.9, "streams": [
        {"id": "s", "rate_per_s": 30, "options": [{"node": "a", "cost_ms": 1}]}],
        "nodes": [{"id": "a", "service_rate_per_s": 10}]})
    assert answer["feasible"] is False
    assert answer["max_scale"] == pytest.approx(0.3, rel=1e-6)


@pytest.mark.parametrize("problem, message", [
    ({"kind": "routing", "streams": [{"id": "s", "rate_per_s": 1, "options": []}],
      "nodes": [{"id": "a", "service_rate_per_s": 1}]}, "field 'options' must be a non-empty list"),
    ({"kind": "routing", "streams": [{"id": "s", "rate_per_s": 1, "options": [{"node": "b", "cost_ms": 1}]}],
      "nodes": [{"id": "a", "service_rate_per_s": 1}]}, "unknown node 'b'"),
    ({"kind": "routing", "streams": [], "nodes": [{"id": "a", "service_rate_per_s": 0}]},
     "node 'a': field 'service_rate_per_s' must be a positive number"),
    ({"kind": "nothing"}, "field 'kind'"),
])
def test_bad_problems_name_the_field(problem, message):
    with pytest.raises(ConfigError, match=message):
        mapping.solve(problem)


def test_plan_lab7_and_exclusion():
    lab7 = mapping.shipped_topology("lab7")
    full = mapping.plan(lab7, PROFILE, [60, 60, 60, 60])
    assert full["feasible"] and full["converged"]
    assert full["mean_latency_ms"] > 0
    for device in full["devices"]:
        assert len(device["sections"]) == 3
        assert sum(device["routing"].values()) == pytest.approx(1.0)
    degraded = mapping.plan(lab7, PROFILE, [60, 60, 60, 60], exclude=["edge0"])
    assert all("edge0" not in device["routing"] for device in degraded["devices"])
    assert degraded["utilisation"]["edge0"] == 0.0
    overloaded = mapping.plan(lab7, PROFILE, [5000] * 4)
    assert overloaded["feasible"] is False and 0 < overloaded["max_scale"] < 1
    with pytest.raises(ConfigError, match="3 rates given for 4 end devices"):
        mapping.plan(lab7, PROFILE, [1, 2, 3])


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hddnn", "map", *args], capture_output=True, text=True, timeout=120)


def test_cli_solves_a_file_and_plans(tmp_path):
    problem = tmp_path / "placement.json"
    problem.write_text(json.dumps(random_placement(random.Random(1), 4)))
    solved = run_cli(str(problem))
    assert solved.returncode == 0, solved.stderr
    assert json.loads(solved.stdout)["objective_ms"] > 0
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(PROFILE))
    planned = run_cli("--topology", "lab7", "--profile", str(profile), "--rates", "50")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["feasible"] is True
    bad = run_cli("--topology", "lab7", "--profile", str(profile), "--rates", "50", "--exclude", "edge9")
    assert bad.returncode == 2 and "ConfigError" in bad.stderr and "edge9" in bad.stderr
