"""hddnn data: summary of a Fashion-MNIST split (counts, shapes, label groups)."""
import json


def register(subparsers):
    parser = subparsers.add_parser("data", help="summarise a Fashion-MNIST split")
    parser.add_argument("--split", default="train", choices=["train", "val", "test"])
    parser.add_argument("--views", default="single", choices=["single", "quadrants", "grid6"])
    parser.add_argument("--root", default=None, help="folder of the IDX .gz files")
    parser.add_argument("--seed", type=int, default=0, help="seed of the train/val split")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..datasets import summary
    print(json.dumps(summary(args.split, args.views, root=args.root, seed=args.seed), indent=2))
    return 0
