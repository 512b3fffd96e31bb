"""Training engine: gradient routing, resume, NaN handling, checkpoint compatibility."""

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from mlib.cells import train_variant
from mlib.checkpoint import config_differences, load_checkpoint, load_model_state
from mlib.data.augment import AugmentConfig
from mlib.data.datasets import CropStore, Splits, make_batch
from mlib.losses import NonFiniteLossError
from mlib.models import Murauer
from mlib.presets import model_config, train_config
from mlib.train import VIEW_SETS, Run, TrainData, Trainer
from mlib.variants import VARIANTS, stage_iterations


def fake_store(n: int = 96, size: int = 32, seed: int = 0) -> CropStore:
    """Crops whose content depends on the joints, so there is something to learn."""
    g = torch.Generator().manual_seed(seed)
    joints = torch.randn(n, 3, 36, 3, generator=g) * 30 + torch.tensor([0.0, 0.0, 750.0])
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    tip = joints[:, 0, 0, :2] / 150
    blob = ((xx - tip[:, 0, None, None]) ** 2 + (yy + tip[:, 1, None, None]) ** 2).sqrt() < 0.4
    img = torch.where(blob, torch.full_like(xx, -0.2), torch.ones_like(xx)).half()
    real = torch.where(img < 1, img - 0.1, img)  # a domain gap: real surfaces sit 15 mm closer
    return CropStore.from_crops(real, img, real_view=img.flip(-1).clone(), joints=joints)


def make_trainer(tmp_path, variant="full", stage=2, store=None, **cfg_overrides):
    torch.manual_seed(0)
    store = store or fake_store()
    mcfg = model_config("ci")
    settings = dict(stage1_iters=6, stage2_iters=6, log_every=2, eval_every=0, ckpt_every=2) | cfg_overrides
    cfg = train_config("ci", variant, **settings)
    model = Murauer(mcfg)
    return Trainer(Run(variant, 20, cfg, mcfg, tmp_path), model, TrainData(store), stage)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict, module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items() if v.is_floating_point())


def batch_of(tr: Trainer):
    return make_batch(tr.train, tr.sampler.sample(), "cpu", tr.cfg.augment, tr.aug_gen)


def test_model_step_moves_f_p_m_g_but_not_h(tmp_path):
    tr = make_trainer(tmp_path)
    before = {n: snapshot(getattr(tr.model, n)) for n in "fpmgh"}
    terms, z_real, z_synth = tr.model_step(batch_of(tr))
    assert set(terms) == {"pose", "corr", "view", "adv"}
    for n in "fpmg":
        assert changed(before[n], getattr(tr.model, n)), n
    assert not changed(before["h"], tr.model.h)
    assert all(p.grad is None for p in tr.model.h.parameters()), "Lm must not leave gradients in h"


def test_discriminator_step_changes_only_h(tmp_path):
    tr = make_trainer(tmp_path)
    _, z_real, z_synth = tr.model_step(batch_of(tr))
    before = {n: snapshot(getattr(tr.model, n)) for n in "fpmgh"}
    out = tr.game(z_real, z_synth)
    assert set(out) == {"disc", "disc_acc"}
    assert changed(before["h"], tr.model.h)
    for n in "fpmg":
        assert not changed(before[n], getattr(tr.model, n)), n


def test_adversarial_term_reaches_m(tmp_path):
    tr = make_trainer(tmp_path, weights=dataclasses.replace(train_config("ci").weights, lambda_m=1.0))
    batch = batch_of(tr)
    tr.opt.zero_grad()
    from mlib.adversarial import mapping_adversarial_loss

    z = tr.model.latent(batch["unlabeled"].x, real=True)
    tr.model.h.requires_grad_(False)
    mapping_adversarial_loss(tr.model.h(z)).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tr.model.m.parameters())
    assert all(p.grad is None for p in tr.model.h.parameters())


def test_correspondence_term_does_not_move_the_synthetic_branch(tmp_path):
    tr = make_trainer(tmp_path)
    batch = batch_of(tr)
    z_synth = tr.model.latent(batch["pair_synth"].x, real=False)
    z_real = tr.model.latent(batch["pair_real"].x, real=True)
    from mlib.losses import correspondence_loss

    z_synth.retain_grad()
    correspondence_loss(z_real, z_synth).backward()
    assert z_synth.grad is None or z_synth.grad.abs().sum() == 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tr.model.m.parameters())


