"""hddnn map: solve a placement/routing problem file, or plan a topology."""
import json


def register(subparsers):
    parser = subparsers.add_parser(
        "map", help="solve a mapping problem file or plan a topology",
        description="hddnn map FILE prints the answer to a placement or routing problem; "
                    "hddnn map --topology T --profile P --rates R... prints a plan.")
    parser.add_argument("file", nargs="?", help="placement or routing problem (JSON)")
    parser.add_argument("--topology", help="topology file, or a shipped name (lab7, ddnn6)")
    parser.add_argument("--profile", help="model profile (runs/X/profile.json)")
    parser.add_argument("--rates", type=float, nargs="+",
                        help="requests/s per end device (one value: the same for all)")
    parser.add_argument("--rho-max", type=float, default=0.95, help="utilisation cap of every device")
    parser.add_argument("--exclude", nargs="*", default=[], help="devices that are gone (names)")
    parser.add_argument("--energy-weight", type=float, default=0.0, help="ms per joule of end-device energy")
    parser.set_defaults(func=run, parser=parser)


def _topology_path(name: str) -> str:
    import os
    from ..mapping import shipped_topology
    return name if os.path.exists(name) else shipped_topology(name)


def run(args) -> int:
    from .. import mapping
    from ..errors import ConfigError
    if args.file and args.topology:
        raise ConfigError("give either a problem FILE or --topology/--profile/--rates, not both")
    if args.file:
        problem, _ = mapping.read_json(args.file, "problem")
        print(json.dumps(mapping.solve(problem), indent=2))
        return 0
    if not (args.topology and args.profile and args.rates):
        args.parser.error("either FILE or all of --topology, --profile and --rates are required")
    topology = mapping.load_topology(_topology_path(args.topology))
    ends = sum(1 for device in topology["devices"] if device["tier"] == "end")
    rates = args.rates * ends if len(args.rates) == 1 else args.rates
    result = mapping.plan(_topology_path(args.topology), args.profile, rates, rho_max=args.rho_max,
                          exclude=args.exclude, energy_weight=args.energy_weight)
    print(json.dumps(result, indent=2))
    return 0
