"""Latent-space and error analysis (paper §4.4 and appendix A.3): latents, distances between
corresponding real and synthetic frames, t-SNE, how well the domains mix, the linear probe, the domain
gap of the data itself, the worst frames with their nearest training poses; and the statistics over
seeds the benchmarks report (a grid's cells, the room a mapping has, the latent analysis of a grid)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from mlib.claims.seeds import judge_seeds, on_both_splits, seed_stats, spread
from mlib.data.camera import EVAL_JOINTS
from mlib.data.datasets import CropStore


@torch.no_grad()
def latents(
    model: torch.nn.Module,
    store: CropStore,
    domain: str,
    through_mapping: bool = True,
    indices=None,
    device: torch.device | str = "cpu",
    batch_size: int = 256,
) -> np.ndarray:
    """Latent codes (N, D) of camera-1 crops; real crops go through m when `through_mapping`."""
    was_training = model.training
    model.eval()
    idx = torch.arange(len(store)) if indices is None else torch.as_tensor(indices)
    out = [
        model.latent(store.images(chunk, domain).to(device), real=domain == "real" and through_mapping).float().cpu()
        for chunk in idx.split(batch_size)
    ]
    model.train(was_training)
    return torch.cat(out).numpy()


def paired_latents(
    model: torch.nn.Module, store: CropStore, through_mapping: bool = True, indices=None, device="cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """The latents (N, D) of the same frames, real and synthetic: real crops through m when
    `through_mapping` (Synth only never trained one), their renders through f alone."""
    return (
        latents(model, store, "real", through_mapping, indices, device),
        latents(model, store, "synth", False, indices, device),
    )


def pair_distances(model: torch.nn.Module, store: CropStore, through_mapping: bool = True, indices=None, device="cpu"):
    """Euclidean distance between the latents of each real frame and its synthetic render (paper Fig. 6)."""
    z_real, z_synth = paired_latents(model, store, through_mapping, indices, device)
    return np.linalg.norm(z_real - z_synth, axis=1)


def probe(model: torch.nn.Module, store: CropStore, through_mapping: bool = True, indices=None, device="cpu") -> float:
    """The linear probe (`domain_separability`) on the real and synthetic latents of the same frames."""
    return domain_separability(*paired_latents(model, store, through_mapping, indices, device))


def tsne_embedding(z_real: np.ndarray, z_synth: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """Joint 2-D t-SNE of real and synthetic latents: rows of z_real first, then z_synth."""
    z = np.concatenate([z_real, z_synth]).astype(np.float32)
    perplexity = min(perplexity, (len(z) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(z)


def mixing_score(points: np.ndarray, is_real: np.ndarray, k: int = 10) -> float:
    """Mean fraction of each point's k nearest neighbours that come from the other domain.

    0 means the domains are fully separated; with equal counts, well-mixed domains give about 0.5."""
    is_real = np.asarray(is_real, bool)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(points)
    _, idx = nn.kneighbors(points)
    neighbours = is_real[idx[:, 1:]]
    return float((neighbours != is_real[:, None]).mean())


def domain_mixing(z_real: np.ndarray, z_synth: np.ndarray, k: int = 10) -> float:
    """`mixing_score` of real and synthetic latents standardised together, as the probe sees them."""
    z = np.concatenate([z_real, z_synth])
    z = (z - z.mean(0)) / (z.std(0) + 1e-8)
    return mixing_score(z, np.r_[np.ones(len(z_real)), np.zeros(len(z_synth))], k=k)


def domain_separability(z_real: np.ndarray, z_synth: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """Held-out accuracy of a fresh linear classifier telling real latents from synthetic ones.

    The discriminator's accuracy during training measures a game against a moving mapping, and a
    mapping can fool that one network without bringing the distributions together. A classifier
    fitted afterwards, on frozen latents, is the fairer judge: about 0.5 means the two domains are
    linearly indistinguishable, 1.0 means a hyperplane splits them. Standardised features, logistic
    regression, `folds`-fold stratified cross-validation; balance the two sets for 0.5 to mean chance."""
    z_real, z_synth = np.asarray(z_real, np.float64), np.asarray(z_synth, np.float64)
    if z_real.ndim != 2 or z_synth.ndim != 2 or z_real.shape[1] != z_synth.shape[1]:
        raise ValueError(f"latents must be (N, D) with the same D, got {z_real.shape} and {z_synth.shape}")
    if min(len(z_real), len(z_synth)) < folds:
        raise ValueError(f"need at least {folds} latents per domain for {folds}-fold validation")
    x = np.concatenate([z_real, z_synth])
    y = np.r_[np.ones(len(z_real)), np.zeros(len(z_synth))]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    # Small matrices: BLAS threads only contend (measured on 2 cores, 4,000 latents: 17 s on two
    # threads, 1.5 s on one, the same accuracy).
    with threadpool_limits(1):
        return float(cross_val_score(clf, x, y, cv=cv).mean())


def domain_gap_stats(store: CropStore, indices=None) -> dict[str, float]:
    """How the real camera-1 crops differ from their synthetic renders on the hand.

    The hand is where the synthetic crop has a surface. Returns the fraction of those pixels
    the real crop misses, the mean absolute and RMS depth difference (mm) where both read,
    and the fraction of real pixels off the hand that show something (clutter)."""
    idx = torch.arange(len(store)) if indices is None else torch.as_tensor(indices)
    real = store.real[idx].float()
    synth = store.synth[idx, 0].float()
    half = (store.cube[idx] / 2).view(-1, 1, 1)
    hand = synth < 1
    real_valid = real < 1
    both = hand & real_valid
    diff = (real - synth)[both] * half.expand_as(real)[both]
    return {
        "missing_on_hand": float((hand & ~real_valid).sum() / hand.sum().clamp(min=1)),
        "depth_mae_mm": float(diff.abs().mean()) if diff.numel() else float("nan"),
        "depth_rmse_mm": float(diff.pow(2).mean().sqrt()) if diff.numel() else float("nan"),
        "clutter_off_hand": float((~hand & real_valid).sum() / (~hand).sum().clamp(min=1)),
    }


def worst_frames(errors: np.ndarray, k: int = 8, by: str = "mean") -> np.ndarray:
    """Indices of the k frames with the largest mean (or max) joint error, worst first."""
    per_frame = errors.max(axis=1) if by == "max" else errors.mean(axis=1)
    return np.argsort(-per_frame)[:k]


def nearest_training_poses(query: CropStore, query_idx, train: CropStore, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """For each query frame, the k training frames with the closest pose (mean joint distance in mm
    after centring on the palm), and those distances. Shows whether a bad frame's pose was seen."""

    def centred(store: CropStore, idx) -> np.ndarray:
        j = store.joints[torch.as_tensor(idx), 0][:, EVAL_JOINTS].numpy()
        return (j - j[:, -1:]).reshape(len(j), -1)

    train_poses = centred(train, torch.arange(len(train)))
    nn = NearestNeighbors(n_neighbors=k).fit(train_poses)
    dist, idx = nn.kneighbors(centred(query, query_idx))
    # Euclidean distance over 14*3 coordinates -> RMS per joint, a number in mm one can read
    return idx, dist / np.sqrt(len(EVAL_JOINTS))


