"""hddnn info: versions, BLAS, NCCL, threads and the dataset location."""


def register(subparsers):
    parser = subparsers.add_parser("info", help="print versions, BLAS, NCCL, threads, dataset")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..info import info
    for key, value in info().items():
        print(f"{key:>12}: {value}")
    return 0
