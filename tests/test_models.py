import pytest
import torch

from mlib.models import ModelConfig, Murauer, parameter_counts
from mlib.presets import MODEL, model_config


def _inputs(cfg: ModelConfig, batch: int = 2, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 1, cfg.crop_size, cfg.crop_size, generator=g) * 2 - 1
    centre = torch.tensor([[10.0, -20.0, 650.0]]).repeat(batch, 1)
    return x, centre


@pytest.mark.parametrize("preset", sorted(MODEL))
def test_shapes_every_preset(preset):
    torch.manual_seed(0)
    cfg = model_config(preset)
    model = Murauer(cfg)  # train mode: BN must cope with a batch of 2
    x, centre = _inputs(cfg)
    S, D, J = cfg.crop_size, cfg.latent_dim, cfg.num_joints
    z = model.f(x)
    assert z.shape == (2, D)
    assert model.p(z).shape == (2, J, 3)
    assert model.m(z).shape == (2, D)
    assert model.h(z).shape == (2,)
    view = model.g(z, centre)
    assert view.shape == (2, 1, S, S)
    assert view.min() >= -1 and view.max() <= 1
    assert model(x, real=True).shape == (2, J, 3)
    assert model(x, real=False).shape == (2, J, 3)
    assert model.latent(x, real=True).shape == (2, D)


def test_paper_preset_is_the_papers_architecture():
    cfg = MODEL["paper"]
    assert cfg.crop_size == 128
    assert (cfg.stem_channels, cfg.stage_channels, cfg.blocks_per_stage) == (32, (64, 128, 256, 256), 5)
    assert (cfg.latent_dim, cfg.pose_hidden, cfg.mapping_blocks, cfg.disc_blocks) == (1024, 1024, 2, 2)


def test_paper_parameter_counts():
    counts = parameter_counts(Murauer(MODEL["paper"]))
    print("paper parameter counts:", counts)
    # p: 1024*1024 + 1024 + 1024*42 + 42
    assert counts["p"] == 1_092_650
    # m: 2 blocks x 2 linear layers of 1024*1024 + 1024
    assert counts["m"] == 4_198_400
    # h: the same as m plus Linear(1024, 1)
    assert counts["h"] == 4_198_400 + 1025
    # f: the FC from the 256x4x4 map (4096*1024 + 1024 = 4.2M) plus ~0.9M of convolutions
    assert 4_500_000 < counts["f"] < 6_000_000
    # g: linear 1027 -> 512x4x4 (8.4M) and the transposed convs (2.1M + 0.5M + 0.13M)
    assert 10_000_000 < counts["g"] < 12_500_000
    assert counts["total"] == sum(counts[k] for k in "fpmhg")
    assert 20_000_000 < counts["total"] < 32_000_000


def test_latent_of_synthetic_input_never_calls_m():
    model = Murauer(MODEL["ci"]).eval()
    calls = []
    model.m.register_forward_hook(lambda *_: calls.append(1))
    x, _ = _inputs(model.cfg)
    model.latent(x, real=False)
    model(x, real=False)
    assert calls == []
    model.latent(x, real=True)
    model(x, real=True)
    assert len(calls) == 2


def test_mapping_starts_as_identity_and_is_nonlinear():
    torch.manual_seed(0)
    cfg = MODEL["ci"]
    z = torch.randn(4, cfg.latent_dim)
    assert torch.equal(Murauer(cfg).m(z), z)
    # with trained-like (random) weights m is not affine: an affine map has m(2z) = 2 m(z) - m(0)
    m = Murauer(model_config("ci", mapping_identity_init=False)).m
    affine_guess = 2 * m(z) - m(torch.zeros_like(z))
    assert not torch.allclose(m(2 * z), affine_guess, atol=1e-4)


def test_decoder_uses_the_crop_centre():
    torch.manual_seed(0)
    model = Murauer(MODEL["ci"]).eval()
    z = torch.randn(2, model.cfg.latent_dim)
    near = model.g(z, torch.tensor([[0.0, 0.0, 400.0]] * 2))
    far = model.g(z, torch.tensor([[0.0, 0.0, 900.0]] * 2))
    assert not torch.allclose(near, far)


def test_channels_last_gives_the_same_outputs():
    torch.manual_seed(0)
    model = Murauer(MODEL["ci"]).eval()
    x, centre = _inputs(model.cfg, batch=3)
    with torch.no_grad():
        ref_pose, ref_view = model(x, real=True), model.g(model.f(x), centre)
        model = model.to(memory_format=torch.channels_last)
        x_cl = x.to(memory_format=torch.channels_last)
        pose, view = model(x_cl, real=True), model.g(model.f(x_cl), centre)
    torch.testing.assert_close(pose, ref_pose, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(view, ref_view, atol=1e-5, rtol=1e-4)


def test_deterministic_on_cpu():
    outs = []
    for _ in range(2):
        torch.manual_seed(123)
        model = Murauer(MODEL["ci"])
        x, centre = _inputs(model.cfg, batch=4)
        z = model.latent(x, real=True)
        loss = model.p(z).square().sum() + model.g(z, centre).abs().sum() + model.h(z).square().sum()
        loss.backward()
        outs.append((loss.detach(), model.f.stem[0].weight.grad.clone()))
    assert torch.equal(outs[0][0], outs[1][0])
    assert torch.equal(outs[0][1], outs[1][1])


def test_model_config_overrides_and_errors():
    cfg = model_config("laptop", latent_dim=128, stage_channels=[8, 16])
    assert cfg.latent_dim == 128 and cfg.stage_channels == (8, 16)
    assert cfg.crop_size == MODEL["laptop"].crop_size
    hash(cfg)  # lists were turned into tuples
    model = Murauer(cfg)
    assert model(torch.zeros(2, 1, 64, 64), real=False).shape == (2, 14, 3)
    with pytest.raises(ValueError, match="unknown preset"):
        model_config("huge")
    with pytest.raises(ValueError, match="latnt_dim"):
        model_config("ci", latnt_dim=3)
    with pytest.raises(ValueError, match="decoder_channels"):
        model_config("ci", decoder_channels=(8, 8))


def test_odd_crop_size():
    # crop sizes that are not multiples of 32 still give (S, S) views and a well-sized FC
    cfg = model_config("ci", crop_size=48)
    model = Murauer(cfg).eval()
    x, centre = _inputs(cfg)
    assert model(x, real=True).shape == (2, 14, 3)
    assert model.g(model.f(x), centre).shape == (2, 1, 48, 48)


def test_bf16_autocast_runs_forward_and_backward():
    # CPU stands in for the GPU here: the same autocast rules decide which ops run in bf16
    model = Murauer(MODEL["ci"])
    x, centre = _inputs(model.cfg, batch=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        z = model.latent(x, real=True)
        loss = model.p(z).float().square().sum() + model.g(z, centre).float().abs().sum() + model.h(z).float().sum()
    assert z.dtype == torch.bfloat16
    loss.backward()
    assert torch.isfinite(model.f.fc.weight.grad).all()
