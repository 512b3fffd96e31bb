"""The switches for the authors' release and the lab's levers: each changes what it says and nothing else."""

import dataclasses

import pytest
import torch
from test_train import batch_of, changed, make_trainer, snapshot

from mlib.data.datasets import make_batch
from mlib.models import Murauer, ResidualFC
from mlib.presets import RELEASE, model_config, resolve, train_config
from mlib.variants import VARIANTS, stage_iterations


def test_affine_block_is_an_affine_map_and_the_default_is_not():
    torch.manual_seed(0)
    a, b = torch.randn(4, 16), torch.randn(4, 16)
    zero = torch.zeros(4, 16)
    affine, nonlinear = ResidualFC(16, affine=True), ResidualFC(16)
    lhs = affine(a + b) - affine(a) - affine(b) + affine(zero)
    assert torch.allclose(lhs, torch.zeros_like(lhs), atol=1e-5)
    assert torch.allclose(affine(a), a + affine.fc2(a))
    lhs = nonlinear(a + b) - nonlinear(a) - nonlinear(b) + nonlinear(zero)
    assert lhs.abs().max() > 1e-3


def test_view_decoder_reads_the_pose_hidden_layer_when_asked():
    cfg = model_config("ci", view_input="pose_hidden", pose_hidden=40)
    model = Murauer(cfg).eval()
    assert model.g.fc.in_features == 40 + 3
    z, centre = torch.randn(2, cfg.latent_dim), torch.zeros(2, 3) + 700
    assert torch.equal(model.view(z, centre), model.g(model.p.hidden(z), centre))
    with pytest.raises(ValueError, match="view_input"):
        model_config("ci", view_input="pixels")


def test_release_sets_every_switch_and_an_override_still_wins():
    p = resolve("ci", release=True)
    for k, v in RELEASE["model"].items():
        assert getattr(p.model, k) == v, k
    for k, v in RELEASE["train"].items():
        assert getattr(p.train, k) == v, k
    assert resolve("ci", train={"view_set": 4}, release=True).train.view_set == 4
    plain = resolve("ci")
    assert all(getattr(plain.train, k) != v for k, v in RELEASE["train"].items())


def test_h_and_lm_see_only_the_unlabeled_set_when_asked(tmp_path):
    for only, expected in ((False, None), (True, "unlabeled")):
        tr = make_trainer(tmp_path, variant="distr_match", adv_unlabeled_only=only)
        seen = []
        tr.model.h.register_forward_hook(lambda module, args, out, seen=seen: seen.append(len(args[0])))
        batch = batch_of(tr)
        tr.model_step(batch)
        real_rows = sum(len(batch[k].x) for k in batch.names("real"))
        assert seen == [real_rows if expected is None else len(batch["unlabeled"].x)]


def test_batchnorm_per_set_runs_f_once_per_set(tmp_path):
    calls = {}
    for per_set in (False, True):
        tr = make_trainer(tmp_path, variant="full", batchnorm_per_set=per_set)
        n = []
        tr.model.f.register_forward_hook(lambda module, args, out, n=n: n.append(len(args[0])))
        batch = batch_of(tr)
        tr.model_step(batch)
        calls[per_set] = n
        sizes = [len(batch[k].x) for k in batch.names("real") + batch.names("synth")]
    assert calls[False] == [sum(sizes)] and calls[True] == sizes


def test_view_set_carries_lg_alone_unrotated_and_every_pose_set_is_rotated(tmp_path, monkeypatch):
    tr = make_trainer(tmp_path, variant="full", view_set=6)
    assert tr.sampler.composition.view == 6 and tr.unrotated == ("view_real", "view_synth")
    made, decoded, judged = {}, [], []

    def spy(*args, **kwargs):
        made["unrotated"], made["batch"] = kwargs.get("unrotated"), make_batch(*args, **kwargs)
        return made["batch"]

    monkeypatch.setattr("mlib.train.make_batch", spy)
    tr.model.g.register_forward_hook(lambda module, args, out: decoded.append(len(args[0])))
    tr.model.h.register_forward_hook(lambda module, args, out: judged.append(len(args[0])))
    tr.step()
    batch = made["batch"]
    assert made["unrotated"] == ("view_real", "view_synth")
    assert decoded == [12]  # the six view frames, real and rendered
    pose_rows = sum(len(batch[k].x) for k in ("pair_real", "real", "unlabeled"))
    assert judged[0] == pose_rows  # Lm: every real set but the view set
    assert batch["view_real"].view.shape == batch["view_synth"].view.shape == (6, 1, 32, 32)
    assert "view_real" not in batch.names("real")[:3] and batch.names("real")[-1] == "view_real"
    # Real+Synth has no Lg, so no view set is drawn
    assert make_trainer(tmp_path, variant="real_synth", view_set=6).sampler.composition.view == 0


