"""Measures and figures of notebooks 01-03: view-prediction measures (mlib.analysis) and figures (mlib.plots)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

from mlib.analysis import mean_view, view_mae, view_prediction_report
from mlib.data.datasets import CropStore, make_batch
from mlib.models import Murauer
from mlib.plots import plot_errors_with_baseline, plot_four_set_batch, plot_probe_and_mixing, show_crop_grid
from mlib.presets import model_config


def test_view_mae_per_frame():
    a = np.zeros((3, 4, 4))
    b = np.zeros((3, 4, 4))
    b[1] = 0.5
    b[2, 0, 0] = 1.6
    np.testing.assert_allclose(view_mae(a, b), [0.0, 0.5, 0.1])


def test_mean_view_is_the_average_side_view():
    store = CropStore.random(10, 8, seed=0)
    np.testing.assert_allclose(mean_view(store, "real"), store.real_view.float().mean(0).numpy(), rtol=1e-6)
    np.testing.assert_allclose(mean_view(store, "synth"), store.synth[:, 1].float().mean(0).numpy(), rtol=1e-6)


class _Copy(torch.nn.Module):
    """A stand-in model whose g returns the side view of the frame it was given (a perfect decoder)."""

    def __init__(self, store):
        super().__init__()
        self.store = store
        self.g = self._g

    def latent(self, x, real):
        return x.flatten(1)

    def _g(self, z, centre):
        # look up which frame this is by its camera-1 crop, then return its side view
        real = self.store.real.float().flatten(1)
        synth = self.store.synth[:, 0].float().flatten(1)
        out = []
        for row in z:
            i = int(torch.argmin((real - row).abs().sum(1)))
            j = int(torch.argmin((synth - row).abs().sum(1)))
            if (real[i] - row).abs().sum() <= (synth[j] - row).abs().sum():
                out.append(self.store.real_view[i].float())
            else:
                out.append(self.store.synth[j, 1].float())
        return torch.stack(out)[:, None]


def test_view_report_a_perfect_decoder_follows_the_pose():
    store = CropStore.random(12, 8, seed=1)
    r = view_prediction_report(_Copy(store), store, store, torch.arange(12))
    for dom in ("real", "synth"):
        assert r[dom]["own frame"] < 1e-3
        assert r[dom]["other frame"] > 0.1  # random crops: another frame's view differs
        assert abs(r[dom]["sharpness predicted"] - r[dom]["sharpness captured"]) < 1e-3


def test_view_report_a_constant_decoder_does_not():
    store = CropStore.random(12, 8, seed=2)
    model = Murauer(model_config("ci", crop_size=8, latent_dim=8, pose_hidden=8))
    for prm in model.g.parameters():
        torch.nn.init.zeros_(prm)  # g outputs tanh(0) = 0 for every input
    r = view_prediction_report(model, store, store, torch.arange(12))
    for dom in ("real", "synth"):
        assert abs(r[dom]["own frame"] - r[dom]["other frame"]) < 1e-9  # the same image for every frame
        assert r[dom]["sharpness predicted"] == 0.0


def _labelled(fig):
    assert fig._suptitle is not None or all(ax.get_title() for ax in fig.axes)


def test_figures_have_titles_labels_and_colour_bars_in_mm():
    store = CropStore.random(16, 8, seed=3)
    rows = [[store.real[i] for i in range(3)], [store.real[i] for i in range(3, 5)]]  # a short last row
    fig = show_crop_grid(rows, [[f"c{i}" for i in range(3)], ["c3", "c4"]], 300.0, "grid")
    _labelled(fig)
    bars = [ax for ax in fig.axes if ax.get_ylabel() == "depth from crop centre (mm)"]
    assert len(bars) == 2  # one per row
    pixels = [[np.zeros((14, 2))] * 3, [np.zeros((14, 2))] * 2]
    fig = show_crop_grid(rows, [["a"] * 3, ["b"] * 2], np.full((2, 3), 300.0), "poses", poses={"gt": ("lime", pixels)})
    panels = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert len(panels) == 5 and all(len(ax.get_lines()) == 13 for ax in panels)  # a skeleton on every crop
    sets = {"pairs": torch.arange(2), "real": torch.arange(2), "synth": torch.arange(3), "unlabeled": torch.arange(4)}
    fig = plot_four_set_batch(make_batch(store, sets), 300.0, per_set=2)
    title = fig._suptitle.get_text()  # four sets (appendix A.1); the pairs of set 1 take two rows
    assert "4 sets" in title and "set 1: 2 pairs" in title and "set 4: 4 crops" in title
    assert sum(ax.get_ylabel().startswith("set 4 · unlabeled real") for ax in fig.axes) == 1
    assert sum(ax.get_ylabel().startswith("set 1 ·") for ax in fig.axes) == 2
    ax = plot_errors_with_baseline({"a": 10.0, "b": 20.0}, 30.0)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert ax.get_xlim()[1] > 30.0  # the baseline line is inside the axes
    fig = plot_probe_and_mixing({"a": 0.9, "b": 0.7}, {"a": 0.1, "b": 0.3})
    probe_ax, mix_ax = fig.axes
    assert probe_ax.get_xlim() == (0.5, 1.0) and mix_ax.get_xlim()[0] == 0.0 and mix_ax.get_xlim()[1] >= 0.5
    fig = plot_probe_and_mixing({"a": 0.9}, {"a": 0.56})  # above 0.5: the bar stays inside the axes
    assert fig.axes[1].get_xlim()[1] > 0.56
    plt.close("all")


def test_architecture_figure_names_every_module_set_and_term():
    from mlib.plots import plot_architecture, sets_reading
    from mlib.presets import TRAIN

    assert sets_reading("Lg") == [3, 4] and sets_reading("Lc") == [1] and sets_reading("Lm") == [1, 2, 4]
    counts = {k: 1000 * (i + 1) for i, k in enumerate("fpmhg")}
    fig = plot_architecture(counts, {1: 16, 2: 16, 3: 16, 4: 16}, TRAIN["ci"].weights)
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    for needle in ("encoder", "mapping", "pose head", "discriminator", "view decoder"):
        assert needle in text
    for k in (1, 2, 3, 4):
        assert f"set {k} (16)" in text
    for term in ("Lp (Eq. 5)", "Lc (Eq. 8)", "Lg (Eq. 10)", "Lm (Eq. 13)", "Lh (Eq. 12)", "(Eq. 1)"):
        assert term in text
    assert fig.axes[0].get_title() and not fig.axes[0].axison  # a diagram: a title, no axes to label
    plt.close("all")


def test_lr_schedule_plot_shows_the_warm_up_of_every_iteration():
    from mlib.plots import plot_lr_schedule
    from mlib.schedule import learning_rate, scaled_iterations_per_epoch

    ipe = scaled_iterations_per_epoch(300, 1)  # the ci stage 1: 2 iterations per epoch
    rates = [learning_rate(i, 0.03, ipe) for i in range(300)]
    ax = plot_lr_schedule(rates, ipe, [{"iteration": 20, "lr": rates[20]}])
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and ax.get_yscale() == "log"
    line = ax.lines[0].get_ydata()
    assert line[0] < line[4] < line[8] and line[8] > line[-1]  # a tenth, a third, then decay
    plt.close("all")
