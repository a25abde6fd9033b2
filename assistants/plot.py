"""One picture of an evaluation: a score (accuracy, recall) against the cost per item, one
point per run compared, with its 95% interval as an error bar. Shared by every benchmark.

matplotlib is optional (``pip install "assistants[plots]"``) and imported only when a picture
is drawn: the text and JSON reports never need it. The figure is built with matplotlib's
object API (no pyplot, no global state, no display), as SVG or PNG by the file's suffix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import errors

__all__ = ["PLOT_SUFFIXES", "PlotPoint", "check_plot_path", "plot_runs"]

PLOT_SUFFIXES = (".svg", ".png")
INSTALL_HINT = 'pip install "assistants[plots]"'


@dataclass(frozen=True)
class PlotPoint:
    """One run: its label, cost per item (USD), score and the score's interval."""

    label: str
    cost_per_item: float
    value: float
    low: float | None = None
    high: float | None = None


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise errors.ConfigError(f"--plot needs matplotlib: {INSTALL_HINT}") from None
    return matplotlib


def check_plot_path(path: str | Path) -> Path:
    """Fail early (before any work) when a picture could not be written: matplotlib missing,
    or a suffix other than .svg/.png."""
    file = Path(path)
    if file.suffix.lower() not in PLOT_SUFFIXES:
        raise errors.InputError(
            f"--plot {file}: the picture must be .svg or .png", hint="e.g. --plot compare.svg"
        )
    _matplotlib()
    return file


def plot_runs(
    points: Sequence[PlotPoint],
    path: str | Path,
    *,
    y_label: str = "accuracy",
    title: str | None = None,
) -> Path:
    """Draw ``points`` (score against cost per item) to ``path`` (.svg or .png) and return it.
    SVG output is reproducible: no date in its metadata, fixed element ids."""
    file = check_plot_path(path)
    matplotlib = _matplotlib()
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "assistants"
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    for point in points:
        low = point.value - point.low if point.low is not None else 0.0
        high = point.high - point.value if point.high is not None else 0.0
        ax.errorbar(
            [point.cost_per_item],
            [point.value],
            yerr=[[low], [high]],
            fmt="o",
            capsize=4,
            label=point.label,
        )
    ax.set_xlabel("cost per item (USD)")
    ax.set_ylabel(y_label)
    ax.set_ylim(-0.05, 1.05)
    span = max((point.cost_per_item for point in points), default=0.0) or 1.0
    ax.set_xlim(-0.05 * span, 1.2 * span)  # whole markers at 0 (a free local model) and at the top
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    if points:
        ax.legend(loc="best", fontsize="small")
    fmt = file.suffix.lower().lstrip(".")
    metadata = {"Date": None} if fmt == "svg" else {}
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(file, format=fmt, metadata=metadata)
    except OSError as exc:
        raise errors.InputError(f"--plot {file}: cannot write ({exc.strerror or exc})") from None
    return file
