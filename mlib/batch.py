"""Kernel-side setup of a batch run (`mlib.series` starts every kernel with `install()`).

Two things change in a kernel that runs a notebook unattended:

* progress bars: `tqdm.auto` would draw ipywidgets, which are saved frozen at their first state
  ("0/300") because no live kernel updates them later. After `install()` it draws text bars
  (stdout, refreshed at most every few seconds) that end at their final state;
* figures: every figure the notebook displays carries, beside its PNG, a small JSON record of what
  its axes show (titles, axis labels, whether a panel is an image, colour-bar labels), under the
  MIME type `FIGURE_RECORD_MIME`. Notebook viewers ignore that type; `mlib.series.check_executed`
  reads it to flag a figure without a title or axis labels;
* claims: a displayed `mlib.claims.Claim` or `ClaimTable` carries its records (`Claim.record`) under
  `CLAIM_RECORD_MIME`, which `mlib.series` collects into the run's claims table.
"""

from __future__ import annotations

import sys

FIGURE_RECORD_MIME = "application/vnd.mlib.figure-record+json"
CLAIM_RECORD_MIME = "application/vnd.mlib.claim-record+json"  # {"claims": [Claim.record(), ...]}
TEXT_BAR_INTERVAL_S = 5.0  # seconds between two refreshes of a text bar (a saved notebook keeps each one)
TEXT_BAR_FORMAT = "{l_bar}{bar:20}{r_bar}"  # the bar itself 20 characters wide
TEXT_BAR_MAX_COLUMNS = 1000


def _axis_label(ax, which: str) -> str:
    """The label a reader sees for one axis: its own, or that of an axes sharing it (subplots with
    sharex/sharey usually label only the outer panels)."""
    own = getattr(ax, f"get_{which}label")()
    if own or which == "z":
        return own
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    return next((s for s in (getattr(o, f"get_{which}label")() for o in group.get_siblings(ax)) if s), "")


def axes_record(ax) -> dict:
    """What one axes shows, as plain data (see `figure_record`)."""
    colorbar = getattr(ax, "_colorbar", None)
    if colorbar is not None:
        label = ax.get_ylabel() if colorbar.orientation == "vertical" else ax.get_xlabel()
        return {"colorbar": True, "label": label}
    has_data = bool(ax.lines or ax.collections or ax.patches or ax.images or ax.tables)
    three_d = ax.name == "3d"
    return {
        "colorbar": False,
        "title": " ".join(t for t in (ax.get_title(loc) for loc in ("left", "center", "right")) if t),
        "xlabel": _axis_label(ax, "x"),
        "ylabel": _axis_label(ax, "y"),
        "zlabel": ax.get_zlabel() if three_d else None,
        "has_data": has_data and ax.get_visible(),
        "image": bool(ax.images),
        # an image panel shown without a coordinate frame needs a title only
        "frameless": (not ax.axison) or (not three_d and len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0),
    }


def figure_record(fig) -> dict:
    """Title and per-axes facts of a matplotlib figure, recorded when it is displayed."""
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    return {"suptitle": suptitle, "axes": [axes_record(ax) for ax in fig.get_axes()]}


def text_bars() -> None:
    """Make `tqdm.auto` (and `tqdm.autonotebook`) hand out text bars on stdout; modules importing
    `from tqdm.auto import tqdm` after this call get them."""
    import tqdm.asyncio
    import tqdm.auto
    import tqdm.autonotebook

    class TextBar(tqdm.asyncio.tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("file", sys.stdout)
            kwargs.setdefault("mininterval", TEXT_BAR_INTERVAL_S)
            # A bar of fixed width and no line limit: tqdm cuts a line at `ncols`, which would cut the
            # postfix of loss terms mid-word; a generous limit keeps it whole whatever width tqdm detects.
            kwargs.setdefault("bar_format", TEXT_BAR_FORMAT)
            kwargs.setdefault("ncols", TEXT_BAR_MAX_COLUMNS)
            super().__init__(*args, **kwargs)

    def trange(*args, **kwargs):
        return TextBar(range(*args), **kwargs)

    for module in (tqdm.auto, tqdm.autonotebook):
        module.tqdm, module.trange = TextBar, trange


def register_record(mime: str, types: tuple, record, shell=None) -> None:
    """Have IPython display a `record(obj)` dict under `mime` for objects of `types`, beside their usual
    forms (no-op outside IPython). Viewers ignore the type; `mlib.series` reads it back."""
    from IPython import get_ipython
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    shell = shell or get_ipython()
    if shell is None:
        return

    class RecordFormatter(BaseFormatter):
        format_type = Unicode(mime)
        print_method = ObjectName("_mlib_record_")  # no object has it: only `for_type` entries count
        _return_type = dict

    formatter = RecordFormatter(parent=shell.display_formatter)
    for kind in types:
        formatter.for_type(kind, record)
    shell.display_formatter.formatters[mime] = formatter


def record_figures(shell=None) -> None:
    """Register the figure recorder. It is registered for Figure's base class: activating the inline
    backend removes every formatter's entry for Figure itself (IPython's select_figure_formats), and
    lookups follow the class's MRO."""
    from matplotlib.figure import FigureBase

    register_record(FIGURE_RECORD_MIME, (FigureBase,), figure_record, shell)


def claim_records(claims) -> dict:
    """The records of one claim or a table of them, as `CLAIM_RECORD_MIME` carries them."""
    from mlib.claims import Claim

    return {"claims": [claims.record()] if isinstance(claims, Claim) else claims.records()}


def record_claims(shell=None) -> None:
    """Register the claim recorder for single claims and claim tables."""
    from mlib.claims import Claim, ClaimTable

    register_record(CLAIM_RECORD_MIME, (Claim, ClaimTable), claim_records, shell)


def install() -> None:
    """Everything a batch kernel needs; `mlib.series` runs it before the first cell."""
    text_bars()
    record_figures()
    record_claims()
