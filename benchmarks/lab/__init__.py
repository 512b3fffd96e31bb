"""The research lab: the scripts that train grids of cells, judge them and write the records in
`benchmarks/results/` (the ablation grid, the regime and its screens, the mechanism lab, the shipped stage 1
and its budget, notebook 03's latent measures on three seeds, the sensor's statistics), run from the repository root as modules:

    OMP_NUM_THREADS=1 python -m benchmarks.lab.ablation --preset laptop --workers 2

They call the library (`mlib`) and hold the logic only research needs; `mlib` imports nothing from here.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the repository: the default place of runs/ and data_cache/
RESULTS = REPO / "benchmarks" / "results"  # the committed records
TEMPLATES = Path(__file__).resolve().parent / "templates"