@pytest.mark.parametrize("into_encoder", [True, False])
@pytest.mark.parametrize(
    "term, switch, variant",
    [("corr", "corr_trains_encoder", "real_synth"), ("adv", "adv_trains_encoder", "distr_match")],
)
def test_mapping_terms_reach_the_encoder_only_when_asked(tmp_path, monkeypatch, term, switch, variant, into_encoder):
    import mlib.train

    # Silence the other terms, so only the one under test can move the weights.
    monkeypatch.setattr(mlib.train, "pose_loss", lambda pred, target: pred.sum() * 0)
    if term != "corr":
        monkeypatch.setattr(mlib.train, "correspondence_loss", lambda a, b: a.sum() * 0)
    tr = make_trainer(tmp_path, variant=variant, **{switch: into_encoder})
    f_before = [p.detach().clone() for p in tr.model.f.parameters()]  # weights, not batch-norm statistics
    m_before = snapshot(tr.model.m)
    terms, _, _ = tr.model_step(batch_of(tr))
    assert terms[term] > 0
    assert changed(m_before, tr.model.m)
    f_moved = any(not torch.equal(a, b) for a, b in zip(f_before, tr.model.f.parameters()))
    assert f_moved == into_encoder


def test_stage1_changes_only_f_and_p(tmp_path):
    tr = make_trainer(tmp_path, variant="synth_only", stage=1)
    before = {n: snapshot(getattr(tr.model, n)) for n in "fpmgh"}
    tr.step()
    assert changed(before["f"], tr.model.f) and changed(before["p"], tr.model.p)
    for n in "mgh":
        assert not changed(before[n], getattr(tr.model, n)), n


def test_synthetic_inputs_never_pass_through_m(tmp_path):
    tr = make_trainer(tmp_path)
    seen = []
    tr.model.m.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape[0]))
    batch = batch_of(tr)
    tr.model_step(batch)
    n_real = sum(len(batch[k].x) for k in ("pair_real", "real", "unlabeled"))
    # one pass over every real latent; Lc, kept out of f by default, maps the pairs' detached latents again
    assert seen == [n_real] + ([] if tr.cfg.corr_trains_encoder else [len(batch["pair_real"].x)])


def test_variants_use_their_terms(tmp_path):
    expected = {
        "real_only": {"pose"},
        "real_synth": {"pose", "corr"},
        "distr_match": {"pose", "corr", "adv", "disc", "disc_acc"},
        "view_pred": {"pose", "corr", "view"},
        "full": {"pose", "corr", "view", "adv", "disc", "disc_acc"},
    }
    for name, terms in expected.items():
        assert set(make_trainer(tmp_path / name, variant=name).step()) == terms, name


@pytest.mark.parametrize("preset", ["ci", "laptop"])
def test_pretrained_variants_share_one_budget_and_scratch_ones_have_their_own(preset):
    cfg = train_config(preset)
    total = {
        name: (stage_iterations(cfg, v, 1) if v.pretrained else 0) + (stage_iterations(cfg, v, 2) if v.stage2 else 0)
        for name, v in VARIANTS.items()
        if v.stage2
    }
    scratch = cfg.scratch_iters or cfg.stage1_iters + cfg.stage2_iters  # without a budget of their own: the same steps
    expected = {n: scratch if not VARIANTS[n].pretrained else cfg.stage1_iters + cfg.stage2_iters for n in total}
    assert total == expected
    if preset == "laptop":
        assert stage_iterations(cfg, VARIANTS["real_only"], 2) == 5500


def test_resume_gives_identical_parameters(tmp_path):
    straight = make_trainer(tmp_path / "a")
    straight.run(progress=False)
    half = make_trainer(tmp_path / "b")
    half.run(progress=False, stop_at=3)
    resumed = make_trainer(tmp_path / "b")
    resumed.resume()
    assert resumed.iteration == 3
    resumed.run(progress=False)
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["iteration"] for r in resumed.history] == [2, 3, 4, 6]
    seconds = [r["seconds"] for r in resumed.history]
    assert seconds == sorted(seconds), "training time must keep counting across a resume"


