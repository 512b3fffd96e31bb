"""Two-stage MURAUER training: stage 1 pretrains f and p on synthetic data, stage 2 trains
all modules with Eq. 1 on four-set mini-batches. The six ablation variants are switches
of one training step, not separate code paths.

    python -m mlib.train --preset ci --variant full --n-labeled 100 --out runs/full-100

prints a progress bar and, at the end, one JSON line with the test mean joint error.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from mlib.adversarial import DiscriminatorStep, game_latents, mapping_loss
from mlib.analysis import domain_separability, latents
from mlib.checkpoint import atomic_save, config_differences, load_checkpoint, load_model_state, write_history
from mlib.data.augment import AugmentConfig
from mlib.data.datasets import (
    LABELED_SETS,
    REAL_SETS,
    SYNTH_SETS,
    Batch,
    Composition,
    CropStore,
    FourSetSampler,
    labeled_subset,
    make_batch,
)
from mlib.evaluate import evaluate_store
from mlib.losses import (
    TERM_KEYS,
    FiniteWatch,
    LossWeights,
    correspondence_loss,
    pose_loss,
    total_loss,
    view_loss,
)
from mlib.models import ModelConfig, Murauer
from mlib.schedule import iterations_per_epoch, make_scheduler, scaled_iterations_per_epoch
from mlib.variants import VARIANTS, Variant, composition, stage_iterations

TERMS = (*TERM_KEYS, "disc")  # Eq. 1's terms and the discriminator's Lh, as logged


PRECISIONS = ("auto", "fp32", "bf16")  # TrainConfig.precision


def setting(
    default=MISSING,
    *,
    factory=MISSING,
    resume: str | None = None,
    stage1: bool = False,
    before=MISSING,
    cli: str | None = None,
    option: str | None = None,
    choices: tuple | None = None,
    lowest: float | None = None,
    above: float | None = None,
):
    """A field of TrainConfig and what the run machinery reads from it, so that no list of setting names
    is kept by hand anywhere else:

    * `resume`: when resuming compares it with the checkpoint's: "always"; "stage1" (where stage 1
      shapes the result: stage 1 itself and stage 2 of a pretrained variant); "stage2"; or
      "stage2:<switch>|<switch>", in stage 2 of a variant with one of those `Variant` switches on.
      None: not compared (iteration counts, intervals, the device's layout: a run may continue under them).
    * `stage1`: it shapes a finished stage 1, so a shipped stage-1 file must match it (`mlib.pretrained`).
    * `before`: the value a checkpoint written before the setting existed was trained with.
    * `factory`: a default built anew per instance (`field(default_factory=...)`).
    * `cli`: the help of its `python -m mlib.train` option (`option`: the option's name, if not the
      field's; `choices`: its allowed values); None: no option.
    * `lowest` / `above`: the range a value must be in (at least / above), which the command line and a
      config file are checked against before anything is read or written.
    """
    meta = {"resume": resume, "stage1": stage1, "cli": cli, "option": option, "choices": choices}
    meta |= {k: v for k, v in (("lowest", lowest), ("above", above)) if v is not None}
    if before is not MISSING:
        meta["before"] = before
    return field(default=default, default_factory=factory, metadata=meta)


@dataclass(frozen=True)
class TrainConfig:
    """How a stage trains. A preset's values are in `mlib.presets` (the fields without a default are a
    preset's to set; the defaults are the paper's or the code's); `preset` names the one these settings
    came from (the shipped stage-1 file's name, and part of the resume check). Each field's metadata
    (`setting`) says what the resume check, the shipped-stage-1 match and the command line make of it."""

    preset: str = setting(resume="always", stage1=True)
    stage1_iters: int = setting(stage1=True, lowest=1, cli="iterations of stage 1 (synthetic pretraining)")
    stage2_iters: int = setting(lowest=1, cli="iterations of stage 2 (Eq. 1)")
    base_lr: float = setting(
        resume="always", stage1=True, above=0, option="lr",
        cli="base learning rate of Adam (paper Eq. 14-15's schedule around it)",
    )  # fmt: skip
    log_every: int = setting(lowest=1, cli="iterations between history rows")
    eval_every: int = setting(lowest=0, cli="iterations between validation errors (0: never)")  # on `val_frames` frames
    val_frames: int = setting(lowest=1)
    ckpt_every: int = setting(lowest=1, cli="iterations between checkpoints")
    # samples per set; batch = 4 sets (paper: 16 each at batch 64)
    set_size: int = setting(16, resume="always", stage1=True, lowest=1, cli="samples per set; a batch holds four sets")
    gamma: float = setting(0.04, resume="always", stage1=True)  # Eq. 15's decay
    weights: LossWeights = setting(factory=LossWeights, resume="stage2:synthetic|view|adversarial")
    augment: AugmentConfig = setting(factory=AugmentConfig, resume="always", stage1=True)
    seed: int = setting(0, resume="always", stage1=True, lowest=0)
    # Which parameters the mapping terms move: m and, through it, f's real path (True), or m alone
    # (False). The authors' public release back-propagates Lc into f but stops Lm at f (its default
    # `--no-backprop-through-featext-for-emb` detaches the unlabeled real features before m). Lc moves
    # f and m: on validation, three seeds paired, it lowers Full's error by 0.34 mm on both splits and
    # Real+Synth's by 0.35 on test (0.32 on validation, within noise) against m alone, a default once
    # chosen on the test split (`benchmarks/results/mechanisms-laptop.md`, hypotheses corr_trains_f).
    corr_trains_encoder: bool = setting(
        True, resume="stage2:synthetic", before=True, cli="let Lc move f as well as m (default: yes; --no-...: m alone)"
    )
    adv_trains_encoder: bool = setting(
        True, resume="stage2:adversarial", before=True,
        cli="let Lm move f as well as m (preset: yes; the authors' release: no)",
    )  # fmt: skip
    weight_decay: float = setting(0.0, resume="always", stage1=True, before=0.0)  # the release: 1e-3
    # Lg on the synthetic and the unlabeled real set only, drawn without in-plane rotation (True), or
    # on every set, rotated like the rest (False, as before this setting existed). A rotated crop shows
    # a hand turned about camera 1's axis, whose side view is not the captured one: g could only fit it
    # by learning to undo the rotation. The authors' release also draws its view-prediction samples
    # without rotation jitter, and from a part of the batch.
    view_sets_unrotated: bool = setting(True, resume="stage2:view", before=False)
    # Below paper scale, a stage's schedule epoch is its iteration count over the paper's epochs for
    # that stage, so the warm-up and decay of Eq. 14-15 keep their shape; False: the
    # paper's epoch of real training frames / batch size (the `paper` preset).
    scaled_schedule: bool = setting(True, resume="always", stage1=True, before=False)
    # Stage 2's base rate is base_lr times this, a knob tuned on validation per variant. None: not yet
    # resolved for a variant (`mlib.presets.resolve(preset, variant=...)` or `presets.for_variant` sets
    # the preset's choice); stage 2 refuses to start without it.
    stage2_lr_scale: float | None = setting(None, resume="stage2", before=1.0)
    # Stage 1 draws each synthetic sample from the renders of this many cameras (1: camera 1 only, as
    # before; 3: all, as the paper does): more viewpoints of the same poses for the shared predictor.
    stage1_synth_cameras: int = setting(1, resume="stage1", stage1=True, before=1)
    # How a step runs. precision "auto" uses bf16 autocast on CUDA and float32 elsewhere; "bf16" also
    # autocasts on a CPU, which pays off where the CPU has bf16 matrix units (benchmarks/bench_train.py
    # measures it) and changes the numbers at bf16 precision (so it is part of the resume check); "fp32"
    # never autocasts. channels_last stores images and conv weights NHWC, the layout the CPU and GPU
    # convolution kernels prefer; it reorders float sums, nothing more (so a run may resume in either).
    precision: str = setting(
        "auto", resume="always", stage1=True, before="auto", choices=PRECISIONS,
        cli="auto: bf16 autocast on CUDA, float32 elsewhere",
    )  # fmt: skip
    channels_last: bool = setting(True)
    store_on_device: bool = setting(True)  # on a GPU, the training crops live in its memory
    # Iterations of a variant trained from scratch (Real only, real_view), chosen on validation for that
    # variant; None: stage 1's plus stage 2's, so every model takes the same number of steps.
    scratch_iters: int | None = setting(None)
    # Start stage 2 from the shipped stage-1 weights of the preset and seed (mlib/pretrained) when they
    # were trained with this configuration on these synthetic renders; False trains stage 1 anew.
    use_shipped_stage1: bool = setting(True)
    # Switches for the points where the authors' release differs from the paper's text (each its own
    # switch; `mlib.presets.RELEASE` sets them all):
    # h and Lm see only the unlabeled real set against the synthetic set (release: its discriminator
    # loader), not every real set of the batch.
    adv_unlabeled_only: bool = setting(False, resume="stage2:adversarial", before=False)
    # f reads each set in its own pass, so batch norm normalises each set on its own (release: one
    # forward per loader), instead of one pass over the whole batch.
    batchnorm_per_set: bool = setting(False, resume="stage2", before=False)
    # Samples per batch of a separate view set (real frames and their renders, unrotated, Lg only), as
    # the release draws its view-prediction samples; 0: Lg on the synthetic and unlabeled sets.
    view_set: int = setting(0, resume="stage2:view", before=0)
    # Switches of the mechanism lab (benchmarks/lab/mechanisms.py), each a lever a researcher may want:
    # stage 2's rate for f and p relative to m and g (stage 2 may damage the pretrained predictor);
    predictor_lr_scale: float = setting(1.0, resume="stage2", before=1.0)
    # iterations at the start of stage 2 in which g alone learns Lg on detached latents, so a random
    # decoder's first gradients never reach f (variants with Lg; added to stage 2's iterations);
    view_warmup_iters: int = setting(0, resume="stage2:view", before=0)
    # the discriminator h's rate relative to the stage's: a fresh linear probe (mlib.analysis.probe) can
    # split real from synthetic latents perfectly while h, one Adam step per model step, scores well below it.
    disc_lr_scale: float = setting(1.0, resume="stage2:adversarial", before=1.0)

    def __post_init__(self):
        if self.stage1_synth_cameras not in (1, 2, 3):
            raise ValueError(f"TrainConfig.stage1_synth_cameras={self.stage1_synth_cameras}; the renders have cameras 1-3")
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision={self.precision!r}; choose one of {PRECISIONS}")

    @property
    def batch_size(self) -> int:
        return 4 * self.set_size


@dataclass(frozen=True)
class Run:
    """One training run, all it needs to know: the variant and labelled frames of its cell, its
    resolved settings (`mlib.presets.resolve`) and its run folder."""

    variant: str
    n_labeled: int | str
    train: TrainConfig
    model: ModelConfig
    out_dir: Path


@dataclass(frozen=True)
class TrainData:
    """The stores a trainer reads: the training split and, for its curves, the validation split."""

    train: CropStore
    val: CropStore | None = None


VIEW_SETS = ("synth", "unlabeled")  # the sets that carry Lg when `view_sets_unrotated`

def uses_bf16(cfg: TrainConfig, device: torch.device) -> bool:
    """Whether a step autocasts to bf16: "bf16" always, "auto" on CUDA only."""
    return cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")


def pick_device(preference: str = "auto") -> torch.device:
    """CUDA, then Apple's MPS, then CPU, unless told otherwise."""
    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


# ----------------------------------------------------------------------------- the trainer's parts


def check_settings(cfg: TrainConfig, model_cfg: ModelConfig, stage: int, **stores: CropStore | None) -> None:
    """Refuse a stage-2 config without its variant's rate and crops the model does not expect."""
    if stage == 2 and cfg.stage2_lr_scale is None:
        raise ValueError(
            "TrainConfig.stage2_lr_scale is unset: resolve the settings for the variant with "
            "mlib.presets.resolve(preset, variant=...) or mlib.presets.for_variant"
        )
    for name, store in stores.items():
        if store is not None and store.crop_size != model_cfg.crop_size:
            raise ValueError(
                f"the {name} crops are {store.crop_size}x{store.crop_size} but the model expects "
                f"{model_cfg.crop_size}x{model_cfg.crop_size}; resolve the preset with mlib.presets.resolve, "
                "which derives the model's crop size from the data"
            )


def optimisers(model: Murauer, cfg: TrainConfig, variant: Variant, stage: int) -> tuple[torch.optim.Optimizer, ...]:
    """Adam for the modules a stage trains (stage 1: f, p; stage 2: m, g and, unless frozen, f, p) and
    Adam for the discriminator h, which only its own loss moves."""
    trainable = ["f", "p"] if stage == 1 else (["f", "p"] if variant.train_predictor else []) + ["m", "g"]
    lr = cfg.base_lr * (cfg.stage2_lr_scale if stage == 2 else 1.0)
    adam = dict(lr=lr, betas=(0.9, 0.999), weight_decay=cfg.weight_decay)
    groups = [[p for name in trainable for p in getattr(model, name).parameters()]]
    if stage == 2 and cfg.predictor_lr_scale != 1.0 and variant.train_predictor:  # f, p at their own rate
        groups = [{"params": [p for k in ("m", "g") for p in getattr(model, k).parameters()]}]
        groups.append({"params": [*model.f.parameters(), *model.p.parameters()], "lr": lr * cfg.predictor_lr_scale})
    opt = torch.optim.Adam(groups[0] if len(groups) == 1 else groups, **adam)
    return opt, torch.optim.Adam(model.h.parameters(), **(adam | {"lr": lr * cfg.disc_lr_scale}))


def view_sets(comp: Composition, variant: Variant, stage: int, cfg: TrainConfig) -> tuple[tuple[str, ...], ...]:
    """The sets that carry Lg, and the sets drawn without rotation (empty when Lg covers every rotated set)."""
    if comp.view:  # a view set of its own carries Lg, every pose set is rotated alike
        return ("view_real", "view_synth"), ("view_real", "view_synth")
    unrotated = VIEW_SETS if variant.view and stage == 2 and cfg.view_sets_unrotated else ()
    return (VIEW_SETS if cfg.view_sets_unrotated else REAL_SETS + SYNTH_SETS), unrotated


def schedule_iters_per_epoch(cfg: TrainConfig, stage: int, stage_iters: int, n_real_train: int) -> float:
    """Iterations per epoch of the learning-rate schedule (appendix Eq. 14-15) of a stage that runs
    `stage_iters` scheduled iterations: below paper scale the stage's iterations over the paper's epochs
    (the schedule keeps its shape); at paper scale the real training frames over the batch size,
    whatever data the run draws (appendix A.1)."""
    if cfg.scaled_schedule:
        return scaled_iterations_per_epoch(stage_iters, stage)
    return iterations_per_epoch(n_real_train, cfg.batch_size)


def encode(model: Murauer, batch: Batch, cfg: TrainConfig, grad: bool = True):
    """f over the whole batch, then m on the real part: f's output, the real latents (through m), the
    synthetic latents and each set's latents by name. `grad`: whether f's parameters learn here."""
    x_real, x_synth = batch.stack(batch.names("real"), "x"), batch.stack(batch.names("synth"), "x")
    n_real = len(x_real) if x_real is not None else 0
    # One pass of f over both domains, so batch norm normalises them together as it will at test time
    # (its running statistics mix both); `batchnorm_per_set`: one pass per set, as the release does.
    x = torch.cat([t for t in (x_real, x_synth) if t is not None])
    if cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.set_grad_enabled(grad):
        if cfg.batchnorm_per_set:
            sizes = [len(batch[k].x) for k in batch.names("real") + batch.names("synth")]
            z_f = torch.cat([model.f(part) for part in torch.split(x, sizes)])
        else:
            z_f = model.f(x)
    z_real = model.m(z_f[:n_real]) if n_real else None
    z_synth = z_f[n_real:] if x_synth is not None else None
    return z_f, z_real, z_synth, batch.split(z_real, "real") | batch.split(z_synth, "synth")


def pose_term(model: Murauer, batch: Batch, z: dict[str, torch.Tensor]) -> torch.Tensor:
    """Lp (Eq. 5) on every labeled set, real ones read through m."""
    labeled = [k for k in LABELED_SETS if k in z]
    real_lab, synth_lab = [k for k in labeled if k in REAL_SETS], [k for k in labeled if k in SYNTH_SETS]
    preds = [model.p(torch.cat([z[k] for k in ks])) for ks in (real_lab, synth_lab) if ks]
    pred = torch.cat(preds).float().view(-1, model.cfg.num_joints, 3)
    return pose_loss(pred, batch.stack(tuple(real_lab + synth_lab), "y"))


PROBE_FRAMES, PROBE_FRAMES_MIN = 1000, 20  # the in-training probe: up to 1,000 validation frames per domain (with
# 200 its accuracy on 512-d latents read 0.45 where 2,000 test frames read 0.77); a 5-fold probe needs a few per fold


def validation_figures(model: Murauer, val: CropStore, stage: int, val_frames: int, device: torch.device) -> dict[str, float]:
    """A history row's validation figures: the mean joint error (mm) on the first `val_frames` validation
    frames (real ones through m in stage 2) and, in stage 2, a fresh linear probe's accuracy at telling
    their latents from their renders' (mlib.analysis: the judge of alignment that has not played h's game).
    Leaves the model in evaluation mode."""
    idx = torch.arange(min(len(val), val_frames))
    row = {"val_error_mm": evaluate_store(model, val, "real", stage == 2, device, indices=idx)["mean"]}
    probe_idx = torch.arange(min(len(val), PROBE_FRAMES))
    if stage == 2 and len(probe_idx) >= PROBE_FRAMES_MIN:
        z_real = latents(model, val, "real", True, probe_idx, device)
        z_synth = latents(model, val, "synth", False, probe_idx, device)
        row["probe"] = domain_separability(z_real, z_synth)
    return row


# ----------------------------------------------------------------------------- the trainer


class Callback:
    """Something that watches a trainer (minGPT's callbacks): told when `run` starts, of every history
    row and when `run` ends. TensorBoard (`mlib.tblog.TensorBoardCallback`) is one."""

    def on_start(self, trainer: Trainer) -> None: ...

    def on_row(self, trainer: Trainer, row: dict) -> None: ...

    def on_end(self, trainer: Trainer) -> None: ...


class Trainer:
    """Runs one stage of one run, with checkpoints, resume and a history:

        trainer = Trainer(run, model, TrainData(train, val), stage=2)
        trainer.resume()            # if the run folder holds this stage's checkpoint
        history = trainer.run()

    A step is Eq. 1 for f, p, m and g (`model_step`), then h's own step (`mlib.adversarial`)."""

    def __init__(self, run: Run, model: Murauer, data: TrainData, stage: int, callbacks: Sequence[Callback] = ()):
        cfg, self.variant = run.train, VARIANTS[run.variant]
        self.run_cfg, self.cfg, self.model_cfg, self.model, self.stage = run, cfg, run.model, model, stage
        self.train, self.val, self.callbacks = data.train, data.val, list(callbacks)
        self.device = next(model.parameters()).device
        check_settings(cfg, run.model, stage, training=data.train, validation=data.val)
        self.out_dir, self.ckpt_path = Path(run.out_dir), Path(run.out_dir) / f"stage{stage}.pt"
        self.iters = stage_iterations(cfg, self.variant, stage)
        self.warmup = cfg.view_warmup_iters if stage == 2 and self.variant.view and self.variant.pretrained else 0
        comp = composition(self.variant, stage, cfg.set_size, cfg.view_set if self.variant.synthetic else 0)
        labeled = labeled_subset(len(data.train), run.n_labeled, cfg.seed) if stage == 2 else []
        self.sampler = FourSetSampler(len(data.train), labeled, comp, cfg.seed + stage)
        self.aug_gen = torch.Generator(device=self.device).manual_seed(cfg.seed + 100 + stage)
        self.trains_predictor = stage == 1 or self.variant.train_predictor
        self.opt, opt_h = optimisers(model, cfg, self.variant, stage)
        ipe = schedule_iters_per_epoch(cfg, stage, self.iters - self.warmup, len(data.train))
        self.sched = make_scheduler(self.opt, ipe, cfg.gamma)
        self.amp = uses_bf16(cfg, self.device)
        self.game = DiscriminatorStep(model.h, opt_h, make_scheduler(opt_h, ipe, cfg.gamma), self.device, self.amp)
        self.iteration, self.history = 0, []
        self.view_sets, self.unrotated = view_sets(comp, self.variant, stage, cfg)
        self.train_mode()

    # -- one step ----------------------------------------------------------------------------

    def step(self) -> dict[str, torch.Tensor]:
        """One optimisation step; returns the detached loss terms (on the device, no sync)."""
        batch = make_batch(
            self.train, self.sampler.sample(), self.device, self.cfg.augment, self.aug_gen,
            unrotated=self.unrotated, synth_cameras=self.cfg.stage1_synth_cameras if self.stage == 1 else 1,
        )  # fmt: skip
        if self.iteration < self.warmup:
            return self.view_warmup_step(batch)
        terms, z_real, z_synth = self.model_step(batch)
        if self.variant.adversarial and self.stage == 2:  # Eq. 12: h's move, on the latents of this step
            terms.update(self.game(*game_latents(batch, z_real, z_synth, self.cfg.adv_unlabeled_only)))
        return terms

    def model_step(self, batch: Batch) -> tuple[dict[str, torch.Tensor], torch.Tensor | None, torch.Tensor | None]:
        """Eq. 1, L = Lp + λc·Lc + λg·Lg + λm·Lm, for f, p, m and g (stage 1: Lp for f and p).
        Returns the terms and the real (through m) and synthetic latents."""
        v, cfg, stage2 = self.variant, self.cfg, self.stage == 2
        terms: dict[str, torch.Tensor] = {}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            z_f, z_real, z_synth, z = encode(self.model, batch, self.cfg, grad=self.trains_predictor)
            if self.trains_predictor and any(k in z for k in LABELED_SETS):
                terms["pose"] = pose_term(self.model, batch, z)  # Lp (Eq. 5)
            if "pair_real" in z:  # Lc (Eq. 8): the mapped real latent of a pair onto its render's
                z_pair = z["pair_real"] if cfg.corr_trains_encoder else self.model.m(z_f[: len(z["pair_real"])].detach())
                terms["corr"] = correspondence_loss(z_pair.float(), z["pair_synth"].float())
            if v.view and stage2:  # Lg (Eq. 10): the other camera's view from each view set's latent
                sets = tuple(k for k in z if k in self.view_sets)
                pred_view = self.model.view(torch.cat([z[k] for k in sets]), batch.stack(sets, "centre"))
                terms["view"] = view_loss(pred_view.float(), batch.stack(sets, "view"))
            if v.adversarial and stage2:  # Lm (Eq. 13): every real latent should look synthetic to h
                n_real = 0 if z_real is None else len(z_real)
                z_adv = z_real if cfg.adv_trains_encoder else self.model.m(z_f[:n_real].detach())
                terms["adv"] = mapping_loss(self.model.h, game_latents(batch, z_adv, None, cfg.adv_unlabeled_only)[0])
            loss = total_loss(terms, cfg.weights)  # Eq. 1
        self.descend(loss)
        self.sched.step()
        return {k: t.detach() for k, t in terms.items()}, z_real, z_synth

    def view_warmup_step(self, batch: Batch) -> dict[str, torch.Tensor]:
        """g alone fits Lg on latents it cannot move; the schedule waits for the real stage 2."""
        model, sets = self.model, tuple(k for k in batch if k in self.view_sets)
        with torch.no_grad():
            z = [model.m(model.f(batch[k].x)) if k in REAL_SETS else model.f(batch[k].x) for k in sets]
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            pred = model.view(torch.cat(z), batch.stack(sets, "centre"))
            terms = {"view": view_loss(pred.float(), batch.stack(sets, "view"))}
            loss = total_loss(terms, self.cfg.weights)
        self.descend(loss)
        return {k: t.detach() for k, t in terms.items()}

    def descend(self, loss: torch.Tensor) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    # -- the loop --------------------------------------------------------------------------------

    def run(self, progress: bool = True, stop_at: int | None = None) -> list[dict]:
        """Train until `self.iters` (or `stop_at`, to simulate an interruption); checkpoint on the way."""
        end = min(self.iters, stop_at) if stop_at is not None else self.iters
        self.train_mode()
        self.prepare_device()
        window = LogWindow(self.device, self.history)
        for cb in self.callbacks:
            cb.on_start(self)
        bar = tqdm(total=end, initial=self.iteration, desc=f"stage {self.stage}", disable=not progress)
        try:
            while self.iteration < end:
                terms = self.step()
                self.iteration += 1
                window.add(self.iteration, terms)
                bar.update(1)
                last = self.iteration == end
                if self.iteration % self.cfg.log_every == 0 or last:
                    window.check(self.nan_context())  # the only host sync, at the log interval
                    row = window.row(self.iteration, self.stage, self.sched.get_last_lr()[0])
                    if self.val is not None and self.cfg.eval_every and (self.iteration % self.cfg.eval_every == 0 or last):
                        row |= self.validation_row()
                    self.history.append(row)
                    for cb in self.callbacks:
                        cb.on_row(self, row)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k in TERMS or k == "val_error_mm"})
                if self.iteration % self.cfg.ckpt_every == 0 or last:
                    window.check(self.nan_context())  # never save parameters a NaN has touched
                    self.save()
        finally:
            bar.close()
            for cb in self.callbacks:
                cb.on_end(self)
        return self.history

    def train_mode(self) -> None:
        """Training mode for the modules this stage trains; a frozen predictor keeps f's batch-norm
        statistics, so its latents stay exactly the pretrained model's."""
        self.model.train()
        if not self.trains_predictor:
            self.model.f.eval()
            self.model.p.eval()

    def prepare_device(self) -> None:
        """Layout and placement, done only when there is training to do (a finished cell that is merely
        reloaded never copies its store): conv weights channels-last if asked, and on CUDA the training
        crops in GPU memory, so batches are gathered and augmented there."""
        if self.cfg.channels_last:
            self.model.to(memory_format=torch.channels_last)
        if self.device.type == "cuda" and self.cfg.store_on_device and self.train.device != self.device:
            self.train = self.train.to(self.device)

    def validation_row(self) -> dict[str, float]:
        row = validation_figures(self.model, self.val, self.stage, self.cfg.val_frames, self.device)
        self.train_mode()  # the figures are taken in evaluation mode
        return row

    def nan_context(self) -> str:
        """Where a non-finite loss happened and what the checkpoint still holds, for its error."""
        kept = "keeps the last good state" if self.ckpt_path.exists() else "was not written: nothing to keep"
        return f"stage {self.stage}; {self.ckpt_path} {kept}"

    # -- checkpoints (mlib.checkpoint) -------------------------------------------------------------

    def parts(self) -> dict:
        """The parts with a state of their own, by their checkpoint key."""
        return {"opt": self.opt, "opt_h": self.game.opt, "sched": self.sched, "sched_h": self.game.sched, "sampler": self.sampler}

    def state_dict(self) -> dict:
        """Everything this trainer needs to continue exactly where it stopped."""
        return {
            "model": self.model.state_dict(),
            **{key: part.state_dict() for key, part in self.parts().items()},
            "aug_gen": self.aug_gen.get_state(),
            "iteration": self.iteration,
            "stage": self.stage,
            "history": self.history,
            "model_cfg": json.dumps(dataclasses.asdict(self.model_cfg)),
            "train_cfg": json.dumps(dataclasses.asdict(self.cfg)),
            "variant": json.dumps(dataclasses.asdict(self.variant)),
        }

    def save(self) -> None:
        atomic_save(self.state_dict(), self.ckpt_path)
        write_history(self.history, self.out_dir, self.stage)

    def resume(self, path: str | Path | None = None) -> None:
        """Continue from a checkpoint of this stage, refusing one trained with other settings."""
        path = Path(path or self.ckpt_path)
        ckpt = load_checkpoint(path, map_location=self.device)
        diffs = config_differences(ckpt, self.cfg, self.variant, self.stage)
        if diffs:
            raise ValueError(
                f"{path} was trained with another configuration ({'; '.join(diffs)}); "
                "train into another run folder, or delete the checkpoint to start over"
            )
        load_model_state(self.model, ckpt["model"], str(path))
        for key, part in self.parts().items():
            part.load_state_dict(ckpt[key])
        self.aug_gen.set_state(ckpt["aug_gen"].cpu())  # RNG states are CPU byte tensors, even a CUDA generator's
        self.iteration = int(ckpt["iteration"])
        self.history = list(ckpt["history"])


class LogWindow:
    """The loss terms since the last history row, summed on the device and averaged into the next row,
    with the watch for a non-finite term (`losses.FiniteWatch`), which only the log interval syncs."""

    def __init__(self, device: torch.device, history: list[dict]):
        self.watch = FiniteWatch(TERMS, device)
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        # "seconds" counts training time across resumes: a resumed run starts where its history ends.
        self.t0 = time.perf_counter() - (history[-1].get("seconds", 0.0) if history else 0.0)

    def add(self, iteration: int, terms: dict[str, torch.Tensor]) -> None:
        self.count += 1
        self.watch.update(iteration, terms)
        for k, t in terms.items():
            self.sums[k] = self.sums.get(k, 0) + t.float()

    def check(self, where: str) -> None:
        self.watch.check(where)

    def row(self, iteration: int, stage: int, lr: float) -> dict:
        """The history row of the window (each term's mean over it), which starts the next window."""
        row = {"iteration": iteration, "stage": stage, "lr": lr}
        row.update({k: float(s) / self.count for k, s in self.sums.items()})
        row["seconds"] = time.perf_counter() - self.t0
        self.sums, self.count = {}, 0
        return row


if __name__ == "__main__":  # `python -m mlib.train`: the command line (mlib.train_cli) needs the trainer, not the reverse
    import runpy

    runpy.run_module("mlib.train_cli", run_name="__main__")
