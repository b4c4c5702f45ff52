"""The scheduler's solvers (C++ library hddnn_mapping, Boost.Graph): exact placement
by minimum cut, optimal routing by minimum-cost flow, and planning a topology.

All functions take and return plain dicts (the JSON formats of docs/design.md) and raise
hddnn.errors.ConfigError naming the field or id at fault.
"""
import json
import os
from typing import Iterable, Mapping, Sequence, Union

from . import _core

PathOrDict = Union[str, os.PathLike, Mapping]

#: Folder of the shipped topologies (lab7.json, ddnn6.json).
TOPOLOGY_DIR = _core.mapping_topology_dir


def _dumps(value) -> str:
    return json.dumps(value, allow_nan=False)


def shipped_topology(name: str) -> str:
    """Path of a shipped topology by name ("lab7" or "ddnn6")."""
    return os.path.join(TOPOLOGY_DIR, name if name.endswith(".json") else name + ".json")


def load_topology(path: Union[str, os.PathLike]) -> dict:
    """Loads and validates a topology file. Returns {"devices": [...]} in rank order,
    with parents and link targets by name. Raises ConfigError for unknown parents or
    links, a device with no link to its parent, zero or several clouds, an unknown tier,
    non-positive speed or bandwidth, negative latency, or duplicate names."""
    return json.loads(_core.mapping_load_topology(os.fspath(path)))


def read_json(value: PathOrDict, what: str):
    """(document, name) from a dict or a JSON file; ConfigError when unreadable."""
    if isinstance(value, Mapping):
        return dict(value), what
    path = os.fspath(value)
    try:
        with open(path) as handle:
            return json.load(handle), path
    except OSError as error:
        from .errors import ConfigError
        raise ConfigError(f"{path}: cannot read {what}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        from .errors import ConfigError
        raise ConfigError(f"{path}: not valid JSON: {error}") from None


def solve(problem: Mapping) -> dict:
    """Solves a mapping problem dict.

    kind "placement": {"objective_ms", "tier": {layer id: "end"|"edge"|"cloud"}}
      (+ "end_energy_mj" when energy fields are given);
    kind "routing": {"objective_ms", "feasible", "split": {stream: {node: fraction}},
      "utilisation": {node: rho}} (+ "max_scale" when infeasible).
    """
    return json.loads(_core.mapping_solve(_dumps(dict(problem)), "problem"))


def plan(topology: PathOrDict, profile: PathOrDict, rates: Sequence[float], *, rho_max: float = 0.95,
         exclude: Iterable[Union[str, int]] = (), max_iterations: int = 50, energy_weight: float = 0.0,
         result_bytes: float = 8.0) -> dict:
    """Plans a topology (path or dict) for a model profile (path or dict).

    rates: requests per second offered at each end device, in topology order.
    exclude: devices (names or rank indices) that are gone; the plan avoids them.
    energy_weight: beta, ms of latency one joule of end-device energy is worth.
    Returns {"devices": [{"device", "sections": [tier per section], "edge",
    "routing": {node: fraction}, "latency_ms", ...}], "mean_latency_ms",
    "utilisation", "iterations", "converged", "feasible" (+ "max_scale")}.
    """
    topology_doc, topology_name = read_json(topology, "topology")
    profile_doc, profile_name = read_json(profile, "profile")
    options = {"rho_max": rho_max, "exclude": list(exclude), "max_iterations": max_iterations,
               "energy_weight": energy_weight, "result_bytes": result_bytes}
    return json.loads(_core.mapping_plan(_dumps(topology_doc), _dumps(profile_doc), _dumps([float(r) for r in rates]),
                                         _dumps(options), topology_name, profile_name))


__all__ = ["TOPOLOGY_DIR", "shipped_topology", "load_topology", "read_json", "solve", "plan"]