def test_resume_refuses_a_checkpoint_trained_with_other_settings(tmp_path):
    make_trainer(tmp_path).run(progress=False, stop_at=2)
    with pytest.raises(ValueError, match="base_lr"):
        make_trainer(tmp_path, base_lr=1e-3).resume()
    with pytest.raises(ValueError, match="corr_trains_encoder"):
        make_trainer(tmp_path, corr_trains_encoder=False).resume()
    with pytest.raises(ValueError, match="adv_trains_encoder"):
        make_trainer(tmp_path, adv_trains_encoder=False).resume()
    longer = make_trainer(tmp_path, stage2_iters=10)  # more iterations: a valid continuation
    longer.resume()
    assert longer.iteration == 2


def test_real_only_checkpoint_ignores_the_mapping_settings(tmp_path):
    make_trainer(tmp_path, variant="real_only").run(progress=False, stop_at=2)
    make_trainer(tmp_path, variant="real_only", adv_trains_encoder=False, corr_trains_encoder=False).resume()
    with pytest.raises(ValueError, match="base_lr"):
        make_trainer(tmp_path, variant="real_only", base_lr=1e-3).resume()


def test_stage1_checkpoint_ignores_stage2_settings(tmp_path):
    make_trainer(tmp_path, variant="synth_only", stage=1).run(progress=False, stop_at=2)
    make_trainer(tmp_path, variant="synth_only", stage=1, corr_trains_encoder=False).resume()


def test_nan_loss_stops_with_iteration_and_term_and_keeps_checkpoint(tmp_path):
    good = make_trainer(tmp_path)
    good.run(progress=False, stop_at=2)
    saved = (tmp_path / "stage2.pt").read_bytes()
    store = fake_store()
    store.joints[:] = float("nan")  # broken annotations: the pose loss goes NaN on the next iteration
    bad = make_trainer(tmp_path, store=store)
    bad.resume()
    with pytest.raises(NonFiniteLossError, match=r"iteration 3: term 'pose"):
        bad.run(progress=False)
    assert (tmp_path / "stage2.pt").read_bytes() == saved


def test_checkpoint_from_other_configuration_names_shapes(tmp_path):
    tr = make_trainer(tmp_path)
    tr.save()
    ckpt = load_checkpoint(tmp_path / "stage2.pt")
    other = Murauer(model_config("ci", latent_dim=32))
    with pytest.raises(ValueError, match=r"shapes differ:\n  f.fc.weight: checkpoint \(64, 32\) vs model \(32, 32\)"):
        load_model_state(other, ckpt["model"], "stage2.pt")


def test_predictions_on_synthetic_crops_skip_the_mapping():
    from mlib.evaluate import predict_store

    model = Murauer(model_config("ci"))
    seen = []
    model.m.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].shape[0]))
    store = fake_store(n=8)
    predict_store(model, store, "synth", through_mapping=True)
    assert seen == []
    predict_store(model, store, "real", through_mapping=True)
    assert seen == [8]


def test_command_line_trains_a_cell_with_the_routing_asked_for(tmp_path, capsys):
    from mlib.train_cli import main

    out = tmp_path / "run"
    args = ["--preset", "ci", "--variant", "full", "--n-labeled", "10", "--out", str(out), "--no-progress"]
    args += ["--stage1-iters", "2", "--stage2-iters", "2", "--data-dir", str(tmp_path / "data")]
    main(args + ["--corr-trains-encoder", "--no-adv-trains-encoder"])
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["variant"] == "full" and printed["n_labeled"] == 10 and printed["test_error_mm"] > 0
    saved = json.loads(load_checkpoint(out / "stage2.pt")["train_cfg"])
    assert saved["corr_trains_encoder"] is True and saved["adv_trains_encoder"] is False
    with pytest.raises(SystemExit, match="--resume"):
        main(args)  # the folder holds checkpoints: refuse to overwrite them silently


def test_settings_missing_from_an_old_checkpoint_mean_the_old_behaviour(tmp_path):
    tr = make_trainer(tmp_path, variant="full")
    old = json.loads(json.dumps(dataclasses.asdict(tr.cfg)))
    for key in ("corr_trains_encoder", "adv_trains_encoder", "weight_decay", "view_sets_unrotated"):
        old.pop(key)  # a checkpoint from before these switches: Lc and Lm reached f, no decay, Lg on all sets
    ckpt = {"train_cfg": json.dumps(old)}
    differences = lambda t: config_differences(ckpt, t.cfg, t.variant, t.stage)  # noqa: E731
    # Lc into f is the default again, as it was before the switch existed; only the view setting differs
    assert [d.split(":")[0] for d in differences(tr)] == ["view_sets_unrotated"]
    assert differences(make_trainer(tmp_path, variant="full", view_sets_unrotated=False)) == []
    m_alone = make_trainer(tmp_path, variant="full", corr_trains_encoder=False, view_sets_unrotated=False)
    assert [d.split(":")[0] for d in differences(m_alone)] == ["corr_trains_encoder"]
    # Distr. Match has no view term, so its old checkpoints stay valid whatever the view setting.
    assert differences(make_trainer(tmp_path, variant="distr_match")) == []


