"""Results of a run (the results file of docs/design.md) with table and plot helpers."""
import json
from typing import Iterable, Optional

from .errors import ConfigError

SUMMARY_COLUMNS = ["scheme", "offered", "answered", "lost", "duplicates", "accuracy", "coarse_accuracy",
                   "on_time_rate", "latency_mean_ms", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
                   "throughput_per_s", "bytes_per_sample", "exit_end", "exit_edge", "exit_cloud",
                   "rejected"]


class Results(dict):
    """A results file as a dict, plus .table(), .summary_line() and .plot()."""

    def __init__(self, data: dict, path: Optional[str] = None):
        super().__init__(data)
        self.path = path

    @classmethod
    def load(cls, path: str) -> "Results":
        with open(path) as f:
            return cls(json.load(f), path=path)

    def row(self) -> dict:
        lat, ex = self["latency_ms"], self["exit_fraction"]
        return {"scheme": self["scheme"], "offered": self["offered"], "answered": self["answered"],
                "lost": self["lost"], "duplicates": self["duplicates"], "accuracy": self["accuracy"],
                "coarse_accuracy": self["coarse_accuracy"], "on_time_rate": self["on_time_rate"],
                "latency_mean_ms": lat["mean"], "latency_p50_ms": lat["p50"], "latency_p95_ms": lat["p95"],
                "latency_p99_ms": lat["p99"], "throughput_per_s": self["throughput_per_s"],
                "bytes_per_sample": self["bytes_per_sample"], "exit_end": ex["end"], "exit_edge": ex["edge"],
                "exit_cloud": ex["cloud"], "rejected": self["crypto"]["rejected"]}

    def table(self):
        """One-row pandas DataFrame of the headline figures."""
        import pandas as pd
        return pd.DataFrame([self.row()], columns=SUMMARY_COLUMNS)

    def label_accuracy(self) -> dict:
        """Accuracy per declared label set, finest first (e.g. {"fine": .., "coarse": ..})."""
        return dict(self.get("label_accuracy") or {})

    def summary_line(self) -> str:
        r = self.row()
        coarser = ", ".join(f"{name} {_fraction(value)}" for name, value in list(self.label_accuracy().items())[1:])
        return (f"{r['scheme']}: {r['answered']}/{r['offered']} answered, lost {r['lost']}, "
                f"acc {_fraction(r['accuracy'])}{f' ({coarser})' if coarser else ''}, "
                f"p50 {_ms(r['latency_p50_ms'])} p99 {_ms(r['latency_p99_ms'])}, "
                f"{r['bytes_per_sample']:.1f} B/sample, exits end/edge/cloud "
                f"{r['exit_end']:.2f}/{r['exit_edge']:.2f}/{r['exit_cloud']:.2f}")

    def requests(self):
        """pandas DataFrame of every request's record (runs with record_requests=True):
        id, origin, sample (its test-split image), arrival_ms and answered_ms on the
        coordinator's clock (answers 0: never answered; arrival_ms -1: lost with its end
        device), exit, labels and predictions, bytes_up, answers, resends (overdue work
        sent again), lost_with_device, plus latency_ms (NaN when unanswered)."""
        import pandas as pd
        if "requests" not in self:
            raise ConfigError("results: no per-request records (run with record_requests=True)")
        frame = pd.DataFrame(self["requests"])
        frame["latency_ms"] = (frame["answered_ms"] - frame["arrival_ms"]).where(frame["answers"] > 0)
        return frame

    def plot(self, ax=None):
        """Bar chart of latency percentiles."""
        return plot_comparison([self], ax=ax)


def _ms(value) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _fraction(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def compare(results: Iterable[Results]):
    """Side-by-side DataFrame of several runs."""
    import pandas as pd
    return pd.DataFrame([r.row() for r in results], columns=SUMMARY_COLUMNS)


def _plot_label_accuracy(ax, results) -> None:
    """Accuracy per scheme, one bar per declared label set (finest first)."""
    sets = list(results[0].label_accuracy()) or ["accuracy"]
    width = 0.8 / len(sets)
    heights = {name: [r.label_accuracy().get(name, r["accuracy"] if name == "accuracy" else None) or 0
                      for r in results] for name in sets}
    for i, name in enumerate(sets):
        ax.bar([j + i * width for j in range(len(results))], heights[name], width, label=name)
    ax.set_xticks([j + width * (len(sets) - 1) / 2 for j in range(len(results))], [r["scheme"] for r in results])
    ax.set_ylim(max(0.0, min(min(h) for h in heights.values()) - 0.05), 1.0)
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8)


def plot_comparison(results, ax=None, path: Optional[str] = None):
    """Latency percentiles (log scale) and accuracy per scheme; saved to `path` if given.
    Uses whatever matplotlib backend is active (inline in a notebook, Agg headless)."""
    import matplotlib.pyplot as plt
    rows = [r.row() for r in results]
    fig = None
    if ax is None:
        fig, (ax, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    else:
        ax_acc = None
    width = 0.25
    for i, key in enumerate(["latency_p50_ms", "latency_p95_ms", "latency_p99_ms"]):
        ax.bar([j + i * width for j in range(len(rows))], [r[key] or 0 for r in rows], width,
               label=key.split("_")[1])
    ax.set_xticks([j + width for j in range(len(rows))], [r["scheme"] for r in rows])
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms)")
    ax.legend()
    if ax_acc is not None:
        _plot_label_accuracy(ax_acc, list(results))
    if fig is not None and path:
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    return ax
