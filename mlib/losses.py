"""The loss terms of paper Eq. 1: L = Lp + λc·Lc + λg·Lg + λm·Lm. Lm and the discriminator's own Lh
(the least-squares GAN of §3.3) are in `mlib.adversarial`, with h's step.

Every term is a SUM over the batch, as in the paper, so that the paper's weights (λc = 0.2,
λg = 1e-4, λm = 1e-5) keep their meaning; averaging instead would silently change the balance
between terms that are summed over different numbers of samples. Terms are computed in float32,
so they stay accurate under bf16 autocast.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

PAPER_CROP_SIZE = 128  # the crop size at which the paper's λg was tuned


def pose_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Lp = Σ_k ||y_k − ŷ_k||² (Eq. 5): squared L2 over all normalised coordinates, summed over the batch."""
    return (pred.float() - target.float()).pow(2).sum()


def correspondence_loss(z_real_mapped: Tensor, z_synth: Tensor) -> Tensor:
    """Lc = Σ_k ||z_k − ẑ_k||² (Eq. 8) between m(f(x_real)) and f(x_synth) of corresponding pairs.

    The synthetic latent is the target: it is detached here, so Lc moves the real side (m, and f's
    real path if the caller lets it: `TrainConfig.corr_trains_encoder`) towards the synthetic
    features, never the synthetic features towards the real ones.
    """
    return (z_real_mapped.float() - z_synth.detach().float()).pow(2).sum()


def view_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Lg = Σ_k ||x_k − x̂_k||₁ (Eq. 10) between predicted and captured second views, (B,1,S,S).

    An L1 norm over an image grows with its pixel count, so at S x S crops the sum is scaled by
    (128/S)²: a 64x64 crop covers the same cube as a 128x128 one with a quarter of the pixels, and
    the scaled term then has the magnitude the paper's λg = 1e-4 was chosen for.
    """
    size = pred.shape[-1]
    scale = (PAPER_CROP_SIZE / size) ** 2
    return (pred.float() - target.float()).abs().sum() * scale


@dataclass(frozen=True)
class LossWeights:
    """Paper appendix A.1; `cli` is each weight's `python -m mlib.train` help."""

    lambda_c: float = field(default=0.2, metadata={"lowest": 0, "cli": "weight of the correspondence loss Lc"})
    lambda_g: float = field(default=1e-4, metadata={"lowest": 0, "cli": "weight of the view-prediction loss Lg"})
    lambda_m: float = field(default=1e-5, metadata={"lowest": 0, "cli": "weight of the adversarial mapping loss Lm"})


TERM_KEYS = ("pose", "corr", "view", "adv")  # Lp, Lc, Lg, Lm


def total_loss(terms: dict[str, Tensor], weights: LossWeights) -> Tensor:
    """L = Lp + λc·Lc + λg·Lg + λm·Lm (Eq. 1) from terms keyed "pose", "corr", "view", "adv".

    Missing terms count as 0 (the ablation variants leave some out); unknown keys raise, so a typo
    cannot silently drop a term.
    """
    unknown = sorted(set(terms) - set(TERM_KEYS))
    if unknown:
        raise ValueError(f"unknown loss term(s) {unknown}; total_loss takes {list(TERM_KEYS)}")
    factor = {"pose": 1.0, "corr": weights.lambda_c, "view": weights.lambda_g, "adv": weights.lambda_m}
    parts = [factor[k] * terms[k] for k in TERM_KEYS if k in terms]
    if not parts:
        return torch.zeros(())
    return sum(parts[1:], parts[0])


class NonFiniteLossError(RuntimeError):
    """A loss term became NaN or infinite; names the iteration and the term."""

    def __init__(self, iteration: int, term: str, value: float):
        super().__init__(
            f"non-finite loss at iteration {iteration}: term {term!r} = {value} "
            "(lower the learning rate, check the inputs for NaNs, or resume from the last checkpoint)"
        )
        self.iteration = iteration
        self.term = term
        self.value = value


class FiniteWatch:
    """The first non-finite value of each logged term, kept on the device so the training loop never
    waits for it; `check`, called at the log interval, raises NonFiniteLossError for the earliest."""

    def __init__(self, names: tuple[str, ...], device: torch.device):
        self.names, self.device = names, device
        self.first_bad = torch.full((len(names),), -1, dtype=torch.long, device=device)  # iteration, -1: none yet
        self.first_val = torch.zeros(len(names), device=device)

    def update(self, iteration: int, terms: dict[str, Tensor]) -> None:
        vals = torch.stack([terms.get(k, torch.zeros((), device=self.device)).float() for k in self.names])
        newly_bad = ~torch.isfinite(vals) & (self.first_bad < 0)
        self.first_bad = torch.where(newly_bad, torch.full_like(self.first_bad, iteration), self.first_bad)
        self.first_val = torch.where(newly_bad, vals, self.first_val)

    def check(self, where: str) -> None:
        bad = self.first_bad.cpu().tolist()
        hits = [(it, i) for i, it in enumerate(bad) if it >= 0]
        if hits:
            it = min(h[0] for h in hits)
            names = ", ".join(self.names[i] for h, i in hits if h == it)
            value = float(self.first_val[min(i for h, i in hits if h == it)])
            raise NonFiniteLossError(it, f"{names} ({where})", value)