# --- errors and latents of trained models (notebooks 04-06)


def pose_errors(
    model: torch.nn.Module, store: CropStore, through_mapping: bool = True, device: torch.device | str = "cpu"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground truth, prediction (both (N, 14, 3) mm, camera 1) and per-joint error (N, 14) mm of a model
    on the real crops of a store; real crops go through m when `through_mapping` (paper §3)."""
    from mlib.evaluate import joint_errors, predict_store

    gt = store.joints[:, 0][:, EVAL_JOINTS].numpy()
    pred = predict_store(model, store, "real", through_mapping, device)
    return gt, pred, joint_errors(pred, gt)


@torch.no_grad()
def predicted_views(
    model: torch.nn.Module, store: CropStore, frames, domain: str, device: torch.device | str = "cpu"
) -> np.ndarray:
    """The view decoder's side views g(z, centre) (B, S, S) for camera-1 crops of `frames` (paper Eq. 10);
    z = m(f(x)) for real crops, f(x) for synthetic ones, as in training."""
    was_training = model.training
    model.eval()
    idx = torch.as_tensor(frames)
    x = store.images(idx, domain).to(device)
    views = model.g(model.latent(x, real=domain == "real"), store.centres[idx, 0].to(device))
    model.train(was_training)
    return views.squeeze(1).float().cpu().numpy()


def weighted_terms(history: list[dict], weights, stage: int = 2) -> dict[str, float]:
    """Median over a stage's logged rows of each term of Eq. 1 as it enters the total: L_p, λc·L_c,
    λg·L_g, λm·L_m (the trainer logs the unweighted batch sums). Terms a run did not use are left out."""
    lam = {"pose": 1.0, "corr": weights.lambda_c, "view": weights.lambda_g, "adv": weights.lambda_m}
    label = {"pose": "L_p", "corr": "λc·L_c", "view": "λg·L_g", "adv": "λm·L_m"}
    rows = [r for r in history if r.get("stage") == stage]
    out = {}
    for key in lam:
        values = [r[key] for r in rows if key in r and np.isfinite(r[key])]
        if values:
            out[label[key]] = float(lam[key] * np.median(values))
    return out


# --- the domain gap and the views (notebooks 01-03)


def view_mae(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Mean absolute error per frame and pixel (normalised depth units, [-1, 1] over the cube) between
    (N, S, S) predicted and captured views: the number of the paper's Table 2."""
    return np.abs(np.asarray(pred, np.float64) - np.asarray(target, np.float64)).reshape(len(pred), -1).mean(1)


def view_targets(store: CropStore, idx: torch.Tensor, domain: str, camera: int | None = None) -> torch.Tensor:
    """(B, 1, S, S) side views of frames `idx`: each frame's own view target (camera None), or camera
    `camera`'s crops."""
    return store.views(idx, domain) if camera is None else store.images(idx, domain, camera)


def mean_view(store: CropStore, domain: str, camera: int | None = None, indices=None) -> np.ndarray:
    """The average side view (S, S) of a store's frames (each frame's view target unless `camera` is
    given): what a decoder that ignores its input would draw."""
    idx = torch.arange(len(store)) if indices is None else torch.as_tensor(indices)
    return torch.cat([view_targets(store, c, domain, camera) for c in idx.split(1024)]).mean(0)[0].numpy()


def view_prediction_report(
    model: torch.nn.Module,
    store: CropStore,
    train: CropStore,
    frames,
    device: torch.device | str = "cpu",
    camera: int | None = None,
) -> dict[str, dict[str, float]]:
    """Table 2 of the paper and what to read it against, per input domain ('real', 'synth'): the view
    decoder's MAE against the captured side view of the same frame ('own frame'), against the side view
    of another frame ('other frame': the targets rolled by half the frames, so that neighbours in a
    sequence do not pair up; a decoder whose output follows the pose does better on its own frame), the all-background guess and the mean training view. Also the mean
    absolute horizontal and vertical pixel step of the predicted and the captured views ('sharpness',
    per pixel): a blurred prediction has smaller steps than the capture."""
    idx = torch.as_tensor(frames)
    out: dict[str, dict[str, float]] = {}
    for domain in ("real", "synth"):
        pred = predicted_views(model, store, idx, domain, device)
        target = view_targets(store, idx, domain, camera)[:, 0].numpy()
        average = mean_view(train, domain, camera)

        def steps(v: np.ndarray) -> float:
            return float((np.abs(np.diff(v, axis=1)).mean() + np.abs(np.diff(v, axis=2)).mean()) / 2)

        out[domain] = {
            "own frame": float(view_mae(pred, target).mean()),
            "other frame": float(view_mae(pred, np.roll(target, len(target) // 2, axis=0)).mean()),
            "all background": float(view_mae(np.ones_like(target), target).mean()),
            "mean training view": float(view_mae(np.broadcast_to(average, target.shape), target).mean()),
            "sharpness predicted": steps(pred),
            "sharpness captured": steps(target),
        }
    return out


def relative_pair_distances(z_real: np.ndarray, z_synth: np.ndarray, seed: int = 0) -> np.ndarray:
    """Distance of each real latent to its own synthetic render's latent, over the median distance to the
    render of another frame (a seeded derangement). Below 1: a real frame sits nearer its own render than
    a random render; this ratio can be compared across models whose latent spaces differ in scale."""
    z_real, z_synth = np.asarray(z_real, float), np.asarray(z_synth, float)
    if len(z_real) < 2:
        raise ValueError("need at least two frames")
    perm = np.random.default_rng(seed).permutation(len(z_real))
    perm = np.where(perm == np.arange(len(perm)), np.roll(perm, 1), perm)  # no frame paired with itself
    own = np.linalg.norm(z_real - z_synth, axis=1)
    other = np.linalg.norm(z_real - z_synth[perm], axis=1)
    return own / np.median(other)


def latent_statistics(
    model: torch.nn.Module,
    store: CropStore,
    through_mapping: bool,
    n_points: int = 300,
    n_probe: int = 2000,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """The latent-space numbers of paper §4.4 for one model on the first frames of `store` (its test
    split), each real crop paired with its own synthetic render:

    * `probe`: held-out accuracy of a fresh linear classifier telling real from synthetic latents
      (n_probe frames per domain; 0.5 = inseparable);
    * `median_pair_distance`: median distance between a real latent and its render's (Fig. 6), and
      `median_relative_distance`, the same over the median distance to another frame's render;
    * `mixing_latent` / `mixing_tsne`: kNN mixing of the two domains in the latent space and on its 2-D
      t-SNE map (Fig. 9); about 0.5 when interleaved, 0 when apart.
    Distances and mixing use the first n_points frames (what notebook 06 draws).
    Synth only never trained m: pass through_mapping=False for it."""
    return latent_statistics_with_map(model, store, through_mapping, n_points, n_probe, seed, device)[0]


def latent_statistics_with_map(
    model: torch.nn.Module,
    store: CropStore,
    through_mapping: bool,
    n_points: int = 300,
    n_probe: int = 2000,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> tuple[dict[str, float], np.ndarray]:
    """latent_statistics, and the 2-D t-SNE map its `mixing_tsne` was measured on (the first n_points
    real latents, then their renders'), so a figure draws the very map the number describes."""
    n_probe, n_points = min(n_probe, len(store)), min(n_points, len(store))
    z_real, z_synth = paired_latents(model, store, through_mapping, torch.arange(n_probe), device)
    zr, zs = z_real[:n_points], z_synth[:n_points]
    is_real = np.r_[np.ones(n_points), np.zeros(n_points)]
    points = tsne_embedding(zr, zs, seed=seed)
    stats = {
        "probe": domain_separability(z_real, z_synth, seed=seed),
        "median_pair_distance": float(np.median(np.linalg.norm(zr - zs, axis=1))),
        "median_relative_distance": float(np.median(relative_pair_distances(zr, zs, seed=seed))),
        "mixing_latent": mixing_score(np.concatenate([zr, zs]), is_real),
        "mixing_tsne": mixing_score(points, is_real),
        "frames_probe": n_probe,
        "frames_mixing": n_points,
    }
    return stats, points


# --- statistics over seeds (benchmarks/lab/ablation.py, regime.py and notebook 05; the rule: mlib.claims.seeds)


def seed_of(result) -> int:
    """The seed of a cell, from its folder's name (<variant>-n<n>-seed<k>)."""
    m = re.search(r"seed(\d+)$", Path(result.out_dir).name)
    if m is None:
        raise ValueError(f"{result.out_dir}: the cell folder's name does not end in seed<k>")
    return int(m.group(1))


def grid_cells(results: Sequence, variants: Sequence[str], ns: Sequence[int | str]) -> list[dict]:
    """Per (variant, n) of a grid, its cells' test errors over seeds (mean, spread, per seed, the seeds
    by name so two cells pair up), the validation errors and the errors on the synthetic renders per
    seed, success rates and training time: the cell records of the ablation report. `results` are
    `RunResult`s; a variant that uses no real label counts at every n."""
    from mlib.variants import VARIANTS

    cells = []
    for v in variants:
        for n in ns:
            rs = sorted(
                (r for r in results if r.variant == v and (r.n_labeled == n or not VARIANTS[v].uses_n)), key=seed_of
            )
            if not rs:
                continue
            errors = [r.test_error_mm for r in rs]
            synthetic = [r.summary.get("synthetic_frames_mean") for r in rs]
            cells.append(
                {
                    "variant": v,
                    "n_labeled": n,
                    "seeds": len(rs),
                    "seed_ids": [seed_of(r) for r in rs],
                    "mean_error_mm": float(np.mean(errors)),
                    "std_error_mm": spread(errors),
                    "per_seed_mm": errors,
                    "per_seed_val_mm": [r.summary.get("val_mean") for r in rs],
                    # None for a variant that never reads synthetic frames (Real only), or older runs
                    "synthetic_frames_error_mm": None if None in synthetic else float(np.mean(synthetic)),
                    "per_seed_synthetic_mm": None if None in synthetic else synthetic,
                    "success_20mm": float(np.mean([r.summary["success_rate"][20] for r in rs])),
                    "success_40mm": float(np.mean([r.summary["success_rate"][40] for r in rs])),
                    "wall_s": float(np.sum([r.seconds for r in rs])),
                }
            )
    return cells


def by_seed(cell: Mapping, key: str = "per_seed_mm") -> dict[str, float] | None:
    """A grid cell's per-seed values of `key` by seed name (None where the cell has none)."""
    values = cell.get(key)
    if values is None or None in values:
        return None
    return dict(zip(map(str, cell["seed_ids"]), map(float, values)))


def room(cells: Sequence[Mapping], stage1: str = "synth_only") -> list[dict]:
    """How much a mapping could win, per stage-2 cell and per seed (the judge's one definition):
    * `onto_stage1`: the stage-1 predictor's error on the synthetic renders (Synth only's, the same
      seed) over the arm's real error: a perfect mapping of real frames onto the synthetic ones the
      stage-1 predictor reads would bring the arm's error to that fraction;
    * `own`: the arm's own error on the synthetic renders over its real error (stage 2 moves the render
      error too, so this is not a bound on what a mapping could win, but how far the arm's real
      frames are from its renders).
    Each as `seed_stats` over the seeds the two cells share (the paper's room at n = 100 on NYU: 0.77)."""
    from mlib.variants import VARIANTS

    floor = next((by_seed(c, "per_seed_synthetic_mm") for c in cells if c["variant"] == stage1), None)
    out = []
    for c in cells:
        real, render = by_seed(c), by_seed(c, "per_seed_synthetic_mm")
        if not VARIANTS[c["variant"]].stage2 or real is None or render is None:
            continue
        row = {"n_labeled": c["n_labeled"], "variant": c["variant"]}
        if floor is not None:
            row["onto_stage1"] = seed_stats({s: floor[s] / real[s] for s in real if s in floor})
        row["own"] = seed_stats({s: render[s] / real[s] for s in real})
        out.append(row)
    return out


def paired_on_splits(arm: Mapping, base: Mapping, relation: str = "<") -> dict:
    """Two grid cells judged by the rule (`mlib.claims.seeds`), paired by seed, on the test and the
    validation split: each split's per-seed differences arm - base with their mean, spread, threshold
    and verdict, and the one verdict both splits support (`on_both_splits`)."""
    out = {}
    for split, key in (("test", "per_seed_mm"), ("val", "per_seed_val_mm")):
        a, b = by_seed(arm, key), by_seed(base, key)
        out[split] = judge_seeds(a, b, relation) if a and b else {"verdict": "no verdict"}
    out["verdict_test"], out["verdict_val"] = out["test"]["verdict"], out["val"]["verdict"]
    out["verdict"] = on_both_splits(out["verdict_test"], out["verdict_val"])
    return out


# the models of paper §4.4 -> whether their real inputs go through m (Synth only never trained one)
LATENT_MODELS = {"synth_only": False, "real_synth": True, "full": True}
LATENT_KEYS = ("probe", "median_pair_distance", "median_relative_distance", "mixing_latent", "mixing_tsne")


def latent_analysis(
    models: Mapping[int, Mapping[str, torch.nn.Module]],
    store: CropStore,
    n_labeled: int,
    device: torch.device | str = "cpu",
    test_errors: Mapping[str, Mapping[str, float]] | None = None,
) -> dict:
    """Paper §4.4 at n labels over seeds: `models[seed][variant]` for the variants of `LATENT_MODELS`,
    their `latent_statistics` on `store` per seed and as `seed_stats` over the seeds. `test_errors`
    (variant -> seed -> mm) are the analysed models' own test errors, recorded beside them."""
    per_seed = {
        seed: {v: latent_statistics(m, store, LATENT_MODELS[v], seed=seed, device=device) for v, m in by_variant.items()}
        for seed, by_variant in models.items()
    }
    stats = {
        v: {k: seed_stats({str(s): per_seed[s][v][k] for s in per_seed}) for k in LATENT_KEYS} for v in LATENT_MODELS
    } if per_seed else {}  # fmt: skip
    return {
        "n_labeled": n_labeled,
        "seeds": sorted(per_seed),
        "stats": stats,
        "models_test_error_mm": dict(test_errors or {}) if per_seed else {},
    }