def test_weight_decay_reaches_both_optimisers(tmp_path):
    tr = make_trainer(tmp_path, weight_decay=1e-3)
    assert [g["weight_decay"] for g in tr.opt.param_groups + tr.game.opt.param_groups] == [1e-3, 1e-3]


def test_unrotated_sets_keep_jitter_and_noise_but_not_rotation():
    store = fake_store(n=40)
    sets = {
        "pairs": torch.arange(4),
        "real": torch.arange(4, 8),
        "synth": torch.arange(8, 12),
        "unlabeled": torch.arange(12, 16),
    }
    still = AugmentConfig(centre_jitter_mm=0.0, depth_noise_mm=0.0)  # rotation is then the only change
    b = make_batch(
        store, sets, augment=still, generator=torch.Generator().manual_seed(0), unrotated=("synth", "unlabeled")
    )
    assert torch.equal(b["synth"].x, store.images(sets["synth"], "synth"))
    assert torch.equal(b["synth"].y, store.targets(sets["synth"]))
    assert torch.equal(b["unlabeled"].x, store.images(sets["unlabeled"], "real"))
    assert not torch.equal(b["real"].x, store.images(sets["real"], "real"))
    assert not torch.equal(b["pair_synth"].x, store.images(sets["pairs"], "synth"))
    # With jitter and noise on, the unrotated sets still get them.
    jittered = make_batch(store, sets, generator=torch.Generator().manual_seed(0), unrotated=("synth",))
    assert not torch.equal(jittered["synth"].x, store.images(sets["synth"], "synth"))


@pytest.mark.parametrize("unrotated", [True, False])
def test_view_term_uses_the_unrotated_sets(tmp_path, monkeypatch, unrotated):
    tr = make_trainer(tmp_path, variant="view_pred", view_sets_unrotated=unrotated)
    made, decoded = {}, []

    def spy(*args, **kwargs):
        made["unrotated"], made["batch"] = kwargs.get("unrotated"), make_batch(*args, **kwargs)
        return made["batch"]

    monkeypatch.setattr("mlib.train.make_batch", spy)
    tr.model.g.register_forward_hook(lambda module, args, out: decoded.append(len(args[0])))
    tr.step()
    batch = made["batch"]
    view_sets = VIEW_SETS if unrotated else tuple(batch)
    assert made["unrotated"] == (VIEW_SETS if unrotated else ())
    assert decoded == [sum(len(batch[k].x) for k in view_sets)]
    assert bool(tr.unrotated) is unrotated
    assert not make_trainer(tmp_path, variant="distr_match").unrotated  # no view term, nothing unrotated


@pytest.mark.parametrize("variant", ["real_only", "real_synth"])
def test_synthetic_frame_error_only_for_models_that_read_synthetic_frames(tmp_path, variant):
    store = fake_store()
    cfg = train_config("ci", variant, stage1_iters=4, stage2_iters=4, log_every=2, eval_every=0, ckpt_every=100)
    result = train_variant(Run(variant, 20, cfg, model_config("ci"), tmp_path), Splits(store, None, store), progress=False)
    synthetic = result.summary["synthetic_frames_mean"]
    if variant == "real_only":
        assert synthetic is None  # it never saw a synthetic frame: its number would mean nothing
    else:
        assert synthetic > 0 and synthetic != result.test_error_mm
    assert json.loads((tmp_path / "result.json").read_text())["summary"]["synthetic_frames_mean"] == synthetic


def test_trainer_uses_the_scaled_schedule_below_paper_scale(tmp_path):
    tr = make_trainer(tmp_path, stage=2, stage2_iters=240)
    assert tr.sched.lr_lambdas[0].iters_per_epoch == pytest.approx(2.0)  # 240 iterations / 120 epochs
    paper = make_trainer(tmp_path, stage=2, stage2_iters=240, scaled_schedule=False)
    assert paper.sched.lr_lambdas[0].iters_per_epoch == 2  # ceil(96 frames / batch 64), the paper's epoch


