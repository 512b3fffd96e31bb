"""The series runner: parameters reach the notebooks, a hanging cell fails instead of blocking, and
`--check` flags errors, missing figures, frozen widgets and bars, and figures without title or labels."""

from pathlib import Path

import nbformat
import papermill as pm
import pytest

from mlib.series import check_executed, collapse_progress, figure_problems, parameter_value, run_series

PLOT = "import matplotlib.pyplot as plt\nplt.plot([0, 1]); plt.title('t'); plt.xlabel('x (mm)'); plt.ylabel('y (mm)')\n"


def write_notebook(path: Path, parameters: str, *bodies: str) -> None:
    """A notebook of a parameters cell and one code cell per body (cell i + 1 holds bodies[i])."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *map(nbformat.v4.new_code_cell, bodies)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def folders(tmp_path):
    src, out = tmp_path / "notebooks", tmp_path / "run"
    src.mkdir()
    return src, out


def test_batch_runs_switch_live_widgets_off_and_pass_the_preset(folders):
    src, out = folders
    body = (
        "import matplotlib.pyplot as plt\n"
        "assert live_widgets is False and preset == 'ci', (live_widgets, preset)\n"
        "plt.plot([0, 1]); plt.title('t'); plt.xlabel('x (mm)'); plt.ylabel('y (mm)'); plt.show()"
    )
    write_notebook(src / "00_a.ipynb", "preset = 'laptop'\nlive_widgets = True", body)
    times = run_series("ci", out, out / "data", kernel="python3", notebook_dir=src)
    assert list(times) == ["00_a.ipynb"]
    assert check_executed(out / "00_a.ipynb") == []


def test_check_flags_error_outputs_and_missing_figures(folders):
    src, out = folders
    write_notebook(src / "00_a.ipynb", "preset = 'ci'", "print('no figure here')")
    run_series("ci", out, out / "data", kernel="python3", notebook_dir=src)
    assert check_executed(out / "00_a.ipynb") == ["00_a.ipynb: shows no figure"]


def test_a_cell_past_the_timeout_stops_the_series(folders):
    src, out = folders
    write_notebook(src / "00_a.ipynb", "preset = 'ci'", "import time\ntime.sleep(60)")
    with pytest.raises(TimeoutError):
        run_series("ci", out, out / "data", kernel="python3", notebook_dir=src, cell_timeout=3)


def test_the_data_source_reaches_the_notebooks_that_declare_it(folders):
    src, out = folders
    plot = PLOT + "plt.show()\n"
    # 00 and 07 have an nyu_dir of their own (real NYU files), which the data source must not overwrite
    write_notebook(
        src / "00_a.ipynb",
        "preset = 'ci'\nnyu_dir = 'own'",
        plot + "assert 'dataset' not in globals() and nyu_dir == 'own'",
    )
    write_notebook(
        src / "01_b.ipynb", "preset = 'ci'\ndataset = 'generated'\nnyu_dir = None", plot + "assert dataset == 'nyu'"
    )
    run_series("ci", out, out / "data", kernel="python3", notebook_dir=src, extra={"dataset": "nyu", "nyu_dir": "/x"})
    assert check_executed(out / "00_a.ipynb") == [] and check_executed(out / "01_b.ipynb") == []


def test_explicit_parameters_reach_every_notebook_that_declares_them(folders):
    src, out = folders
    plot = PLOT + "plt.show()\n"
    write_notebook(src / "00_a.ipynb", "preset = 'ci'\nnyu_dir = 'own'", plot + "assert nyu_dir == '/missing', nyu_dir")
    write_notebook(src / "07_b.ipynb", "preset = 'ci'", plot + "assert 'nyu_dir' not in globals()")
    run_series("ci", out, out / "data", kernel="python3", notebook_dir=src, params={"nyu_dir": "/missing"})
    assert check_executed(out / "00_a.ipynb") == [] and check_executed(out / "07_b.ipynb") == []
    assert [parameter_value(v) for v in ("3", "0.5", "False", "None", "/x")] == [3, 0.5, False, None, "/x"]


# ----------------------------------------------------------------------------- the output check


def test_a_progress_bar_is_saved_once_at_its_final_state(tmp_path):
    """Consecutive streams are joined and each line keeps what its last carriage return left."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x")]
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="start\n\rx:   0%| | 0/30 [00:00<?]"),
        nbformat.v4.new_output("stream", name="stderr", text="\rx: 100%|#| 30/30 [00:01<00:00]\ndone\n"),
        nbformat.v4.new_output("stream", name="stdout", text="printed\n"),
    ]
    nbformat.write(nb, tmp_path / "nb.ipynb")
    collapse_progress(tmp_path / "nb.ipynb")
    outputs = nbformat.read(tmp_path / "nb.ipynb", as_version=4).cells[0].outputs
    assert [(o.name, o.text) for o in outputs] == [
        ("stderr", "start\nx: 100%|#| 30/30 [00:01<00:00]\ndone\n"), ("stdout", "printed\n")
    ]


