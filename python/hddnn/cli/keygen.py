"""hddnn keygen: write the cluster secret that seals a run's traffic."""


def register(subparsers):
    parser = subparsers.add_parser("keygen", help="write a cluster key file (mode 0600) for sealed transport")
    parser.add_argument("--out", required=True, help="key file to write, e.g. cluster.key")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..crypto import keygen
    path = keygen(args.out, overwrite=args.force)
    print(f"wrote cluster key {path} (mode 0600); give every rank of the run the same file")
    return 0
