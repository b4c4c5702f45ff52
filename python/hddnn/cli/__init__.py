"""The `hddnn` command line. Each subcommand lives in its own module with a
`register(subparsers)` that adds its parser and sets `func(args) -> int`."""
import argparse
import sys

from . import data, info, join, keygen, map, profile, run, sim, train

SUBCOMMANDS = [info, data, train, profile, map, run, join, sim, keygen]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hddnn", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv=None) -> int:
    from ..errors import HddnnError
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # a subcommand that relaunches itself (train --ranks) passes them on
    try:
        return args.func(args) or 0
    except HddnnError as error:
        print(f"hddnn {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