def panel(**kw) -> dict:
    base = {"colorbar": False, "title": "t", "xlabel": "x (mm)", "ylabel": "y (mm)", "zlabel": None}
    return base | {"has_data": True, "image": False, "frameless": False} | kw


def test_figure_rules_on_records():
    assert figure_problems({"suptitle": "", "axes": [panel()]}) == []
    # a figure title stands in for the panels' titles, not for their axis labels
    assert figure_problems({"suptitle": "S", "axes": [panel(title=""), panel(title="")]}) == []
    assert figure_problems({"suptitle": "", "axes": [panel(title="", xlabel="")]}) == [
        "has no title (neither a figure title nor one on every panel)",
        "panel 1: no x-axis label",
    ]
    frameless = panel(title="", xlabel="", ylabel="", image=True, frameless=True)
    assert figure_problems({"suptitle": "S", "axes": [frameless]}) == ["panel 1: an image without axes needs a title"]
    assert figure_problems({"suptitle": "", "axes": [panel(zlabel="")]}) == ["panel 1 't': no z-axis label"]
    # empty panels (no data) need nothing; a colour bar needs its units
    bar = {"colorbar": True, "label": ""}
    assert figure_problems({"suptitle": "", "axes": [panel(), panel(title="", xlabel="", has_data=False), bar]}) == [
        "a colour bar has no label (its units)"
    ]


CLEAN_FIGURES = """import numpy as np
import matplotlib.pyplot as plt
from tqdm.notebook import tqdm as widget_bar
from tqdm.auto import tqdm
import mlib.train
assert not issubclass(mlib.train.tqdm, widget_bar), mlib.train.tqdm  # the trainer's bars are text too
for _ in tqdm(range(30), desc="stage 1"):
    pass
fig, axes = plt.subplots(2, 2, sharex=True)
axes[0, 0].plot([0, 1]); axes[0, 0].set_title("a"); axes[0, 0].set_ylabel("error (mm)")
axes[1, 0].plot([0, 1]); axes[1, 0].set_title("b"); axes[1, 0].set_ylabel("error (mm)")
axes[1, 0].set_xlabel("iteration")  # labels the shared x axis of the column
im = axes[0, 1].imshow(np.zeros((4, 4))); axes[0, 1].set_axis_off(); axes[0, 1].set_title("crop")
fig.colorbar(im, ax=axes[0, 1], label="depth (mm)")
axes[1, 1].imshow(np.zeros((4, 4))); axes[1, 1].set_xticks([]); axes[1, 1].set_yticks([])
axes[1, 1].set_title("another crop")
plt.show()
ax = plt.figure().add_subplot(projection="3d")
ax.plot([0, 1], [0, 1], [0, 1]); ax.set(title="3d", xlabel="x (mm)", ylabel="y (mm)", zlabel="z (mm)")
plt.show()
"""


def test_a_clean_notebook_passes_and_its_text_bar_is_saved_at_its_end(folders):
    src, out = folders
    write_notebook(src / "00_a.ipynb", "preset = 'ci'", CLEAN_FIGURES)
    run_series("ci", out, out / "data", kernel="python3", notebook_dir=src)
    assert check_executed(out / "00_a.ipynb") == []
    cell = nbformat.read(out / "00_a.ipynb", as_version=4).cells[-1]
    assert [o.output_type for o in cell.outputs] == ["stream", "display_data", "display_data"]
    assert "30/30" in cell.outputs[0].text and "\r" not in cell.outputs[0].text and "| 0/30" not in cell.outputs[0].text
    assert len(list((out / "figures").glob("00_a_*.png"))) == 2


