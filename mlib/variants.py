"""The variants of the ablation (paper §4.3) as switches of one training step, and what each switch
decides before a step runs: the batch's composition and a stage's number of iterations.

    VARIANTS["full"]        # Eq. 1 with every term and every set
    VARIANTS["real_synth"]  # Lp and Lc on labeled frames, no unlabeled ones

A variant is not a code path: `mlib.train.Trainer` reads its switches in one step function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlib.data.datasets import Composition

if TYPE_CHECKING:
    from mlib.train import TrainConfig


@dataclass(frozen=True)
class Variant:
    """Which parts of Eq. 1 and which data a run uses (paper §4.3)."""

    synthetic: bool = True  # synthetic samples and corresponding pairs (Lp on synthetic, Lc)
    unlabeled: bool = True  # the unlabeled real set
    view: bool = True  # view prediction, Lg
    adversarial: bool = True  # distribution matching, Lm and the discriminator
    stage2: bool = True  # False: stage 1 only (the synthetic-only model)
    pretrained: bool = True  # start stage 2 from the stage-1 checkpoint
    real_labels: bool = True  # the labeled real sets (pairs and/or labeled real samples)
    train_predictor: bool = True  # False: f and p stay as pretrained (eval mode), stage 2 trains m (and h)

    @property
    def uses_n(self) -> bool:
        """Whether the number of labeled real frames shapes this variant. One that reads no real label
        (Synth only, the unsupervised Synth adapt) has a single cell per seed, filed under n = 'all'."""
        return self.stage2 and self.real_labels

    def cell_n(self, n_labeled: int | str) -> int | str:
        return n_labeled if self.uses_n else "all"


VARIANTS: dict[str, Variant] = {
    # the paper's ablation (§4.3)
    "synth_only": Variant(unlabeled=False, view=False, adversarial=False, stage2=False),
    "real_only": Variant(synthetic=False, unlabeled=False, view=False, adversarial=False, pretrained=False),
    "real_synth": Variant(unlabeled=False, view=False, adversarial=False),
    "distr_match": Variant(view=False),
    "view_pred": Variant(adversarial=False),
    "full": Variant(),
    # each unlabeled-data mechanism on its own, to see which one carries an effect
    # Real only + Lg on unlabeled real frames (PreView's idea: pose from unlabeled multi-view frames)
    "real_view": Variant(synthetic=False, adversarial=False, pretrained=False),
    # from Synth only, m trained by Lm alone on unlabeled real frames: no labels, no Lc, f and p frozen,
    # so h judges a fixed synthetic latent distribution and Lm can only move the real one onto it
    "synth_adapt": Variant(view=False, real_labels=False, train_predictor=False),
    # f and g trained by Lg alone on unlabeled real frames, no label at all: PreView's test of whether view
    # prediction teaches the encoder pose (a pose head is then fitted on a few labeled latents)
    "view_only": Variant(synthetic=False, adversarial=False, pretrained=False, real_labels=False),
}


def stage_iterations(cfg: TrainConfig, variant: Variant, stage: int) -> int:
    """Iterations of a stage. A variant trained from scratch (Real only) also gets the pretraining's
    iterations: every model then takes the same number of steps, and the from-scratch baseline is not
    handicapped by a shorter schedule (the paper trains each to convergence)."""
    if stage == 1:
        return cfg.stage1_iters
    if variant.view and variant.pretrained and cfg.view_warmup_iters:
        return cfg.stage2_iters + cfg.view_warmup_iters
    if not variant.pretrained and cfg.scratch_iters is not None:
        return cfg.scratch_iters
    return cfg.stage2_iters + (0 if variant.pretrained else cfg.stage1_iters)


def composition(variant: Variant, stage: int, set_size: int, view_set: int = 0) -> Composition:
    """Batch composition of a stage and variant; the batch stays 4 * set_size where the data allows,
    plus `view_set` view samples (real and rendered) for a variant with Lg and synthetic data."""
    if stage == 1:
        return Composition(pairs=0, real=0, synth=4 * set_size, unlabeled=0)
    half = 2 * set_size
    if not variant.synthetic:  # real only: every sample a real one, half of them unlabeled if it uses them
        if not variant.real_labels:
            return Composition(pairs=0, real=0, synth=0, unlabeled=4 * set_size)
        if variant.unlabeled:
            return Composition(pairs=0, real=half, synth=0, unlabeled=half)
        return Composition(pairs=0, real=4 * set_size, synth=0, unlabeled=0)
    if not variant.real_labels:  # synthetic and unlabeled real samples only
        return Composition(pairs=0, real=0, synth=half, unlabeled=half)
    view = view_set if variant.view else 0
    return Composition(set_size, set_size, set_size, set_size if variant.unlabeled else 0, view)
