"""hddnn join: start one host's devices for a running system (a run with --hosts)."""


def register(subparsers):
    p = subparsers.add_parser("join", help="start one host's devices for a running system (hddnn run --hosts)")
    p.add_argument("--run", required=True, metavar="OUT.run",
                   help="the running run's folder (beside its results, on a shared folder)")
    p.add_argument("--first-rank", type=int, required=True, help="the first device's rank (topology order)")
    p.add_argument("--ranks", type=int, default=1, help="how many devices, from --first-rank on (default 1)")
    p.add_argument("--mpirun-arg", action="append", default=[], help="extra mpirun argument (repeatable)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import ConfigError
    from ..launch import join
    if args.first_rank < 0 or args.ranks < 1:
        raise ConfigError(f"join: --first-rank must be >= 0 and --ranks >= 1, got {args.first_rank} and {args.ranks}")
    return join(args.run, args.first_rank, args.ranks, args.mpirun_arg)