PROBLEMS = [  # (cell body, the problem the check must name for it)
    (
        "from IPython.display import display\n"
        "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'x', 'version_major': 2, "
        "'version_minor': 0}, 'text/plain': 'stage 1:   0%|  | 0/300'}, raw=True)",
        "a widget output, saved frozen",
    ),
    ("from tqdm.auto import tqdm\nbar = tqdm(total=300, desc='stage 1')\nbar.refresh()", "stopped at 0/300"),
    ("import matplotlib.pyplot as plt\nplt.plot([0, 1]); plt.xlabel('x (mm)'); plt.ylabel('y (mm)')", "no title"),
    ("import matplotlib.pyplot as plt\nplt.plot([0, 1]); plt.title('t'); plt.ylabel('y (mm)')", "no x-axis label"),
    (
        "import matplotlib.pyplot as plt\nplt.imshow([[0, 1]]); plt.axis('off'); plt.suptitle('crops')",
        "an image without axes needs a title",
    ),
    (
        "import matplotlib.pyplot as plt\nplt.imshow([[0, 1]]); plt.axis('off'); plt.title('crop'); plt.colorbar()",
        "a colour bar has no label",
    ),
    ("raise ValueError('boom')", "raised ValueError: boom"),
]


def test_each_problem_is_flagged_in_its_own_cell(folders):
    src, out = folders
    write_notebook(src / "00_a.ipynb", "preset = 'ci'", *(body for body, _ in PROBLEMS))
    with pytest.raises(pm.PapermillExecutionError):  # the last cell raises; the check still reads what ran
        run_series("ci", out, out / "data", kernel="python3", notebook_dir=src)
    executed = out / "00_a.ipynb"
    problems = check_executed(executed)
    index = {cell.source: i for i, cell in enumerate(nbformat.read(executed, as_version=4).cells)}
    for body, expected in PROBLEMS:
        found = [p for p in problems if p.startswith(f"00_a.ipynb: cell {index[body]}")]
        assert len(found) == 1 and expected in found[0], (expected, problems)
    assert len(problems) == len(PROBLEMS)


def test_a_figure_shown_without_the_runner_is_not_taken_as_checked(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plot")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    ]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "x.ipynb")
    assert check_executed(tmp_path / "x.ipynb") == [
        "x.ipynb: cell 0, figure 00: no axes record (not run through mlib.series)"
    ]


def test_every_notebook_declares_the_parameters_the_runner_passes():
    # papermill drops a parameter whose line it cannot parse (a quote inside its comment is enough),
    # and the runner passes only declared ones: a silently dropped nyu_dir would train on generated data
    from mlib.series import notebooks

    for nb in notebooks(None, Path(__file__).resolve().parents[1] / "notebooks"):
        declared = set(pm.inspect_notebook(str(nb)))
        assert {"preset", "run_dir", "data_dir", "nyu_dir"} <= declared, (nb.name, sorted(declared))
        if nb.name[:2] in {"01", "02", "03", "04", "05", "06"}:
            assert "dataset" in declared, nb.name


def claim_output(claims) -> dict:
    """A display output of claims as a batch kernel saves it: markdown for people, records for the runner."""
    from mlib.batch import CLAIM_RECORD_MIME, claim_records

    return nbformat.v4.new_output(
        "display_data", data={"text/markdown": claims._repr_markdown_(), CLAIM_RECORD_MIME: claim_records(claims)}
    )


def test_the_claims_a_notebook_displayed_are_listed_with_their_verdicts(tmp_path):
    from mlib.claims import Claim, ClaimTable, Committed, compare
    from mlib.series import claims_recorded, claims_table

    held = Claim("Synth only | real is worse on real frames", True, {"real": 22.3, "synthetic": 16.4}, None, "ci")
    failed = Claim(
        "Full beats Real+Synth at n=100", False, {"full": 30.1, "real_synth": 29.0}, {"full": 1.0, "real_synth": 2.0},
        "laptop", reference_holds=True,
    )  # fmt: skip
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x", outputs=[claim_output(held)]),
        nbformat.v4.new_code_cell("y", outputs=[nbformat.v4.new_output("stream", name="stdout", text=f"{held}\n")]),
        nbformat.v4.new_code_cell("z", outputs=[claim_output(ClaimTable([failed]))]),
    ]
    path = tmp_path / "04_x.ipynb"
    nbformat.write(nb, path)
    claims = claims_recorded(path)  # a claim only printed as text is not read back: records are
    assert [(c["cell"], c["verdict"], c["preset"], c["reference_verdict"]) for c in claims] == [
        (0, "holds", "ci", None),
        (2, "does not hold", "laptop", "holds"),
    ]
    assert claims[0]["shown"] == "Synth only | real is worse on real frames (real 22.30 vs synthetic 16.40 mm)"
    table = claims_table(claims)
    assert "| 04_x.ipynb | 2 | Full beats Real+Synth at n=100" in table and "1 of 2 claims hold" in table
    assert "Synth only \\| real" in table  # a pipe inside a claim does not split its row
    assert all(row.count(" | ") == 4 for row in table.splitlines() if row.startswith("| 0"))
    # a claim inside the committed seeds' spread reads back as noise, here and in the committed results
    committed = {"Full": Committed(20.7, 0.6, 3), "RS": Committed(20.4, 0.6, 3)}
    noisy = compare("Full beats Real+Synth", "Full", 30.0, "RS", 30.08, "<", "ci", committed)
    nb.cells.append(nbformat.v4.new_code_cell("w", outputs=[claim_output(noisy)]))
    nbformat.write(nb, path)
    last = claims_recorded(path)[-1]
    # unpaired (the committed values kept no per-seed numbers): t(2) x sqrt(0.6^2 + 0.6^2)
    assert (last["verdict"], last["reference_verdict"]) == ("within noise", "within noise")
    assert last["noise"] == pytest.approx(2.919986 * 0.6 * 2**0.5, abs=1e-4)
    assert last["committed"]["Full"] == {"value": 20.7, "std": 0.6, "seeds": 3, "source": None, "per_seed": None}
    assert "1 of 3 claims hold at this preset, 1 within noise, 1 do not hold, 0 give no verdict" in claims_table(claims_recorded(path))


