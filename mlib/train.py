"""Two-stage MURAUER training: stage 1 pretrains f and p on synthetic data, stage 2 trains
all modules with Eq. 1 on four-set mini-batches. The six ablation variants are switches
of one training step, not separate code paths.

    python -m mlib.train --preset ci --variant full --n-labeled 100 --out runs/full-100

prints a progress bar and, at the end, one JSON line with the test mean joint error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from mlib.analysis import domain_separability, latents
from mlib.checkpoint import (
    atomic_save,
    restore,
    trainer_state,
    write_history,
)
from mlib.data.augment import AugmentConfig
from mlib.data.datasets import (
    LABELED_SETS,
    REAL_SETS,
    SYNTH_SETS,
    Batch,
    Composition,
    CropStore,
    FourSetSampler,
    make_batch,
)
from mlib.evaluate import evaluate_store
from mlib.losses import (
    TERM_KEYS,
    FiniteWatch,
    LossWeights,
    correspondence_loss,
    discriminator_loss,
    mapping_adversarial_loss,
    pose_loss,
    total_loss,
    view_loss,
)
from mlib.models import ModelConfig, Murauer
from mlib.schedule import iterations_per_epoch, make_scheduler, scaled_iterations_per_epoch
from mlib.tblog import TensorBoardLog
from mlib.variants import Variant, composition, stage_iterations

TERMS = (*TERM_KEYS, "disc")  # Eq. 1's terms and the discriminator's Lh, as logged


PRECISIONS = ("auto", "fp32", "bf16")  # TrainConfig.precision


@dataclass(frozen=True)
class TrainConfig:
    """How a stage trains. A preset's values are in `mlib.presets`; `preset` names the one these
    settings came from (the shipped stage-1 file's name, and part of the resume check)."""

    preset: str = "laptop"
    stage1_iters: int = 3000
    stage2_iters: int = 2000
    set_size: int = 16  # samples per set; batch = 4 sets (paper: 16 each at batch 64)
    base_lr: float = 3.3e-4
    gamma: float = 0.04
    weights: LossWeights = field(default_factory=LossWeights)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    log_every: int = 50
    eval_every: int = 500  # validation error on `val_frames` real test frames; 0 = never
    val_frames: int = 500
    ckpt_every: int = 500
    seed: int = 0
    # Which parameters the mapping terms move: m and, through it, f's real path (True), or m alone
    # (False). The authors' public release back-propagates Lc into f but stops Lm at f (its default
    # `--no-backprop-through-featext-for-emb` detaches the unlabeled real features before m). Here Lc
    # trains m alone by default: with Lc and Lg both pulling on f, the slim laptop network got worse
    # at n=100 (Full 26.7 -> 24.3 mm, View Pred. 26.1 -> 24.4 mm with m alone; README, Results).
    corr_trains_encoder: bool = False
    adv_trains_encoder: bool = True
    weight_decay: float = 0.0  # Adam's L2 penalty; the authors' release uses 1e-3
    # Lg on the synthetic and the unlabeled real set only, drawn without in-plane rotation (True), or
    # on every set, rotated like the rest (False, as before this setting existed). A rotated crop shows
    # a hand turned about camera 1's axis, whose side view is not the captured one: g could only fit it
    # by learning to undo the rotation. The authors' release also draws its view-prediction samples
    # without rotation jitter, and from a part of the batch.
    view_sets_unrotated: bool = True
    # Below paper scale, a stage's schedule epoch is its iteration count over the paper's epochs for
    # that stage, so the warm-up and decay of Eq. 14-15 keep their shape; False: the
    # paper's epoch of real training frames / batch size (the `paper` preset).
    scaled_schedule: bool = True
    # Stage 2's base rate is base_lr times this, a knob tuned on validation per variant. None: not yet
    # resolved for a variant (`mlib.presets.resolve(preset, variant=...)` or `presets.for_variant` sets
    # the preset's choice); stage 2 refuses to start without it.
    stage2_lr_scale: float | None = None
    # Stage 1 draws each synthetic sample from the renders of this many cameras (1: camera 1 only, as
    # before; 3: all, as the paper does): more viewpoints of the same poses for the shared predictor.
    stage1_synth_cameras: int = 1
    # How a step runs. precision "auto" uses
    # bf16 autocast on CUDA and float32 elsewhere; "bf16" also autocasts on a CPU, which pays off where
    # the CPU has bf16 matrix units (benchmarks/bench_train.py measures it) and changes the numbers at
    # bf16 precision (so it is part of the resume check); "fp32" never autocasts. channels_last stores
    # images and conv weights NHWC, the layout the CPU and GPU convolution kernels prefer; it reorders
    # float sums, nothing more (so a run may resume in either layout).
    precision: str = "auto"
    channels_last: bool = True
    store_on_device: bool = True  # on a GPU, the training crops live in its memory
    # Iterations of a variant trained from scratch (Real only, real_view), chosen on validation for that
    # variant; None: stage 1's plus stage 2's, so every model takes the same number of steps.
    scratch_iters: int | None = None
    # Start stage 2 from the shipped stage-1 weights of the preset and seed (mlib/pretrained) when they
    # were trained with this configuration on these synthetic renders; False trains stage 1 anew.
    use_shipped_stage1: bool = True
    # Switches for the points where the authors' release differs from the paper's text (each its own
    # switch; `mlib.presets.RELEASE` sets them all):
    # h and Lm see only the unlabeled real set against the synthetic set (release: its discriminator
    # loader), not every real set of the batch.
    adv_unlabeled_only: bool = False
    # f reads each set in its own pass, so batch norm normalises each set on its own (release: one
    # forward per loader), instead of one pass over the whole batch.
    batchnorm_per_set: bool = False
    # Samples per batch of a separate view set (real frames and their renders, unrotated, Lg only), as
    # the release draws its view-prediction samples; 0: Lg on the synthetic and unlabeled sets.
    view_set: int = 0
    # Stage 2's rate for f and p relative to m and g (stage 2 may damage the pretrained predictor).
    predictor_lr_scale: float = 1.0
    # Iterations at the start of stage 2 in which g alone learns Lg on detached latents, so a random
    # decoder's first gradients never reach f (variants with Lg; added to stage 2's iterations).
    view_warmup_iters: int = 0
    # The discriminator h's rate relative to the stage's: a fresh linear probe (mlib.analysis.probe) can
    # split real from synthetic latents perfectly while h, one Adam step per model step, scores well below it.
    disc_lr_scale: float = 1.0

    def __post_init__(self):
        if self.stage1_synth_cameras not in (1, 2, 3):
            raise ValueError(f"TrainConfig.stage1_synth_cameras={self.stage1_synth_cameras}; the renders have cameras 1-3")
        if self.precision not in PRECISIONS:
            raise ValueError(f"TrainConfig.precision={self.precision!r}; choose one of {PRECISIONS}")

    @property
    def batch_size(self) -> int:
        return 4 * self.set_size


VIEW_SETS = ("synth", "unlabeled")  # the sets that carry Lg when `view_sets_unrotated`

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


def adversarial_sets(cfg: TrainConfig, batch: Batch) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The real and synthetic sets h judges and Lm moves: every set but the view set (which carries
    Lg only), or, as in the authors' release, the unlabeled real set against the synthetic set."""
    if cfg.adv_unlabeled_only:
        return ("unlabeled",), ("synth",)
    pick = lambda domain: tuple(k for k in batch.names(domain) if not k.startswith("view_"))  # noqa: E731
    return pick("real"), pick("synth")


def schedule_iters_per_epoch(cfg: TrainConfig, stage: int, stage_iters: int, n_real_train: int) -> float:
    """Iterations per epoch of the learning-rate schedule (appendix Eq. 14-15) of a stage that runs
    `stage_iters` scheduled iterations: below paper scale the stage's iterations over the paper's epochs
    (the schedule keeps its shape); at paper scale the real training frames over the batch size,
    whatever data the run draws (appendix A.1)."""
    if cfg.scaled_schedule:
        return scaled_iterations_per_epoch(stage_iters, stage)
    return iterations_per_epoch(n_real_train, cfg.batch_size)


# ----------------------------------------------------------------------------- the trainer


class Trainer:
    """Runs one stage of one variant, with checkpoints, resume and a history."""

    def __init__(
        self,
        model: Murauer,
        model_cfg: ModelConfig,
        cfg: TrainConfig,
        variant: Variant,
        train: CropStore,
        val: CropStore | None,
        stage: int,
        labeled,
        out_dir: str | Path,
        device: torch.device,
        n_real_train: int | None = None,
    ):
        self.model, self.model_cfg, self.cfg, self.variant, self.stage = model, model_cfg, cfg, variant, stage
        self.train, self.val, self.device = train, val, device
        self.tensorboard: TensorBoardLog | None = None  # set by the caller to log this stage there too
        check_settings(cfg, model_cfg, stage, training=train, validation=val)
        self.out_dir = Path(out_dir)
        self.ckpt_path = self.out_dir / f"stage{stage}.pt"
        self.iters = stage_iterations(cfg, variant, stage)
        self.warmup = cfg.view_warmup_iters if stage == 2 and variant.view and variant.pretrained else 0
        comp = composition(variant, stage, cfg.set_size, cfg.view_set if variant.synthetic else 0)
        self.sampler = FourSetSampler(len(train), labeled, comp, cfg.seed + stage)
        self.aug_gen = torch.Generator(device=device).manual_seed(cfg.seed + 100 + stage)
        self.trains_predictor = stage == 1 or variant.train_predictor
        self.opt, self.opt_h = optimisers(model, cfg, variant, stage)
        ipe = schedule_iters_per_epoch(cfg, stage, self.iters - self.warmup, n_real_train or len(train))
        self.sched = make_scheduler(self.opt, ipe, cfg.gamma)
        self.sched_h = make_scheduler(self.opt_h, ipe, cfg.gamma)
        self.iteration = 0
        self.history: list[dict] = []
        self.amp = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
        self.view_sets, self.unrotated = view_sets(comp, variant, stage, cfg)
        self.train_mode()

    # -- one step ----------------------------------------------------------------------------

    def step(self) -> dict[str, torch.Tensor]:
        """One optimisation step; returns the detached loss terms (on the device, no sync)."""
        batch = make_batch(
            self.train,
            self.sampler.sample(),
            self.device,
            self.cfg.augment,
            self.aug_gen,
            unrotated=self.unrotated,
            synth_cameras=self.cfg.stage1_synth_cameras if self.stage == 1 else 1,
        )
        if self.iteration < self.warmup:
            return view_warmup_step(self, batch)
        terms, z_real, z_synth = self.model_step(batch)
        if self.variant.adversarial and self.stage == 2:
            real_sets, synth_sets = adversarial_sets(self.cfg, batch)
            z_real = torch.cat([batch.split(z_real, "real")[k] for k in real_sets])
            z_synth = torch.cat([batch.split(z_synth, "synth")[k] for k in synth_sets])
            terms.update(self.discriminator_step(z_real, z_synth))
        return terms

    def model_step(self, batch: Batch) -> tuple[dict[str, torch.Tensor], torch.Tensor | None, torch.Tensor | None]:
        """Eq. 1 for f, p, m, g (stage 1: Lp for f, p). Returns the terms and the real and synthetic latents."""
        v, model, cfg, stage2 = self.variant, self.model, self.cfg, self.stage == 2
        x_real, x_synth = batch.stack(batch.names("real"), "x"), batch.stack(batch.names("synth"), "x")
        n_real = len(x_real) if x_real is not None else 0
        terms: dict[str, torch.Tensor] = {}
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            # One pass of f over both domains, so batch norm normalises them together as it will at
            # test time (its running statistics mix both); then m on the real part only.
            x = torch.cat([t for t in (x_real, x_synth) if t is not None])
            if cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.set_grad_enabled(self.trains_predictor):
                if cfg.batchnorm_per_set:  # one pass per set: batch norm sees each set on its own
                    sizes = [len(batch[k].x) for k in batch.names("real") + batch.names("synth")]
                    z_f = torch.cat([model.f(part) for part in torch.split(x, sizes)])
                else:
                    z_f = model.f(x)
            z_real = model.m(z_f[:n_real]) if n_real else None
            z_synth = z_f[n_real:] if x_synth is not None else None
            z = batch.split(z_real, "real") | batch.split(z_synth, "synth")  # each set's latents

            labeled = [k for k in LABELED_SETS if k in z]
            if self.trains_predictor and labeled:  # Lp (Eq. 5) on every labeled set, real ones through m
                real_lab, synth_lab = [k for k in labeled if k in REAL_SETS], [k for k in labeled if k in SYNTH_SETS]
                preds = [model.p(torch.cat([z[k] for k in ks])) for ks in (real_lab, synth_lab) if ks]
                pred = torch.cat(preds).float().view(-1, self.model_cfg.num_joints, 3)
                terms["pose"] = pose_loss(pred, batch.stack(tuple(real_lab + synth_lab), "y"))
            if "pair_real" in z:  # Lc (Eq. 8): the mapped real latent of a pair onto its render's
                z_pair = z["pair_real"] if cfg.corr_trains_encoder else model.m(z_f[: len(z["pair_real"])].detach())
                terms["corr"] = correspondence_loss(z_pair.float(), z["pair_synth"].float())
            if v.view and stage2:  # Lg (Eq. 10): the other camera's view from each view set's latent
                view_sets = tuple(k for k in z if k in self.view_sets)
                pred_view = model.view(torch.cat([z[k] for k in view_sets]), batch.stack(view_sets, "centre"))
                terms["view"] = view_loss(pred_view.float(), batch.stack(view_sets, "view"))
            if v.adversarial and stage2:  # Lm (Eq. 13): every real latent should look synthetic to h
                model.h.requires_grad_(False)  # Lm trains m (and f through it, if asked), never h
                z_adv = z_real if cfg.adv_trains_encoder else model.m(z_f[:n_real].detach())
                z_adv = torch.cat([batch.split(z_adv, "real")[k] for k in adversarial_sets(cfg, batch)[0]])
                terms["adv"] = mapping_adversarial_loss(model.h(z_adv).float())
                model.h.requires_grad_(True)
            loss = total_loss(terms, cfg.weights)  # Eq. 1
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.sched.step()
        return {k: t.detach() for k, t in terms.items()}, z_real, z_synth

    def discriminator_step(self, z_real: torch.Tensor, z_synth: torch.Tensor) -> dict[str, torch.Tensor]:
        """LSGAN update of h alone, on detached latents (real -> 1, synthetic -> 0)."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            h_real, h_synth = self.model.h(z_real.detach()).float(), self.model.h(z_synth.detach()).float()
            loss = discriminator_loss(h_real, h_synth)
        self.opt_h.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_h.step()
        self.sched_h.step()
        accuracy = ((h_real > 0.5).float().mean() + (h_synth < 0.5).float().mean()) / 2
        return {"disc": loss.detach(), "disc_acc": accuracy.detach()}

    # -- the loop --------------------------------------------------------------------------------

    def run(self, progress: bool = True, stop_at: int | None = None) -> list[dict]:
        """Train until `self.iters` (or `stop_at`, to simulate an interruption); checkpoint on the way."""
        end = min(self.iters, stop_at) if stop_at is not None else self.iters
        self.train_mode()
        prepare_device(self)
        window = LogWindow(self.device, self.history)
        bar = tqdm(total=end, initial=self.iteration, desc=f"stage {self.stage}", disable=not progress)
        while self.iteration < end:
            terms = self.step()
            self.iteration += 1
            window.add(self.iteration, terms)
            bar.update(1)
            last = self.iteration == end
            if self.iteration % self.cfg.log_every == 0 or last:
                window.check(nan_context(self))  # the only host sync, at the log interval
                row = window.row(self.iteration, self.stage, self.sched.get_last_lr()[0])
                if self.val is not None and self.cfg.eval_every and (self.iteration % self.cfg.eval_every == 0 or last):
                    row |= validation_row(self)
                self.history.append(row)
                log_to_tensorboard(self, row)
                bar.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k in TERMS or k == "val_error_mm"})
            if self.iteration % self.cfg.ckpt_every == 0 or last:
                window.check(nan_context(self))  # never save parameters a NaN has touched
                self.save()
        bar.close()
        return self.history

    def train_mode(self) -> None:
        """Training mode for the modules this stage trains; a frozen predictor keeps f's batch-norm
        statistics, so its latents stay exactly the pretrained model's."""
        self.model.train()
        if not self.trains_predictor:
            self.model.f.eval()
            self.model.p.eval()

    # -- checkpoints (mlib.checkpoint) -------------------------------------------------------------

    def save(self) -> None:
        atomic_save(trainer_state(self), self.ckpt_path)
        write_history(self.history, self.out_dir, self.stage)

    def resume(self, path: str | Path | None = None) -> None:
        restore(self, Path(path or self.ckpt_path))


# ----------------------------------------------------------------------------- the loop's helpers


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


def view_warmup_step(tr: Trainer, batch: Batch) -> dict[str, torch.Tensor]:
    """g alone fits Lg on latents it cannot move; the schedule waits for the real stage 2."""
    model, sets = tr.model, tuple(k for k in batch if k in tr.view_sets)
    with torch.no_grad():
        z = [model.m(model.f(batch[k].x)) if k in REAL_SETS else model.f(batch[k].x) for k in sets]
    with torch.autocast(tr.device.type, dtype=torch.bfloat16, enabled=tr.amp):
        pred = model.view(torch.cat(z), batch.stack(sets, "centre"))
        terms = {"view": view_loss(pred.float(), batch.stack(sets, "view"))}
        loss = total_loss(terms, tr.cfg.weights)
    tr.opt.zero_grad(set_to_none=True)
    loss.backward()
    tr.opt.step()
    return {k: t.detach() for k, t in terms.items()}


def prepare_device(tr: Trainer) -> None:
    """Layout and placement for training, done only when there is training to do (a finished cell
    that is merely reloaded never copies its store): conv weights channels-last if asked, and on
    CUDA the training crops in GPU memory, so batches are gathered and augmented there."""
    if tr.cfg.channels_last:
        tr.model.to(memory_format=torch.channels_last)
    if tr.device.type == "cuda" and tr.cfg.store_on_device and tr.train.device != tr.device:
        tr.train = tr.train.to(tr.device)


def validation_row(tr: Trainer) -> dict[str, float]:
    """The validation figures of a history row (the error and, in stage 2, the fresh probe); the
    modules go back to training mode after."""
    row = {"val_error_mm": validation_error(tr)}
    if tr.stage == 2 and (probe := latent_probe(tr)) is not None:
        row["probe"] = probe
    tr.train_mode()
    return row


def nan_context(tr: Trainer) -> str:
    """Where a non-finite loss happened and what the checkpoint still holds, for its error."""
    kept = "keeps the last good state" if tr.ckpt_path.exists() else "was not written: nothing to keep"
    return f"stage {tr.stage}; {tr.ckpt_path} {kept}"


def validation_error(tr: Trainer) -> float:
    """Mean joint error (mm) on the first `val_frames` validation frames, real ones through m in stage 2."""
    idx = torch.arange(min(len(tr.val), tr.cfg.val_frames))
    return evaluate_store(tr.model, tr.val, "real", tr.stage == 2, tr.device, indices=idx)["mean"]


def latent_probe(tr: Trainer, frames: int = 200) -> float | None:
    """A fresh linear probe's accuracy at telling real validation latents (through m) from those of their
    synthetic renders: the judge of alignment that has not played h's game (mlib.analysis). None where
    the validation split is too small for its 5-fold estimate."""
    if min(len(tr.val), frames) < 20:
        return None
    idx = torch.arange(min(len(tr.val), frames))
    z_real = latents(tr.model, tr.val, "real", True, idx, tr.device)
    return domain_separability(z_real, latents(tr.model, tr.val, "synth", False, idx, tr.device))


def log_to_tensorboard(tr: Trainer, row: dict) -> None:
    """A history row as TensorBoard scalars and, at a stage-2 validation with Lg, a few predicted views."""
    if tr.tensorboard is None:
        return
    tr.tensorboard.scalars(row)
    if "val_error_mm" in row and tr.stage == 2 and tr.variant.view:
        tr.tensorboard.views(tr.model, tr.val, tr.iteration, tr.device)


if __name__ == "__main__":  # `python -m mlib.train`: the command line (mlib.train_cli) needs the trainer, not the reverse
    import runpy

    runpy.run_module("mlib.train_cli", run_name="__main__")
