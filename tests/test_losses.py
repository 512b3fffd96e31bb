import pytest
import torch

from mlib.adversarial import discriminator_loss, mapping_adversarial_loss
from mlib.losses import (
    LossWeights,
    correspondence_loss,
    pose_loss,
    total_loss,
    view_loss,
)


def test_pose_loss_by_hand():
    pred = torch.tensor([[[1.0, 2.0, 2.0]], [[0.0, 0.0, 0.0]]])  # (B=2, J=1, 3)
    target = torch.tensor([[[0.0, 0.0, 0.0]], [[3.0, 0.0, 4.0]]])
    # sample 1: 1 + 4 + 4 = 9; sample 2: 9 + 0 + 16 = 25; summed over the batch: 34
    assert pose_loss(pred, target).item() == pytest.approx(34.0)


def test_correspondence_loss_by_hand_and_detached_target():
    z_real = torch.tensor([[1.0, 1.0], [0.0, 2.0]], requires_grad=True)
    z_synth = torch.tensor([[0.0, 1.0], [2.0, 0.0]], requires_grad=True)
    loss = correspondence_loss(z_real, z_synth)
    # (1 + 0) + (4 + 4) = 9
    assert loss.item() == pytest.approx(9.0)
    loss.backward()
    assert z_synth.grad is None  # Lc never moves the synthetic branch
    # d/dz_real = 2 (z_real - z_synth)
    torch.testing.assert_close(z_real.grad, torch.tensor([[2.0, 0.0], [-4.0, 4.0]]))


def test_correspondence_loss_does_not_reach_the_synthetic_encoder():
    enc = torch.nn.Linear(3, 2)
    mapping = torch.nn.Linear(2, 2)
    x_real, x_synth = torch.ones(1, 3), torch.full((1, 3), 2.0)
    z_synth = enc(x_synth)
    z_synth.retain_grad()
    correspondence_loss(mapping(enc(x_real)), z_synth).backward()
    assert z_synth.grad is None
    assert mapping.weight.grad is not None and mapping.weight.grad.abs().sum() > 0


def test_view_loss_by_hand():
    pred = torch.tensor([[[[0.5, -0.5], [1.0, 0.0]]]])  # (1, 1, 2, 2)
    target = torch.zeros(1, 1, 2, 2)
    # L1 = 0.5 + 0.5 + 1 + 0 = 2, times (128 / 2)^2 = 4096
    assert view_loss(pred, target).item() == pytest.approx(8192.0)
    # at the paper's crop size the scale is 1: 16384 pixels off by 0.5
    assert view_loss(torch.full((1, 1, 128, 128), 0.5), torch.zeros(1, 1, 128, 128)).item() == pytest.approx(8192.0)


def test_view_loss_means_the_same_at_any_crop_size():
    # the same per-pixel error at 64x64 and 128x128: 0.25 * 4096 * 4 = 0.25 * 16384 = 4096
    small = view_loss(torch.full((1, 1, 64, 64), 0.25), torch.zeros(1, 1, 64, 64))
    big = view_loss(torch.full((1, 1, 128, 128), 0.25), torch.zeros(1, 1, 128, 128))
    assert small.item() == pytest.approx(4096.0)
    assert big.item() == pytest.approx(4096.0)


def test_discriminator_and_mapping_losses_by_hand():
    h_real = torch.tensor([1.0, 0.0, 3.0])
    h_synth = torch.tensor([0.5, -1.0])
    # real, target 1: (0 + 1 + 4) / 2 = 2.5; synthetic, target 0: (0.25 + 1) / 2 = 0.625
    assert discriminator_loss(h_real, h_synth).item() == pytest.approx(3.125)
    # the mapping wants real latents labelled 0: (1 + 0 + 9) / 2 = 5
    assert mapping_adversarial_loss(h_real).item() == pytest.approx(5.0)


def test_loss_weights_are_the_papers():
    w = LossWeights()
    assert (w.lambda_c, w.lambda_g, w.lambda_m) == (0.2, 1e-4, 1e-5)


def test_total_loss_weighting():
    t = torch.tensor
    terms = {"pose": t(1.0), "corr": t(10.0), "view": t(1000.0), "adv": t(100000.0)}
    # 1 + 0.2*10 + 1e-4*1000 + 1e-5*1e5 = 1 + 2 + 0.1 + 1 = 4.1
    assert total_loss(terms, LossWeights()).item() == pytest.approx(4.1)
    # missing terms count as 0: 2 + 1e-5*1e5 = 3
    assert total_loss({"pose": t(2.0), "adv": t(100000.0)}, LossWeights()).item() == pytest.approx(3.0)
    custom = LossWeights(lambda_c=1.0, lambda_g=0.0, lambda_m=0.0)
    assert total_loss(terms, custom).item() == pytest.approx(11.0)
    assert total_loss({}, LossWeights()).item() == 0.0
    with pytest.raises(ValueError, match="disc"):
        total_loss({"pose": t(1.0), "disc": t(1.0)}, LossWeights())


def test_total_loss_gradients_follow_the_weights():
    view = torch.tensor(3.0, requires_grad=True)
    total_loss({"view": view}, LossWeights()).backward()
    assert view.grad.item() == pytest.approx(1e-4)