def test_predictor_rate_scale_gives_f_and_p_their_own_rate(tmp_path):
    tr = make_trainer(tmp_path, variant="full", predictor_lr_scale=0.1)
    lrs = [g["lr"] for g in tr.opt.param_groups]
    assert len(lrs) == 2 and lrs[1] == pytest.approx(0.1 * lrs[0])
    fp = {id(p) for m in (tr.model.f, tr.model.p) for p in m.parameters()}
    assert {id(p) for p in tr.opt.param_groups[1]["params"]} == fp
    assert len(make_trainer(tmp_path, variant="full").opt.param_groups) == 1  # unchanged by default


def test_view_only_trains_f_and_g_by_lg_alone(tmp_path):
    tr = make_trainer(tmp_path, variant="view_only")
    c = tr.sampler.composition
    assert (c.pairs, c.real, c.synth) == (0, 0, 0) and c.unlabeled == 4 * tr.cfg.set_size
    before = {n: snapshot(getattr(tr.model, n)) for n in "fpg"}
    terms = tr.step()
    assert set(terms) == {"view"}
    assert changed(before["f"], tr.model.f) and changed(before["g"], tr.model.g)
    assert not changed(before["p"], tr.model.p)
    assert not VARIANTS["view_only"].uses_n


def test_scratch_iterations_are_their_own_budget():
    cfg = train_config("laptop")
    assert stage_iterations(cfg, VARIANTS["real_only"], 2) == cfg.scratch_iters != cfg.stage1_iters + cfg.stage2_iters
    assert stage_iterations(dataclasses.replace(cfg, scratch_iters=None), VARIANTS["real_only"], 2) == 17_500
    assert stage_iterations(cfg, VARIANTS["full"], 2) == cfg.stage2_iters


def test_view_warmup_moves_only_g_then_training_goes_on_as_usual(tmp_path):
    tr = make_trainer(tmp_path, variant="full", view_warmup_iters=2)
    assert tr.iters == tr.cfg.stage2_iters + 2 and tr.warmup == 2
    lr0 = tr.sched.get_last_lr()[0]
    before = {n: snapshot(getattr(tr.model, n)) for n in "fpmhg"}
    for _ in range(2):
        assert set(tr.step()) == {"view"}
        tr.iteration += 1
    assert changed(before["g"], tr.model.g)
    assert not any(changed(before[n], getattr(tr.model, n)) for n in "pmh")
    assert tr.sched.get_last_lr()[0] == lr0  # the schedule starts after the warm-up
    assert set(tr.step()) == {"pose", "corr", "view", "adv", "disc", "disc_acc"}
    assert make_trainer(tmp_path, variant="real_synth", view_warmup_iters=2).warmup == 0  # no Lg, no warm-up


def test_the_discriminator_has_its_own_rate(tmp_path):
    tr = make_trainer(tmp_path, variant="distr_match", disc_lr_scale=10.0)
    model_lr, disc_lr = tr.opt.param_groups[0]["initial_lr"], tr.game.opt.param_groups[0]["initial_lr"]
    assert disc_lr == pytest.approx(10.0 * model_lr) and disc_lr > 0
    same = make_trainer(tmp_path / "same", variant="distr_match")
    assert same.game.opt.param_groups[0]["initial_lr"] == pytest.approx(same.opt.param_groups[0]["initial_lr"])
    # the rate shapes h's game, so a checkpoint trained at another rate does not resume under it
    tr.save()
    with pytest.raises(ValueError, match="disc_lr_scale"):
        make_trainer(tmp_path, variant="distr_match").resume()
