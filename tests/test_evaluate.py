"""The metric, the prediction file format and the published NYU numbers (mlib.evaluate)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mlib.data.camera import EVAL_JOINT_NAMES, xyz_to_uvd
from mlib.evaluate import (
    NonFiniteEvaluationError,
    evaluate_files,
    evaluate_store,
    format_table,
    joint_errors,
    load_joints,
    main,
    mean_error,
    predict_store,
    save_predictions,
    success_rate,
    summarize,
)
from mlib.plots import main as plots_main
from mlib.plots import plot_per_joint, plot_success_curves

SHARED = Path(__file__).resolve().parents[2] / "shared"
NYU_GT = SHARED / "nyu" / "nyu_test_groundtruth_label.txt"
PUBLISHED = SHARED / "nyu" / "published"

# Mean joint errors (mm) as published by each method's authors.
PUBLISHED_MEAN_MM = {
    "ICCVW17_NYU_DeepPrior++.txt": 12.24,
    "CVPR18_NYU_DeepPrior++_FM.txt": 7.44,
    "CVPR18_NYU_V2V_PoseNet.txt": 8.42,
    "CVPR18_NYU_HandPointNet.txt": 10.54,
    "CVPR17_NYU_3DCNN.txt": 14.11,
    "CVPR18_NYU_denseReg.txt": 10.21,
}


def random_hands(n: int = 50, j: int = 14, seed: int = 0) -> np.ndarray:
    """xyz (mm) of hands about 50-90 cm in front of the camera, like NYU's test frames."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform([-150, -100, 500], [150, 100, 900], size=(n, 1, 3))
    return centre + rng.normal(0, 40, size=(n, j, 3))


@pytest.fixture(scope="module")
def nyu_gt() -> np.ndarray:
    if not NYU_GT.exists():
        pytest.skip(f"NYU ground truth not found at {NYU_GT} (real data lives in ../shared, outside the repo)")
    return load_joints(NYU_GT)


# ----------------------------------------------------------------------------- metric


def test_metric_on_a_hand_computed_example():
    gt = np.zeros((2, 3, 3))
    pred = gt.copy()
    pred[0, :, 0] = [3, 4, 0]  # frame 0: errors 3, 4, 0 -> worst 4
    pred[1, 2] = [0, 30, 40]  # frame 1: errors 0, 0, 50 -> worst 50
    e = joint_errors(pred, gt)
    np.testing.assert_allclose(e, [[3, 4, 0], [0, 0, 50]])
    assert mean_error(e) == pytest.approx(57 / 6)
    np.testing.assert_allclose(success_rate(e, [3, 4, 49.9, 50]), [0, 0.5, 0.5, 1])
    s = summarize(e, thresholds=(10, 50))
    assert s["n_frames"] == 2 and s["median"] == pytest.approx(1.5)
    assert s["success_rate"] == {10: 0.5, 50: 1.0}
    assert list(s["per_joint"].values()) == pytest.approx([1.5, 2, 25])


def test_joint_errors_accepts_torch_and_returns_numpy():
    gt = random_hands()
    pred = gt + 1.0
    e = joint_errors(torch.tensor(pred, dtype=torch.float32), torch.tensor(gt))
    assert isinstance(e, np.ndarray) and e.shape == (50, 14)
    np.testing.assert_allclose(e, np.sqrt(3), rtol=1e-4)
    with pytest.raises(ValueError):
        joint_errors(pred[:, :10], gt)


def test_summary_names_the_nyu_joints_and_is_json_ready():
    s = summarize(np.ones((4, 14)))
    assert list(s["per_joint"]) == EVAL_JOINT_NAMES
    assert list(s["success_rate"]) == [10, 20, 30, 40, 50, 80]
    json.dumps(s)


class IndexModel(torch.nn.Module):
    """Reads the frame index written into each crop and answers the store's normalised targets (+ offset)."""

    def __init__(self, store, offset: float):
        super().__init__()
        self.store, self.offset, self.calls = store, offset, []

    def forward(self, x, real):
        self.calls.append((real, self.training))
        return self.store.targets(x[:, 0, 0, 0].long()) + self.offset


