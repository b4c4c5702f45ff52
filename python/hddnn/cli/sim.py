"""hddnn sim: the discrete-event simulator (same cost model, schemes, routing and
results format as `hddnn run`, no MPI)."""
import json
import os
import time


def register(subparsers):
    p = subparsers.add_parser("sim", help="simulate schemes over a topology (discrete-event)")
    p.add_argument("--model", help="a trained run folder (reads its profile.json)")
    p.add_argument("--profile", help="a profile.json (instead of --model)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--topology", help="topology JSON")
    where.add_argument("--synthetic", metavar="ENDS:EDGES", help="a synthetic topology, e.g. 10000:100")
    p.add_argument("--scheme", default="mapping", help="end | end-cloud | mapping, or several, comma-separated")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--rate", type=float, help="requests per second per end device")
    load.add_argument("--rho", type=float, help="load as the cloud's utilisation under end-cloud")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--deadline-ms", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threshold", type=float, default=None,
                   help="price the escalations of this exit threshold override (a point of --model's exit curve)")
    p.add_argument("--no-encrypt", action="store_true", help="leave the seal out of message sizes")
    p.add_argument("--out", default=None, help="results JSON (several schemes: a folder)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..results import Results, compare
    from ..sim import simulate, synthetic_topology
    from ..errors import ConfigError
    from ..load import profile_at_threshold
    if not (args.model or args.profile):
        raise ConfigError("sim: give --model or --profile")
    if args.threshold is not None and not args.model:
        raise ConfigError("sim: --threshold needs --model (its exit curve gives the escalations)")
    profile = args.profile or profile_at_threshold(args.model, args.threshold)
    topology = args.topology
    if args.synthetic:
        ends, _, edges = args.synthetic.partition(":")
        topology = synthetic_topology(int(ends), int(edges or 1))
    results = []
    for scheme in [s.strip() for s in args.scheme.split(",") if s.strip()]:
        start = time.perf_counter()
        r = Results(simulate(topology, profile, scheme=scheme, rate=args.rate, rho=args.rho,
                             duration=args.duration, deadline_ms=args.deadline_ms, seed=args.seed,
                             encrypt=not args.no_encrypt))
        r["sim_seconds"] = time.perf_counter() - start
        print(f"{r.summary_line()} [{r['offered']} requests simulated in {r['sim_seconds']:.2f} s]", flush=True)
        if args.out:
            out = args.out if len(args.scheme.split(",")) == 1 else os.path.join(args.out, f"sim-{scheme}.json")
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
            with open(out, "w") as f:
                json.dump(r, f, indent=2)
        results.append(r)
    if len(results) > 1:
        print(compare(results).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0