def test_a_batch_kernel_records_the_claims_a_cell_displays(folders):
    src, out = folders
    body = (
        PLOT
        + "plt.show()\nfrom mlib.claims import ClaimTable, judge\n"
        + "ClaimTable([judge('full_helps', 35.9, 36.0, preset, n=100), judge('full_beats_mean_pose', 35.9, 57.3, preset)])"
    )
    write_notebook(src / "04_a.ipynb", "preset = 'ci'", body)
    run_series("ci", out, out / "data", kernel="python3", notebook_dir=src)
    from mlib.series import claims_recorded

    got = claims_recorded(out / "04_a.ipynb")
    assert [(c["name"], c["cell"], c["verdict"]) for c in got] == [
        ("full_helps", 1, "within noise"),  # 0.1 mm inside the committed laptop spread at n = 100
        ("full_beats_mean_pose", 1, "holds"),
    ]
    assert got[0]["committed"]["Full"]["source"] == "ablation-laptop.json:cells[variant=full,n_labeled=100].mean_error_mm"


def test_list_claims_writes_the_table_of_an_executed_run_without_running_it(tmp_path, capsys):
    import json

    from mlib.claims import Claim
    from mlib.series import main

    claim = Claim("A holds", True, {"a": 1.0, "b": 2.0}, None, "ci")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[claim_output(claim)])]
    nbformat.write(nb, tmp_path / "01_a.ipynb")
    assert main(["--list-claims", "--out", str(tmp_path)]) == 0
    assert "| 01_a.ipynb | 0 | A holds" in (tmp_path / "claims.md").read_text()
    assert json.loads((tmp_path / "claims.json").read_text())[0]["text"] == "A holds"
    assert not (tmp_path / "times.json").exists()  # nothing ran


def test_text_bars_keep_the_whole_postfix(monkeypatch, capsys):
    """A batch run's text bar ends with every loss term it was given, not cut at a fixed width."""
    import tqdm.auto
    import tqdm.autonotebook

    from mlib.batch import text_bars

    for module in (tqdm.auto, tqdm.autonotebook):  # restored after the test
        monkeypatch.setattr(module, "tqdm", module.tqdm)
        monkeypatch.setattr(module, "trange", module.trange)
    text_bars()
    postfix = {k: "1.23e+05" for k in ("pose", "corr", "view", "adv", "disc", "disc_acc", "val_error_mm")}
    bar = tqdm.auto.tqdm(total=3, desc="stage 2", mininterval=0)
    for _ in range(3):
        bar.update(1)
        bar.set_postfix(postfix)
    bar.close()
    last = capsys.readouterr().out.split("\r")[-1].strip()
    assert last.startswith("stage 2: 100%") and last.endswith("val_error_mm=1.23e+05]"), last


def test_a_run_without_notebooks_is_refused(tmp_path):
    from mlib.series import main

    with pytest.raises(SystemExit):  # e.g. started outside the repository root: nothing would run
        main(["--out", str(tmp_path / "run"), "--notebooks", str(tmp_path / "none")])