def test_evaluate_store_denormalises_with_the_stores_centres_and_cubes():
    from mlib.data.datasets import CropStore

    n, s = 10, 4
    rng = np.random.default_rng(0)
    store = CropStore(
        real=torch.arange(n, dtype=torch.float16).view(n, 1, 1).expand(n, s, s).clone(),
        real_view=torch.zeros(n, s, s, dtype=torch.float16),
        synth=torch.zeros(n, 3, s, s, dtype=torch.float16),
        joints=torch.tensor(rng.normal(0, 50, (n, 3, 36, 3)) + [0, 0, 700], dtype=torch.float32),
        centres=torch.tensor(rng.normal(0, 20, (n, 3, 3)) + [0, 0, 700], dtype=torch.float32),
        cube=torch.tensor([300.0] * 5 + [250.0] * 5),
        frame_ids=torch.arange(1, n + 1),
        subjects=torch.tensor([0] * 5 + [1] * 5),
        view_camera=torch.full((n,), 2),
    )
    model = IndexModel(store, offset=0.0).train()
    assert evaluate_store(model, store, through_mapping=False)["mean"] == pytest.approx(0, abs=1e-3)
    assert model.training and model.calls[-1] == (False, False)  # eval mode inside, restored after
    # an offset of 0.01 cube units along x is 1.5 mm at a 300 mm cube and 1.25 mm at 250 mm
    model.offset = torch.tensor([0.01, 0.0, 0.0])
    summary = evaluate_store(model, store, indices=[0, 9], device="cpu")
    assert summary["n_frames"] == 2 and summary["mean"] == pytest.approx(1.375, abs=1e-3)
    assert model.calls[-1][0] is True
    assert predict_store(model, store).shape == (n, 14, 3)
    # a NaN prediction or label is an error naming the frame, never a NaN "result"
    model.offset = torch.tensor([float("nan"), 0.0, 0.0])
    with pytest.raises(NonFiniteEvaluationError, match=r"model's predictions of 10 of 10 frames .* frame index 1\)"):
        evaluate_store(model, store)
    model.offset = 0.0
    store.joints[3, 0, 3, 2] = float("inf")  # joint 3 is one of the 14 evaluated
    with pytest.raises(NonFiniteEvaluationError, match=r"labels of 1 of 10 frames .* frame index 4\)"):
        evaluate_store(model, store)


# ----------------------------------------------------------------------------- files


@pytest.mark.parametrize("fmt", ["uvd", "xyz"])
def test_save_load_round_trip_is_atomic(tmp_path, fmt):
    xyz = random_hands()
    path = save_predictions(tmp_path / "pred.txt", torch.tensor(xyz), fmt=fmt)
    assert [p.name for p in tmp_path.iterdir()] == ["pred.txt"]  # no temp file left behind
    assert len(path.read_text().splitlines()) == 50 + (fmt == "xyz")  # xyz files name their format first
    np.testing.assert_allclose(load_joints(path, fmt), xyz, atol=2e-3)  # 3 decimals in the file
    assert load_joints(path, "auto").shape == (50, 14, 3)


def test_uvd_and_xyz_files_give_the_same_errors(tmp_path):
    gt, pred = random_hands(seed=1), random_hands(seed=2)
    gt_file = save_predictions(tmp_path / "gt.txt", gt, fmt="uvd")
    uvd = save_predictions(tmp_path / "uvd" / "m.txt", pred, fmt="uvd")
    xyz = save_predictions(tmp_path / "xyz" / "m.txt", pred, fmt="xyz")
    e_uvd = evaluate_files(gt_file, [uvd], fmt="uvd")["m"]
    e_xyz = evaluate_files(gt_file, [xyz], fmt="xyz")["m"]
    e_auto = evaluate_files(gt_file, [xyz], fmt="auto")["m"]
    np.testing.assert_allclose(e_uvd, e_xyz, atol=1e-2)
    np.testing.assert_array_equal(e_xyz, e_auto)


def test_separators_comments_and_blank_lines(tmp_path):
    xyz = random_hands(n=3, j=2)
    rows = [" ".join(f"{v:.4f}" for v in r) for r in xyz.reshape(3, -1)]
    text = f"# x y z per joint\n{rows[0]}\n\n{rows[1].replace(' ', ', ')}\r\n{rows[2].replace(' ', chr(9))}"
    (tmp_path / "p.txt").write_text(text)
    np.testing.assert_allclose(load_joints(tmp_path / "p.txt", "xyz", n_joints=2), xyz, atol=1e-4)


def _write_bad(tmp_path, lines: list[str]) -> Path:
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_wrong_number_of_columns_names_file_and_line(tmp_path):
    good = " ".join(["100"] * 42)
    path = _write_bad(tmp_path, [good, good, " ".join(["100"] * 41)])
    with pytest.raises(ValueError, match=r"bad\.txt, line 3: expected 42 numbers .* found 41"):
        load_joints(path)


