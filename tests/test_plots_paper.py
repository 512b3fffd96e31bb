"""Figures of notebooks 04-06 and the paper's figures (mlib.plots), the
published Fig. 3 values, and the analysis helpers they use."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mlib.analysis import pose_errors, predicted_views, relative_pair_distances, weighted_terms  # noqa: E402
from mlib.data.datasets import CropStore  # noqa: E402
from mlib.losses import LossWeights  # noqa: E402
from mlib.paper_results import FIG3_SEMI_SUPERVISED, TABLE1_ALL_LABELS_MM  # noqa: E402
from mlib.plots import (  # noqa: E402
    plot_embedding_thumbnails,
    plot_error_vs_n,
    plot_pose_panels,
    plot_semi_supervised_comparison,
    plot_term_scale,
    plot_view_grid,
    plot_worst_frames,
    show_crop,
)


@pytest.fixture
def store() -> CropStore:
    return CropStore.random(6, 16, seed=0)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def gt_of(store: CropStore) -> np.ndarray:
    from mlib.data.camera import EVAL_JOINTS

    return store.joints[:, 0][:, EVAL_JOINTS].numpy()


def images(fig) -> list:
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def test_fig3_read_off_end_points_agree_with_table1():
    for method, mm in TABLE1_ALL_LABELS_MM.items():
        n, last = FIG3_SEMI_SUPERVISED[method][1][-1]
        assert n > 70000 and last == pytest.approx(mm, abs=0.05), method
    for _, points in FIG3_SEMI_SUPERVISED.values():
        ns = [n for n, _ in points]
        assert ns == sorted(ns)  # drawn left to right


def test_semi_supervised_comparison_draws_every_method_and_ours():
    ax = plot_semi_supervised_comparison({"Full": {10: 30.0, 100: 25.0, "all": 20.0}}, n_all=1500)
    lines = ax.get_lines()
    assert len(lines) == len(FIG3_SEMI_SUPERVISED) + 1
    assert list(lines[-1].get_xdata()) == [10, 100, 1500]  # 'all' at its real n
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


def test_error_vs_n_draws_all_at_its_real_n():
    ax = plot_error_vs_n({"A": {10: (30.0, 0.0, 1), "all": (20.0, 0.0, 1)}}, n_all=5000)
    xs = ax.get_lines()[0].get_xdata()
    assert list(xs) == [10, 5000]


def test_error_vs_n_with_one_n_draws_one_dot_per_variant_with_data_side_by_side():
    nan = float("nan")
    table = {
        "Synth only": {100: (18.25, 0.27, 3)},
        "Real only": {100: (29.36, 0.47, 3)},
        "Real+Synth": {100: (16.95, 0.21, 3)},
        "Distr. Match": {},  # no cell at all
        "View Pred.": {100: (16.99, nan, 1)},  # one seed: no spread
        "Full": {100: (nan, nan, 1)},  # no finite error
    }
    ax = plot_error_vs_n(table, title="t", n_all=10000)
    drawn = ["Synth only", "Real only", "Real+Synth", "View Pred."]
    assert len(ax.containers) == len(drawn)  # one errorbar artist per variant with data
    has_bar = [c.has_yerr and len(c.lines[2]) == 1 for c in ax.containers]
    assert has_bar == [True, True, True, False]  # a bar exactly where a spread is given
    segments = ax.containers[2].lines[2][0].get_segments()[0]
    assert segments[:, 1] == pytest.approx([16.95 - 0.21, 16.95 + 0.21])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == drawn  # the legend: only what is drawn
    xs = [float(c.lines[0].get_xdata()[0]) for c in ax.containers]
    assert xs == [0.0, 1.0, 2.0, 3.0]  # side by side, not on top of each other
    ys = [float(c.lines[0].get_ydata()[0]) for c in ax.containers]
    assert ys == [18.25, 29.36, 16.95, 16.99]
    assert [t.get_text() for t in ax.get_xticklabels()] == drawn
    assert ax.get_xscale() == "linear" and "n = 100" in ax.get_xlabel()


def test_error_vs_n_with_several_n_keeps_one_curve_per_variant():
    table = {
        "A": {10: (30.0, 1.0, 3), 100: (20.0, 0.5, 3)},
        "B": {10: (28.0, float("nan"), 1), 100: (21.0, float("nan"), 1)},
        "C": {},
    }
    ax = plot_error_vs_n(table, title="t", n_all=5000)
    assert [list(c.lines[0].get_xdata()) for c in ax.containers] == [[10, 100], [10, 100]]
    assert [c.has_yerr for c in ax.containers] == [True, False]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]
    assert ax.get_xscale() == "log"


def test_show_crop_in_mm_with_a_labelled_colour_bar(store):
    fig, ax = plt.subplots()
    im = show_crop(ax, store.real[0], 300.0, "t")
    assert im.get_clim() == (-150.0, 150.0)
    assert np.allclose(im.get_array(), store.real[0].float().numpy() * 150, atol=1e-3)
    bars = [a for a in fig.axes if a is not ax]
    assert len(bars) == 1 and "mm" in bars[0].get_ylabel()


def test_pose_panels_one_skeleton_per_panel_and_the_crop_frame_kept(store):
    gt = gt_of(store)
    far = gt + 5000.0  # a prediction far outside the crop must not zoom the panel out
    err = np.full((len(store), 14), 7.0)
    fig = plot_pose_panels(store, [1, 3], {"ground truth": gt, "MURAUER": far}, {"MURAUER": err}, title="T")
    panels = images(fig)
    assert len(panels) == 4
    assert all(ax.get_title() for ax in panels)
    assert "mean 7, max 7 mm" in panels[1].get_title()
    for ax in panels:
        assert ax.get_xlim() == pytest.approx((-0.5, 15.5))
    # each panel carries exactly one skeleton: 13 bones
    assert all(len(ax.get_lines()) == 13 for ax in panels)


def test_worst_frames_are_those_with_the_largest_max_error(store):
    gt = gt_of(store)
    err = np.zeros((len(store), 14))
    err[4, 2], err[1, 0], err[5, 9] = 90.0, 80.0, 10.0
    err[:, 5] += 1.0
    fig = plot_worst_frames(store, gt, gt, err, k=2, by="max")
    titles = [ax.get_title() for ax in images(fig)]
    assert titles[0].startswith("frame 4: max 90 mm") and titles[1].startswith("frame 1: max 80 mm")


def test_view_grid_titles_every_panel(store):
    a = store.real[:2].numpy()
    fig = plot_view_grid([0, 1], {"input": (a, a), "view": (a, a)}, np.array([300.0, 300.0]))
    panels = images(fig)
    assert len(panels) == 8 and all(ax.get_title() for ax in panels)


def test_embedding_thumbnails_places_n_crops(store):
    from matplotlib.offsetbox import AnnotationBbox

    pts = np.random.default_rng(0).normal(size=(12, 2))
    crops = torch.cat([store.real, store.synth[:, 0]])
    ax = plot_embedding_thumbnails(pts, np.r_[np.ones(6), np.zeros(6)], crops, n_thumbs=5)
    boxes = [a for a in ax.artists if isinstance(a, AnnotationBbox)]
    assert len(boxes) == 5
    assert len({tuple(b.xy) for b in boxes}) == 5  # five different points


def test_weighted_terms_weights_each_term_and_skips_absent_ones():
    hist = [
        {"stage": 1, "pose": 1e6},
        {"stage": 2, "pose": 100.0, "corr": 10.0, "adv": 2.0},
        {"stage": 2, "pose": 300.0, "corr": 30.0, "adv": 4.0},
    ]
    w = LossWeights(lambda_c=0.2, lambda_g=1e-4, lambda_m=1e-5)
    out = weighted_terms(hist, w)
    assert out == pytest.approx({"L_p": 200.0, "λc·L_c": 4.0, "λm·L_m": 3e-5})
    ax = plot_term_scale(out)
    assert ax.get_xscale() == "log" and ax.get_ylabel()


def test_relative_pair_distances():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 8))
    assert np.allclose(relative_pair_distances(z, z), 0.0)
    other = rng.normal(size=(200, 8))
    assert np.median(relative_pair_distances(z, other)) == pytest.approx(1.0, abs=0.15)
    with pytest.raises(ValueError):
        relative_pair_distances(z[:1], z[:1])


def test_pose_errors_and_predicted_views_shapes(store):
    from mlib.cells import build_model
    from mlib.presets import model_config

    model, _ = build_model(model_config("ci"), 0, torch.device("cpu"), crop_size=store.crop_size)
    gt, pred, err = pose_errors(model, store, True, "cpu")
    assert gt.shape == pred.shape == (len(store), 14, 3) and err.shape == (len(store), 14)
    assert np.allclose(err, np.linalg.norm(pred - gt, axis=-1), atol=1e-3)
    v = predicted_views(model, store, [0, 2], "real", "cpu")
    assert v.shape == (2, 16, 16) and np.abs(v).max() <= 1.0
    assert model.training  # restored


def test_show_crop_without_a_cube_draws_normalised_units(store):
    fig, ax = plt.subplots()
    im = show_crop(ax, store.real[0])
    assert im.get_clim() == (-1.0, 1.0)
    bars = [a for a in fig.axes if a is not ax]
    assert len(bars) == 1 and "normalised" in bars[0].get_ylabel()


def test_joint_pixels_of_a_store_frame_put_the_palm_centre_mid_crop(store):
    from mlib.data.camera import PALM_CENTRE

    centre = store.joints[2, 0, PALM_CENTRE].numpy()[None]
    px = store.joint_pixels(2, centre)
    assert px.shape == (1, 2) and np.allclose(px, (store.crop_size - 1) / 2)


def test_the_room_figure_draws_each_n_with_the_floor_the_room_and_the_paper_gain():
    from mlib.plots import plot_room

    def cell(v, n, real, render):
        return {"variant": v, "n_labeled": n, "mean_error_mm": real, "std_error_mm": 0.1, "synthetic_frames_error_mm": render}

    cells = [cell("synth_only", n, 18.0, 13.0) for n in (10, 100)]
    cells += [cell("real_only", n, 40.0, None) for n in (10, 100)]
    cells += [cell(v, n, 16.0 + (n == 10), 15.0) for v in ("real_synth", "full") for n in (10, 100)]
    names = {"synth_only": "Synth only", "real_only": "Real only", "real_synth": "Real+Synth", "full": "Full"}
    fig = plot_room(cells, names, {100: 0.5})
    assert len(fig.axes) == 2
    for ax in fig.axes:  # Real only never read a render: it has no room onto the stage-1 predictor
        assert [t.get_text() for t in ax.get_xticklabels()] == ["Real+Synth", "Full"]
        assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [13.0]
        assert sorted(t.get_text() for t in ax.texts) == (["4.0", "4.0"] if ax.get_title() == "n = 10" else ["3.0", "3.0"])
    stars = [line for ax in fig.axes for line in ax.lines if line.get_marker() == "*"]
    assert len(stars) == 1 and stars[0].get_ydata()[0] == 8.0  # Real+Synth's 16 mm with the paper's gain of 0.5


def test_the_room_labels_sit_above_the_error_bars_and_one_run_has_none():
    from matplotlib.container import ErrorbarContainer

    from mlib.plots import plot_room

    def cells(std):
        return [{"variant": v, "n_labeled": 100, "mean_error_mm": real, "std_error_mm": std, "synthetic_frames_error_mm": 13.0}
                for v, real in (("synth_only", 18.0), ("real_synth", 16.0), ("full", 17.0))]  # fmt: skip

    names = {"synth_only": "Synth only", "real_synth": "Real+Synth", "full": "Full"}
    ax = plot_room(cells(0.8), names).axes[0]
    assert sorted(t.xy[1] for t in ax.texts) == [16.8, 17.8]  # at the top of each bar's error bar
    has_error_bars = lambda ax: any(isinstance(c, ErrorbarContainer) for c in ax.containers)  # noqa: E731
    assert has_error_bars(ax)
    ax = plot_room(cells(None), names).axes[0]  # one seed: no spread, so no error bars
    assert not has_error_bars(ax) and sorted(t.xy[1] for t in ax.texts) == [16.0, 17.0]
