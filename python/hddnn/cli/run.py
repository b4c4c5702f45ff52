"""hddnn run: a distributed run of one or more schemes over a topology (mpirun)."""
import os


def register(subparsers):
    p = subparsers.add_parser("run", help="run schemes over a topology, one MPI rank per device")
    p.add_argument("--model", required=True, help="a trained run folder (hddnn train --out)")
    p.add_argument("--topology", required=True, help="topology JSON")
    p.add_argument("--scheme", default="mapping",
                   help="end | end-cloud | mapping, or several separated by commas to compare")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--rate", type=float,
                      help="requests per second per end device (multi-view: per aggregator's shared stream)")
    load.add_argument("--rho", type=float,
                      help="load as the cloud's utilisation under end-cloud (1.2 = jammed)")
    p.add_argument("--duration", type=float, default=5.0, help="seconds of offered requests")
    p.add_argument("--deadline-ms", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threshold", type=float, default=None, help="override every exit's entropy threshold")
    p.add_argument("--out", default=None, help="results JSON (several schemes: a folder)")
    p.add_argument("--no-emulation", action="store_true", help="real speeds and links (clusters)")
    p.add_argument("--no-encrypt", action="store_true", help="send features in clear (for comparison)")
    p.add_argument("--key", default=None, help="cluster key file (hddnn keygen); default: a fresh one")
    p.add_argument("--kill", action="append", default=[], metavar="RANK@SECONDS",
                   help="SIGKILL a rank this many seconds after every rank has set up (repeatable)")
    p.add_argument("--tamper", action="append", default=[], metavar="KIND@RANK[:COUNT]",
                   help="test hook (repeatable): flip|replay|wrong-key|truncate that rank's first COUNT data "
                        "frames (default 1), or capture every frame it sends to <out>.rank<RANK>.capture")
    p.add_argument("--record-requests", action="store_true",
                   help="list every request's record in the results (\"requests\")")
    p.add_argument("--time-scale", type=float, default=1.0, metavar="K",
                   help="time dilation: emulated time runs K times slower than the wall (K >= 1; "
                        "a small host then serves high rates; reported times stay emulated)")
    p.add_argument("--compute", choices=("measured", "profile"), default="measured",
                   help="emulated compute: each forward's CPU time, or the profile's time (crowded hosts)")
    p.add_argument("--view-wait-ms", type=float, default=100.0,
                   help="multi-view: how long an aggregator waits for a sample's missing views")
    p.add_argument("--data", default=None,
                   help="serve requests from this data file's test split (hddnn.datasets.save); default: Fashion-MNIST")
    p.add_argument("--plot", default=None, help="write a PNG comparing the schemes' latency and accuracy")
    p.add_argument("--mpirun-arg", action="append", default=[], help="extra mpirun argument (repeatable)")
    p.add_argument("--hosts", default=None, metavar="HOSTFILE",
                   help="one mpirun job per host of this hostfile (hosts in topology order), joined at run time")
    p.add_argument("--rsh", default="ssh", metavar="AGENT", help="with --hosts: remote shell that starts a host's job")
    p.add_argument("--kill-host", action="append", default=[], metavar="HOST@SECONDS",
                   help="with --hosts: SIGKILL every process of the run on HOST then (repeatable)")
    p.add_argument("--rejoin", action="append", default=[], metavar="HOST@SECONDS",
                   help="with --hosts: start HOST's job again then, joining the running system (experimental; repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..faults import parse_kill
    from ..host_jobs import parse_host_event
    from ..launch import run as launch
    from ..load import profile_at_threshold, rate_for_load
    from ..results import compare, plot_comparison
    schemes = [s.strip() for s in args.scheme.split(",") if s.strip()]
    rate = args.rate if args.rate is not None else (
        rate_for_load(profile_at_threshold(args.model, args.threshold), args.topology, args.rho) if args.rho is not None else 10.0)
    results = []
    for scheme in schemes:
        out = args.out
        if out and len(schemes) > 1:
            os.makedirs(out, exist_ok=True)
            out = os.path.join(out, f"results-{scheme}.json")
        r = launch(args.model, args.topology, scheme=scheme, rate=rate, duration=args.duration,
                   deadline_ms=args.deadline_ms, seed=args.seed, threshold=args.threshold, out=out,
                   emulate=not args.no_emulation, encrypt=not args.no_encrypt, key_file=args.key,
                   mpirun_args=args.mpirun_arg, kill=[parse_kill(k) for k in args.kill],
                   record_requests=args.record_requests, view_wait_ms=args.view_wait_ms,
                   time_scale=args.time_scale, tamper=args.tamper, compute=args.compute, data=args.data,
                   hosts=args.hosts, rsh=args.rsh,
                   kill_host=[parse_host_event(k, "--kill-host") for k in args.kill_host],
                   rejoin=[parse_host_event(r, "--rejoin") for r in args.rejoin])
        print(r.summary_line(), flush=True)
        for rejoin in r["rejoins"]:
            print(f"rejoin of {rejoin['host']} at {rejoin['at_s']} s: " + ", ".join(
                f"rank {x['rank']} load {_ms(x['load_ms'])}, online {_ms(x['online_after_ready_ms'])} after load"
                for x in rejoin["ranks"]), flush=True)
        if args.tamper:
            crypto = r["crypto"]
            print(f"tamper: injected {crypto['injected']}, rejected {crypto['rejected_by_reason']}, "
                  f"re-sent {crypto['resent']}, captures {r['captures']}", flush=True)
        results.append(r)
    if len(results) > 1:
        print(compare(results).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.plot:
        plot_comparison(results, path=args.plot)
        print(f"plot: {args.plot}")
    failed = [r["scheme"] for r in results if r["lost"] > 0 or r["answered"] + r["lost_with_device"] < r["offered"]]
    return 1 if failed else 0


def _ms(value) -> str:
    return "never" if value is None else f"{value:.0f} ms"