def test_non_numeric_token_names_file_and_line(tmp_path):
    good = " ".join(["100"] * 42)
    path = _write_bad(tmp_path, [good, good.replace("100", "1O0", 1)])
    with pytest.raises(ValueError, match=r"bad\.txt, line 2: '1O0' is not a number"):
        load_joints(path)
    path = _write_bad(tmp_path, [good.replace("100", "nan", 1)])
    with pytest.raises(ValueError, match=r"bad\.txt, line 1: non-finite"):
        load_joints(path)


def test_frame_count_must_match_ground_truth(tmp_path, capsys):
    gt = save_predictions(tmp_path / "gt.txt", random_hands(n=5))
    short = save_predictions(tmp_path / "short.txt", random_hands(n=4))
    long = save_predictions(tmp_path / "long.txt", random_hands(n=6))
    with pytest.raises(ValueError, match=r"short\.txt, line 4: file ends after 4 frames, expected 5"):
        evaluate_files(gt, [short])
    with pytest.raises(ValueError, match=r"long\.txt, line 6: more frames than the 5 expected"):
        evaluate_files(gt, [long])
    # the CLI reports the same message and fails instead of printing a traceback
    assert main(["--gt", str(gt), str(long)]) == 1
    assert "long.txt, line 6" in capsys.readouterr().err


def test_an_xyz_file_says_so_and_is_scored_as_xyz_by_default(tmp_path, capsys):
    gt = random_hands(n=20)
    gt_file = save_predictions(tmp_path / "gt.txt", gt)
    xyz = save_predictions(tmp_path / "model.txt", gt + 2.0, fmt="xyz")
    assert xyz.read_text().startswith("# format: xyz")
    assert main(["--gt", str(gt_file), str(xyz), "--json"]) == 0  # no --format: the file's line decides
    assert json.loads(capsys.readouterr().out)["model"]["mean"] == pytest.approx(2 * np.sqrt(3), abs=0.01)
    np.testing.assert_allclose(load_joints(xyz), gt + 2.0, atol=2e-3)
    assert main(["--gt", str(gt_file), str(xyz), "--format", "uvd"]) == 1  # a contradiction is an error
    err = capsys.readouterr().err.strip()
    assert err == f"error: {xyz}, line 1: the file says it holds xyz values, not uvd — drop --format or pass --format xyz"


