"""The `hddnn` command line. Each subcommand lives in its own module with a
`register(subparsers)` that adds its parser and sets `func(args) -> int`."""
import argparse
import sys

from . import data, info, keygen, map, run, sim, train

SUBCOMMANDS = [info, data, train, map, run, sim, keygen]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hddnn", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv=None) -> int:
    from ..errors import HddnnError
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except HddnnError as error:
        print(f"hddnn {args.command}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