def test_real_view_reads_only_real_frames_and_decodes_the_unlabeled_ones(tmp_path, monkeypatch):
    tr = make_trainer(tmp_path, variant="real_view")
    c = tr.sampler.composition
    assert (c.pairs, c.synth) == (0, 0) and c.real == c.unlabeled == 2 * tr.cfg.set_size
    assert tr.unrotated == VIEW_SETS  # Lg on the unlabeled set (there is no synthetic one), unrotated
    decoded = []
    tr.model.g.register_forward_hook(lambda module, args, out: decoded.append(len(args[0])))
    terms = tr.step()
    assert set(terms) == {"pose", "view"}
    assert decoded == [c.unlabeled]
    assert not VARIANTS["real_view"].pretrained and VARIANTS["real_view"].uses_n


def test_synth_adapt_moves_only_m_and_h(tmp_path):
    tr = make_trainer(tmp_path, variant="synth_adapt")
    c = tr.sampler.composition
    assert (c.pairs, c.real) == (0, 0) and c.synth == c.unlabeled == 2 * tr.cfg.set_size
    before = {n: snapshot(getattr(tr.model, n)) for n in "fpmgh"}
    for _ in range(2):
        terms = tr.step()
    assert set(terms) == {"adv", "disc", "disc_acc"}  # no label is read: no Lp, no Lc
    assert changed(before["m"], tr.model.m) and changed(before["h"], tr.model.h)
    # f's weights and its batch-norm statistics stay the pretrained model's, and p and g do not move
    for n in "fpg":
        assert all(torch.equal(before[n][k], v) for k, v in getattr(tr.model, n).state_dict().items()), n
    assert all(p.grad is None for p in tr.model.f.parameters())  # f's forward ran without autograd
    v = VARIANTS["synth_adapt"]
    assert v.pretrained and not v.uses_n and v.cell_n(100) == "all"


def test_trainer_refuses_crops_the_model_does_not_fit(tmp_path):
    with pytest.raises(ValueError, match="crops are 16x16 but the model expects 32x32"):
        make_trainer(tmp_path, store=fake_store(size=16))


def test_the_layouts_agree_and_an_unknown_precision_is_refused():
    import pytest

    from mlib.cells import build_model
    from mlib.train import Run, TrainData, Trainer

    store = fake_store()
    curves = {}
    for channels_last in (False, True):
        cfg = train_config("ci", "full", precision="fp32", channels_last=channels_last, eval_every=0, log_every=100)
        model, mcfg = build_model(model_config("ci"), 0, torch.device("cpu"))
        tr = Trainer(Run("full", 20, cfg, mcfg, Path("/tmp")), model, TrainData(store), 2)
        if channels_last:
            model.to(memory_format=torch.channels_last)
        curves[channels_last] = torch.stack(list(tr.step().values()))
    # the NHWC layout reorders float sums and nothing else: the first step's terms (computed before any
    # update) agree to float tolerance. Later steps drift apart as any reordering does (Adam at the ci
    # rate amplifies the differences), so the test stops at the computation itself.
    torch.testing.assert_close(curves[True], curves[False], rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="precision='fp16'"):
        train_config("ci", precision="fp16")


def test_the_trainer_runs_a_variant_at_the_presets_validated_stage2_rate(tmp_path, monkeypatch):
    from mlib import presets

    monkeypatch.setitem(presets.STAGE2_LR_SCALES, "ci", {"real_only": 0.3})
    tr = make_trainer(tmp_path, "real_only")
    assert tr.cfg.stage2_lr_scale == 0.3  # resolved for the variant it trains, and checkpointed so
    assert tr.opt.param_groups[0]["initial_lr"] == pytest.approx(tr.cfg.base_lr * 0.3)
    assert make_trainer(tmp_path, "full").cfg.stage2_lr_scale == 1.0


def test_stage_2_refuses_settings_not_resolved_for_its_variant(tmp_path):
    cfg = train_config("ci")  # a preset's settings shared by several variants: no stage-2 rate scale yet
    assert cfg.stage2_lr_scale is None
    model, store = Murauer(model_config("ci")), fake_store()
    with pytest.raises(ValueError, match="stage2_lr_scale is unset"):
        Trainer(Run("full", 1, cfg, model.cfg, tmp_path), model, TrainData(store), 2)
    Trainer(Run("synth_only", "all", cfg, model.cfg, tmp_path), model, TrainData(store), 1)
