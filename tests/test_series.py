"""The series runner: parameters reach the notebooks, a hanging cell fails instead of blocking."""

from pathlib import Path

import nbformat
import pytest

from mlib.series import check_executed, run_series


def write_notebook(path: Path, parameters: str, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
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
        "plt.plot([0, 1]); plt.title('t'); plt.show()"
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
    plot = "import matplotlib.pyplot as plt\nplt.plot([0, 1]); plt.title('t'); plt.show()\n"
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
