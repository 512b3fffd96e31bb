"""Published numbers the notebooks draw beside their own results.

Paper Fig. 3 (semi-supervised methods on NYU against the number of labeled real frames n) exists
only as a plot: the paper's text gives none of its per-n values, only the all-label end points in
Table 1 (Crossing Nets 15.5 mm, LSPS 15.4 mm, MURAUER 9.5 mm). The values below are read off that
plot: its drawing in the authors' self-published PDF (github.com/poier/murauer,
docs/documents/poier2019wacv_selfpublishing.pdf, page 6) is vector graphics, so each marker's
position was converted to (n, mm) with the plot's own axis ticks (log10 n from 10^1 to 10^5, error
10-30 mm) and rounded to 0.1 mm. Where Table 1 gives a number, the read-off value agrees with it.
Each method's numbers are those its authors published (paper §4.2), not a re-run.
"""

from __future__ import annotations

FIG3_SOURCE = (
    "read off paper Fig. 3 (vector plot in the authors' PDF, rounded to 0.1 mm); "
    "each method as published by its authors"
)

# method -> (reference as the paper cites it, [(n labeled real frames, mean joint error mm), ...])
FIG3_SEMI_SUPERVISED: dict[str, tuple[str, list[tuple[int, float]]]] = {
    "PreView": (
        "Poier et al., CVPR 2018 [28]; NYU-CS subset",
        [(100, 29.4), (1000, 22.8), (10000, 19.8), (43640, 19.6)],
    ),
    "Crossing Nets": (
        "Wan et al., CVPR 2017 [39]",
        [(1455, 17.7), (3638, 17.4), (7276, 16.5), (18189, 16.1), (36378, 16.0), (54567, 15.9), (72756, 15.5)],
    ),
    "LSPS": (
        "Abdi et al., BMVC 2018 [1]",
        [(1000, 16.7), (1455, 16.6), (3638, 15.9), (7276, 15.8), (36378, 15.4), (72756, 15.4)],
    ),
    "MURAUER": (
        "Poier et al., WACV 2019 (the paper)",
        [(10, 16.4), (100, 12.2), (1000, 10.9), (10000, 9.9), (72756, 9.5)],
    ),
}

# paper Table 1 (all labeled frames), the check on the read-off end points above
TABLE1_ALL_LABELS_MM = {"Crossing Nets": 15.5, "LSPS": 15.4, "MURAUER": 9.5}


# --- published NYU numbers (notebook 07)

# paper §4.3 / Fig. 4: mean joint error (mm) on NYU's test set per variant and number n of labeled real
# frames (72,757 = all); None where the paper reports no value (Real only below 1k; ≈34 mm at 1k).
PAPER_N = (10, 100, 1_000, 10_000, 72_757)
PAPER_ABLATION_MM: dict[str, tuple[float | None, ...]] = {
    "Synth only": (21.3, 21.3, 21.3, 21.3, 21.3),
    "Real only": (None, None, 34.0, 15.9, 14.7),
    "Real+Synth": (20.7, 15.7, 14.9, 13.2, 13.1),
    "Real+Synth | Distr. Match": (18.9, 13.6, 11.5, 10.4, 10.0),
    "Real+Synth | View Pred.": (17.7, 13.7, 11.4, 10.1, 10.0),
    "Full (MURAUER)": (16.4, 12.2, 10.9, 9.9, 9.5),
}
# the authors' later release (poier/murauer) with the mapping's non-linearity restored, n = 100
MURAUER_FIXED_RELEASE_N100_MM = 11.9

# Mean errors (mm) that the authors of the released NYU prediction files report in their papers,
# keyed by the file's stem: (method, mm, reference).
REPORTED_NYU_MM: dict[str, tuple[str, float, str]] = {
    "ICCVW17_NYU_DeepPrior++": ("DeepPrior++", 12.24, "Oberweger & Lepetit, ICCV workshops 2017"),
    "CVPR17_NYU_3DCNN": ("3D CNN", 14.11, "Ge et al., CVPR 2017"),
    "CVPR18_NYU_DeepPrior++_FM": ("Feature Mapping", 7.44, "Rad et al., CVPR 2018"),
    "CVPR18_NYU_V2V_PoseNet": ("V2V-PoseNet", 8.42, "Moon et al., CVPR 2018"),
    "CVPR18_NYU_HandPointNet": ("Hand PointNet", 10.54, "Ge et al., CVPR 2018"),
    "CVPR18_NYU_denseReg": ("DenseReg", 10.21, "Wan et al., CVPR 2018"),
}


def full_over_real_synth() -> dict[int | str, float]:
    """The paper's relative gain per n of Fig. 4: Full's error over Real+Synth's (72,757 is 'all')."""
    full, base = PAPER_ABLATION_MM["Full (MURAUER)"], PAPER_ABLATION_MM["Real+Synth"]
    return {("all" if n == PAPER_N[-1] else n): f / b for n, f, b in zip(PAPER_N, full, base)}
