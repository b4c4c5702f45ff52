"""Offered load from a model's profile and a topology: the request rate per end
device at which the cloud, serving every escalation alone (end-cloud), runs at
utilisation rho. The demo's jam point is rho = 1.2. Also the profile a run with an
overridden exit threshold really has (profile_at_threshold)."""
import json
import os

from .errors import ConfigError


def _sections(profile: dict) -> dict:
    try:
        return {s["name"]: s for s in profile["sections"]}
    except (KeyError, TypeError) as e:
        raise ConfigError(f"profile: malformed sections ({e})") from None


def cloud_service_ms(profile: dict, cloud_speed: float) -> float:
    """Mean time the cloud spends on one escalation under end-cloud: the edge
    section for all, the cloud section for those the edge exit does not answer."""
    s = _sections(profile)
    edge_ms = s["edge"]["compute_ms"]["batch1"]
    cloud_ms = s["cloud"]["compute_ms"]["batch1"]
    return (edge_ms + s["edge"]["escalate_fraction"] * cloud_ms) / cloud_speed


def read_json(path_or_dict):
    """A JSON object given as a dict or a file path."""
    if isinstance(path_or_dict, dict):
        return path_or_dict
    try:
        with open(path_or_dict) as f:
            return json.load(f)
    except OSError as e:
        raise ConfigError(f"{path_or_dict}: cannot read ({e.strerror})") from None
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path_or_dict}: not valid JSON ({e})") from None


def profile_at_threshold(model: str, threshold) -> dict:
    """`model`'s profile.json (an `hddnn train --out` folder) as a run that overrides
    every exit's entropy threshold with `threshold` sees it: the escalation fractions
    are those that threshold gives on the test split (the exit curve in metrics.json),
    so rate_for_load, the coordinator's planner and the simulator price the load the
    override really sends upward. `threshold` None: the profile as trained.
    ConfigError when the threshold is not a point of the curve."""
    profile = read_json(os.path.join(model, "profile.json"))
    if threshold is None or threshold < 0:
        return profile
    curve = read_json(os.path.join(model, "metrics.json")).get("exit_curve", [])
    point = next((p for p in curve if abs(p["thresholds"][0] - threshold) < 1e-9), None)
    if point is None:
        known = ", ".join(f"{p['thresholds'][0]:g}" for p in curve)
        raise ConfigError(f"threshold: {threshold:g} is not a point of {model}'s exit curve (one of {known})")
    # The policy exits ("<tier>/<finest label set>"), by tier.
    exits = {name.split("/")[0]: fraction for name, fraction in point["exit_fraction"].items()}
    if "end" not in exits:  # a multi-view model: the aggregator's exits, not planned
        return profile
    escalate = {"end": 1.0 - exits["end"]}
    escalate["edge"] = exits.get("cloud", 0.0) / escalate["end"] if escalate["end"] > 0 else 0.0
    for section in _sections(profile).values():
        section["escalate_fraction"] = escalate.get(section["name"], section["escalate_fraction"])
    return profile


def rate_for_load(profile, topology, rho: float) -> float:
    """Requests per second per end device that put the end-cloud cloud at `rho`.
    profile and topology: dicts or JSON file paths."""
    if rho <= 0:
        raise ConfigError(f"rho: must be > 0, got {rho}")
    profile, devices = read_json(profile), read_json(topology)["devices"]
    ends = [d for d in devices if d["tier"] == "end"]
    cloud = next(d for d in devices if d["tier"] == "cloud")
    escalating = _sections(profile)["end"]["escalate_fraction"]
    if escalating <= 0:
        raise ConfigError("profile: the end exit answers everything; no load reaches the cloud")
    capacity_per_s = 1000.0 / cloud_service_ms(profile, cloud["speed"])
    return rho * capacity_per_s / (len(ends) * escalating)
