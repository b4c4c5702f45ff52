"""The discrete-event simulator from Python: the same schemes, routing, cost model
and results format as a live run (`hddnn.run`), in one process, no MPI."""
import json
from typing import Optional

from . import _core
from .errors import ConfigError
from .load import rate_for_load, read_json


def simulate(topology, profile, scheme: str = "mapping", rate: Optional[float] = None,
             rho: Optional[float] = None, duration: float = 5.0, deadline_ms: float = 0.0,
             seed: int = 0, encrypt: bool = True) -> dict:
    """Simulates `scheme`; topology and profile are dicts or JSON paths. Give the
    load as `rate` (per end device per second) or `rho` (the end-cloud cloud's
    utilisation). Returns the results dict (the results format of docs/design.md)."""
    topology, profile = read_json(topology), read_json(profile)
    if rate is None:
        rate = rate_for_load(profile, topology, rho) if rho is not None else 10.0
    elif rho is not None:
        raise ConfigError("give rate or rho, not both")
    config = {"scheme": scheme, "rate": rate, "duration": duration, "deadline_ms": deadline_ms,
              "seed": seed, "encrypt": encrypt}
    return json.loads(_core.simulate(json.dumps(topology), json.dumps(profile), json.dumps(config)))


def synthetic_topology(ends: int, edges: int) -> dict:
    """A large topology: `ends` end devices spread over `edges` edge nodes and one cloud."""
    if ends < 1 or edges < 1:
        raise ConfigError(f"synthetic topology: need >= 1 end device and edge node, got {ends}:{edges}")
    return json.loads(_core.synthetic_topology(ends, edges))
