"""`hddnn profile`: re-measure a trained model's profile.json."""
import json
import os

from .. import datasets
from ..errors import ConfigError
from ..network import Network


def register(subparsers):
    p = subparsers.add_parser("profile", help="re-measure a trained model's profile.json",
                              description="Loads runs/X/checkpoint.pt, measures each section's compute on this "
                                          "host and its escalate fraction on the test split, and rewrites "
                                          "runs/X/profile.json (as `hddnn train` does after training).")
    p.add_argument("--model", required=True, help="a trained run folder (runs/X)")
    p.add_argument("--limit", type=int, default=None, help="test samples to measure escalations on (default: all)")
    p.add_argument("--data", default=None, help="the data file the model was trained on (default: Fashion-MNIST)")
    p.add_argument("--rounds", type=int, default=3,
                   help="measure this many times and keep each section's fastest (default 3)")
    p.set_defaults(func=main)


def main(args) -> int:
    checkpoint = os.path.join(args.model, "checkpoint.pt")
    if not os.path.isfile(checkpoint):
        raise ConfigError(f"{args.model}: no checkpoint.pt (train it with `hddnn train --out {args.model}`)")
    net = Network.load(checkpoint)
    if args.data:
        test = datasets.load(args.data, "test")
        test = datasets.LabelledImages(test.images[:args.limit], test.labels[:args.limit])
    else:
        test = datasets.fashion_mnist("test", net.spec.get("views", "single"), limit=args.limit)
    if args.rounds < 1:
        raise ConfigError(f"--rounds must be >= 1, got {args.rounds}")
    profile = fastest_of([net.profile(test) for _ in range(args.rounds)])
    with open(os.path.join(args.model, "profile.json"), "w") as f:
        json.dump(profile, f, indent=2)
    for section in profile["sections"]:
        print(f"{section['name']}: {section['compute_ms']['batch1']:.3f} ms batch 1, "
              f"{section['compute_ms']['batch32']:.3f} ms batch 32, escalates {section['escalate_fraction']:.3f}")
    return 0


def fastest_of(profiles):
    """The first profile with each section's compute times the fastest of all of them
    (a round that shared the host with other work only ever measured more)."""
    best = profiles[0]
    for other in profiles[1:]:
        for section, measured in zip(best["sections"], other["sections"]):
            for batch, ms in measured["compute_ms"].items():
                section["compute_ms"][batch] = min(section["compute_ms"][batch], ms)
    return best