def test_a_file_without_its_format_line_is_refused_in_the_wrong_format(tmp_path, capsys):
    gt = random_hands(n=20)
    gt_file = save_predictions(tmp_path / "gt.txt", gt)
    bare = tmp_path / "bare.txt"  # xyz numbers as another tool writes them: no format line
    bare.write_text("\n".join(save_predictions(tmp_path / "x.txt", gt + 2.0, fmt="xyz").read_text().splitlines()[1:]))
    assert main(["--gt", str(gt_file), str(bare), "--json"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {bare}: read as uvd its mean error is ") and "\n" not in err
    assert err.endswith("mm, read as xyz 3.5 mm — it holds xyz values: pass --format xyz (or start the file "
                        "with '# format: xyz')")
    assert main(["--gt", str(gt_file), str(bare), "--json", "--format", "xyz"]) == 0
    assert json.loads(capsys.readouterr().out)["bare"]["mean"] == pytest.approx(2 * np.sqrt(3), abs=0.01)
    uvd = save_predictions(tmp_path / "uvd.txt", gt + 2.0)  # and the reverse
    assert main(["--gt", str(gt_file), str(uvd), "--format", "xyz"]) == 1
    assert "read as uvd 3.5 mm — it holds uvd values: pass --format uvd" in capsys.readouterr().err


def test_the_help_pages_of_evaluate_and_predict_show_their_defaults(capsys):
    from mlib.predict import main as predict_main

    for command in (main, predict_main):
        with pytest.raises(SystemExit):
            command(["--help"])
        text = " ".join(capsys.readouterr().out.split())
        if command is main:
            assert "(default: 14)" in text and "else uvd)" in text and "(default: None)" not in text
        else:
            assert "(default: auto)" in text and "(default: False)" not in text


# ----------------------------------------------------------------------------- CLI and plots


def test_cli_json_and_plot(tmp_path, capsys):
    gt = random_hands(n=20)
    gt_file = save_predictions(tmp_path / "gt.txt", gt)
    a = save_predictions(tmp_path / "method_a.txt", gt + 2.0)
    b = save_predictions(tmp_path / "method_b.txt", gt + np.random.default_rng(0).normal(0, 10, gt.shape))
    out = tmp_path / "plot.png"
    assert main(["--gt", str(gt_file), str(a), str(b), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"method_a", "method_b"}
    assert result["method_a"]["mean"] == pytest.approx(2 * np.sqrt(3), abs=0.01)
    assert result["method_a"]["success_rate"]["10"] == 1.0
    assert set(result["method_b"]["per_joint"]) == set(EVAL_JOINT_NAMES)
    assert plots_main(["--gt", str(gt_file), str(a), str(b), "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000

    assert main(["--gt", str(gt_file), str(a)]) == 0
    text = capsys.readouterr().out
    assert "method_a" in text and "3.46" in text and "PALM_3" in text and "<= 80 mm" in text


def test_figures_have_titles_units_and_legends():
    import matplotlib

    matplotlib.use("Agg")
    errors = {"a": np.full((10, 14), 5.0), "b": np.full((10, 14), 15.0)}
    ax = plot_success_curves(errors)
    assert ax.get_title() and "mm" in ax.get_xlabel() and "%" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    curve = ax.get_lines()[0].get_ydata()
    assert curve[0] == 0 and curve[-1] == 100
    ax = plot_per_joint(errors)
    assert ax.get_title() and "mm" in ax.get_ylabel() and ax.get_legend() is not None
    assert plot_success_curves({"a": errors["a"]}).get_legend() is None  # one series: no legend


def test_table_lists_every_method():
    summaries = {"a": summarize(np.full((3, 14), 5.0)), "b": summarize(np.full((3, 14), 15.0))}
    table = format_table(summaries, markdown=True)
    assert "| a | 5.00 | 5.00 | 100.0%" in table and "| b | 15.00 |" in table


# ----------------------------------------------------------------------------- real NYU data


@pytest.mark.parametrize("name", sorted(PUBLISHED_MEAN_MM))
def test_published_nyu_results_are_reproduced(nyu_gt, name):
    path = PUBLISHED / name
    if not path.exists():
        pytest.skip(f"published predictions not found at {path}")
    errors = joint_errors(load_joints(path, n_frames=len(nyu_gt)), nyu_gt)
    assert errors.shape == (8252, 14)
    assert mean_error(errors) == pytest.approx(PUBLISHED_MEAN_MM[name], abs=0.05)


def test_published_file_in_xyz_gives_the_same_errors(nyu_gt, tmp_path):
    path = PUBLISHED / "CVPR18_NYU_V2V_PoseNet.txt"
    if not path.exists():
        pytest.skip(f"published predictions not found at {path}")
    pred = load_joints(path)
    xyz_file = save_predictions(tmp_path / "v2v_xyz.txt", pred, fmt="xyz")
    e_uvd = joint_errors(pred, nyu_gt)
    e_xyz = joint_errors(load_joints(xyz_file, "xyz"), nyu_gt)
    np.testing.assert_allclose(e_xyz, e_uvd, atol=2e-3)
    # the file format keeps the projection: uvd written back equals the published numbers
    published_uvd = np.loadtxt(path).reshape(-1, 14, 3)
    np.testing.assert_allclose(xyz_to_uvd(pred), published_uvd, atol=1e-6)


# ----------------------------------------------------------------------------- mean-pose baseline (B)


def test_mean_pose_baseline_predicts_the_mean_training_pose_at_each_frames_centre():
    from mlib.data.camera import EVAL_JOINTS
    from mlib.data.crop import denormalize_joints
    from mlib.data.datasets import CropStore
    from mlib.evaluate import mean_pose_errors, mean_training_pose

    train, test = CropStore.random(50, 16, seed=1), CropStore.random(20, 16, seed=2)
    pose = mean_training_pose(train)
    assert pose.shape == (14, 3)
    assert torch.allclose(pose, train.targets(torch.arange(50)).mean(0))
    e = mean_pose_errors(train, test)
    assert e.shape == (20, 14) and np.all(e >= 0)
    # by hand for one frame: the mean pose at frame 3's centre and cube
    want = denormalize_joints(pose, test.centres[3, 0], float(test.cube[3]))
    got = np.linalg.norm(want.numpy() - test.joints[3, 0][EVAL_JOINTS].numpy(), axis=-1)
    np.testing.assert_allclose(e[3], got, rtol=1e-5)
    # the truth scores zero: a store whose every frame has the mean pose
    same = CropStore.random(5, 16, seed=3)
    same.joints[:] = same.joints[:1]
    same.centres[:] = same.centres[:1]
    assert mean_pose_errors(same, same).max() < 1e-3
