"""Learning-rate warm-up and decay of paper appendix Eq. 14-15.

lr_e = η_e·α0 with η_e = 0.33^(2 − ⌊e/2⌋) for e < 4 and exp(−γ·e) afterwards (γ = 0.04, α0 = 3.3e-4):
about a tenth of the base rate for two epochs, a third for two more, then exponential decay.

At paper scale an "epoch" is (number of REAL training frames / batch size) iterations, whatever data
a run actually draws (sub-sampled real, synthetic only, ...), so all variants share one schedule:
NYU's 72,757 frames at batch 64 give 1,137 iterations per epoch, 150 epochs in stage 1 and 120 in
stage 2. Below paper scale a stage's epoch is its iteration count over those epochs, so a
short run keeps the schedule's shape (warm-up, then decay to under 1 % of the base rate).
"""

from __future__ import annotations

import math

import torch

GAMMA = 0.04
PAPER_STAGE_EPOCHS = {1: 150, 2: 120}  # 170k and 136k iterations of 1,137 (paper §4.1, appendix)


def lr_factor(epoch: int, gamma: float = GAMMA) -> float:
    """η_e of Eq. 15."""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    if epoch < 4:
        return 0.33 ** (2 - epoch // 2)
    return math.exp(-gamma * epoch)


def iterations_per_epoch(n_real_train: int, batch_size: int) -> int:
    """ceil(n_real_train / batch_size): the batches needed to see every real frame once.

    Rounding up keeps tiny data sets at >= 1 iteration per epoch; NYU gives ceil(1136.8) = 1137.
    """
    if n_real_train < 1 or batch_size < 1:
        raise ValueError(f"need n_real_train >= 1 and batch_size >= 1, got {n_real_train} and {batch_size}")
    return math.ceil(n_real_train / batch_size)


def scaled_iterations_per_epoch(stage_iters: int, stage: int) -> float:
    """Iterations per schedule epoch below paper scale: the stage's iterations over the paper's epochs
    for that stage (a fraction is fine: the epoch of iteration i is floor(i / this))."""
    if stage not in PAPER_STAGE_EPOCHS:
        raise ValueError(f"stage must be one of {sorted(PAPER_STAGE_EPOCHS)}, got {stage}")
    if stage_iters < 1:
        raise ValueError(f"stage_iters must be >= 1, got {stage_iters}")
    return stage_iters / PAPER_STAGE_EPOCHS[stage]


def learning_rate(iteration: int, base_lr: float, iters_per_epoch: float, gamma: float = GAMMA) -> float:
    """Eq. 14 at a (0-based) iteration: base_lr · η_e with e = floor(iteration / iters_per_epoch)."""
    return base_lr * lr_factor(int(iteration // iters_per_epoch), gamma)


class EpochFactor:
    """The LambdaLR multiplier. A small class rather than a lambda: LambdaLR.state_dict() stores the
    attributes of callable objects (and drops plain functions), so the schedule round-trips."""

    def __init__(self, iters_per_epoch: float, gamma: float = GAMMA):
        if not iters_per_epoch > 0:
            raise ValueError(f"iters_per_epoch must be > 0, got {iters_per_epoch}")
        self.iters_per_epoch = iters_per_epoch
        self.gamma = gamma

    def __call__(self, iteration: int) -> float:
        return lr_factor(int(iteration // self.iters_per_epoch), self.gamma)


def make_scheduler(
    optimizer: torch.optim.Optimizer, iters_per_epoch: float, gamma: float = GAMMA
) -> torch.optim.lr_scheduler.LambdaLR:
    """Eq. 14-15 as a LambdaLR over the optimizer's base lr; call .step() once per iteration."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, EpochFactor(iters_per_epoch, gamma))
