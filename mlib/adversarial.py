"""Distribution matching (paper §3.3): the least-squares GAN on the latent space, in one place.

The discriminator h (`mlib.models.Discriminator`, one of the model's five networks) tells real latents
from synthetic ones; the mapping m learns to fool it. With l = h(z) and the LSGAN targets 1 = real,
0 = synthetic (Mao et al. 2017):

    Lh = ½ Σ_real (h(z) − 1)² + ½ Σ_synth h(z)²     (Eq. 12)  h alone, on detached latents
    Lm = ½ Σ_real h(m(f(x)))²                       (Eq. 13)  m (and f, if asked), through a frozen h

Lm is one term of Eq. 1 and joins the model's step; Lh is a separate step of h's own optimiser after
it. Both are sums over the batch, as every term of Eq. 1 (`mlib.losses`). Which latents the game sees
is a setting: every real and synthetic set of the batch but the view set, or, as the authors' release
does, the unlabeled real set against the synthetic set (`TrainConfig.adv_unlabeled_only`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from mlib.data.datasets import Batch


def discriminator_loss(h_real: Tensor, h_synth: Tensor) -> Tensor:
    """Lh (Eq. 12): ½Σ(l − 1)² over real latents + ½Σ(l − 0)² over synthetic latents. The caller
    feeds h detached latents, so this trains h alone."""
    return 0.5 * (h_real.float() - 1.0).pow(2).sum() + 0.5 * h_synth.float().pow(2).sum()


def mapping_adversarial_loss(h_real: Tensor) -> Tensor:
    """Lm (Eq. 13): ½Σ(l − 0)² over real latents: m is rewarded when h calls real latents synthetic."""
    return 0.5 * h_real.float().pow(2).sum()


def adversarial_sets(unlabeled_only: bool, batch: Batch) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The real and synthetic sets h judges and Lm moves: every set but the view set (which carries
    Lg only), or, as in the authors' release, the unlabeled real set against the synthetic set."""
    if unlabeled_only:
        return ("unlabeled",), ("synth",)
    pick = lambda domain: tuple(k for k in batch.names(domain) if not k.startswith("view_"))  # noqa: E731
    return pick("real"), pick("synth")


def game_latents(batch: Batch, z_real: Tensor | None, z_synth: Tensor | None, unlabeled_only: bool):
    """The real and synthetic latents of the batch that the game sees (`adversarial_sets`), each
    concatenated over its sets (None where none is given)."""
    real_sets, synth_sets = adversarial_sets(unlabeled_only, batch)
    pick = lambda z, domain, sets: None if z is None else torch.cat([batch.split(z, domain)[k] for k in sets])  # noqa: E731
    return pick(z_real, "real", real_sets), pick(z_synth, "synth", synth_sets)


def mapping_loss(h: nn.Module, z_real: Tensor) -> Tensor:
    """Lm on the real latents the game sees, through a frozen h: the gradient reaches m (and f through
    it, if the caller did not detach f's output), never h."""
    h.requires_grad_(False)
    try:
        return mapping_adversarial_loss(h(z_real).float())
    finally:
        h.requires_grad_(True)


class DiscriminatorStep:
    """h's own optimisation: Adam on Lh (Eq. 12) with the stage's schedule, one step after each model
    step, on the latents that step produced (detached here)."""

    def __init__(self, h: nn.Module, optimiser: torch.optim.Optimizer, scheduler, device: torch.device, amp: bool):
        self.h, self.opt, self.sched, self.device, self.amp = h, optimiser, scheduler, device, amp

    def __call__(self, z_real: Tensor, z_synth: Tensor) -> dict[str, Tensor]:
        """One LSGAN update of h (real -> 1, synthetic -> 0); returns Lh and h's accuracy, on the device."""
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            h_real, h_synth = self.h(z_real.detach()).float(), self.h(z_synth.detach()).float()
            loss = discriminator_loss(h_real, h_synth)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.sched.step()
        accuracy = ((h_real > 0.5).float().mean() + (h_synth < 0.5).float().mean()) / 2
        return {"disc": loss.detach(), "disc_acc": accuracy.detach()}
