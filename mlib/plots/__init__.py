"""Figures for the notebooks, by topic: every figure gets a title, labelled axes with units, and a
legend when it shows more than one series.

- `images`: a crop, a depth image in mm, a grid of crops, a skeleton over them
- `training`: loss curves, the learning-rate schedule, a mini-batch, the architecture (paper Fig. 2)
- `evaluation`: success rates, per-joint errors, error against labeled frames, predicted skeletons
- `latent`: distances and embeddings of the latent codes, domain alignment, predicted side views
- `data_tour`: the figures of notebook 00

`python -m mlib.plots --gt GT.txt PRED.txt ... --out OUT.png` draws prediction files' success rates
and per-joint errors."""

from mlib.plots.data_tour import (
    draw_browser_view,
    plot_browser_grid,
    plot_camera_rig,
    plot_class_shares,
    plot_crop_of_frame,
    plot_crop_steps,
    plot_full_frames,
    plot_gap_per_frame,
    plot_hand_model,
    plot_image_panels,
    plot_labelled_frame,
    plot_missing_causes,
    plot_normalisation,
    plot_png_channels,
    plot_sensor_crops,
    plot_sensor_noise,
    plot_split_overview,
    plot_subject_shapes,
)
from mlib.plots.evaluation import (
    main,
    plot_error_vs_n,
    plot_errors_with_baseline,
    plot_mean_error_bars,
    plot_per_joint,
    plot_pose_overlays,
    plot_pose_panels,
    plot_room,
    plot_semi_supervised_comparison,
    plot_success_curves,
    plot_worst_frames,
)
from mlib.plots.images import draw_pose, show_crop, show_crop_grid
from mlib.plots.latent import (
    plot_distance_histograms,
    plot_embedding,
    plot_embedding_thumbnails,
    plot_probe_and_mixing,
    plot_view_grid,
)
from mlib.plots.training import (
    plot_architecture,
    plot_four_set_batch,
    plot_history,
    plot_lr_schedule,
    plot_term_scale,
    sets_reading,
)

__all__ = [
    # images
    "draw_pose",
    "show_crop",
    "show_crop_grid",
    # training
    "plot_architecture",
    "plot_four_set_batch",
    "plot_history",
    "plot_lr_schedule",
    "plot_term_scale",
    "sets_reading",
    # evaluation
    "main",
    "plot_room",
    "plot_error_vs_n",
    "plot_errors_with_baseline",
    "plot_mean_error_bars",
    "plot_per_joint",
    "plot_pose_overlays",
    "plot_pose_panels",
    "plot_semi_supervised_comparison",
    "plot_success_curves",
    "plot_worst_frames",
    # latent
    "plot_distance_histograms",
    "plot_embedding",
    "plot_embedding_thumbnails",
    "plot_probe_and_mixing",
    "plot_view_grid",
    # data tour
    "draw_browser_view",
    "plot_browser_grid",
    "plot_camera_rig",
    "plot_class_shares",
    "plot_crop_of_frame",
    "plot_crop_steps",
    "plot_full_frames",
    "plot_gap_per_frame",
    "plot_hand_model",
    "plot_image_panels",
    "plot_labelled_frame",
    "plot_missing_causes",
    "plot_normalisation",
    "plot_png_channels",
    "plot_sensor_crops",
    "plot_sensor_noise",
    "plot_split_overview",
    "plot_subject_shapes",
]
