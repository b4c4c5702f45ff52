"""hddnn join: start a lost host's job again into a running system (hddnn run --hosts)."""


def register(subparsers):
    p = subparsers.add_parser("join", help="start a host's job again into a running `hddnn run --hosts` system (experimental)")
    p.add_argument("--run", required=True, metavar="OUT.run",
                   help="the running system's folder (beside its results: OUT.run)")
    p.add_argument("--host", required=True, help="the host, as the run's hostfile names it")
    p.add_argument("--rsh", default="ssh", metavar="AGENT", help="remote shell that starts the job on the host")
    p.add_argument("--wait", action="store_true", help="wait for the job to end (the run's end)")
    p.set_defaults(func=join)


def join(args) -> int:
    from ..launch import join as start
    proc = start(args.run, args.host, rsh=args.rsh)
    print(f"joined: {args.host}'s job started (local pid {proc.pid})", flush=True)
    return proc.wait() if args.wait else 0
