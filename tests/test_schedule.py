import io
import math

import pytest
import torch

from mlib.schedule import iterations_per_epoch, learning_rate, lr_factor, make_scheduler

# Eq. 15 written out: 0.33^(2-floor(e/2)) for e < 4, exp(-0.04 e) afterwards
EXPECTED = [
    0.1089,  # e=0: 0.33^2
    0.1089,  # e=1: 0.33^2
    0.33,  # e=2: 0.33^1
    0.33,  # e=3: 0.33^1
    math.exp(-0.16),  # e=4: 0.8521...
    math.exp(-0.20),
    math.exp(-0.24),
    math.exp(-0.28),
    math.exp(-0.32),  # e=8: 0.7261...
]


def test_lr_factor_matches_eq_15():
    for epoch, expected in enumerate(EXPECTED):
        assert lr_factor(epoch) == pytest.approx(expected, rel=1e-12), epoch
    assert lr_factor(4) == pytest.approx(0.8521437889662113)
    assert lr_factor(10, gamma=0.1) == pytest.approx(math.exp(-1.0))
    with pytest.raises(ValueError):
        lr_factor(-1)


def test_iterations_per_epoch():
    assert iterations_per_epoch(72_757, 64) == 1137  # NYU, as in the paper's appendix
    assert iterations_per_epoch(128, 64) == 2
    assert iterations_per_epoch(129, 64) == 3
    assert iterations_per_epoch(10, 64) == 1
    with pytest.raises(ValueError):
        iterations_per_epoch(0, 64)


def test_learning_rate_at_iteration_boundaries():
    base, ipe = 3.3e-4, 1137
    cases = [
        (0, 0.1089),
        (1136, 0.1089),
        (1137, 0.1089),  # epoch 1
        (2273, 0.1089),
        (2274, 0.33),  # epoch 2
        (4547, 0.33),  # last iteration of epoch 3
        (4548, math.exp(-0.16)),  # epoch 4
        (5685, math.exp(-0.20)),  # epoch 5
    ]
    for it, factor in cases:
        assert learning_rate(it, base, ipe) == pytest.approx(base * factor, rel=1e-12), it


def test_scheduler_follows_learning_rate_and_round_trips():
    base, ipe = 3.3e-4, 4
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=base)
    sched = make_scheduler(opt, ipe)
    for it in range(20):
        assert opt.param_groups[0]["lr"] == pytest.approx(learning_rate(it, base, ipe), rel=1e-12), it
        opt.step()
        sched.step()

    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)

    opt2 = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=base)
    sched2 = make_scheduler(opt2, iters_per_epoch=99)  # the saved iters_per_epoch wins
    opt2.load_state_dict(state["opt"])
    sched2.load_state_dict(state["sched"])
    assert opt2.param_groups[0]["lr"] == pytest.approx(learning_rate(20, base, ipe), rel=1e-12)
    opt2.step()
    sched2.step()
    assert opt2.param_groups[0]["lr"] == pytest.approx(learning_rate(21, base, ipe), rel=1e-12)


def test_scaled_schedule_keeps_the_papers_shape_at_any_length():
    from mlib.schedule import PAPER_STAGE_EPOCHS, scaled_iterations_per_epoch

    for stage, iters in ((1, 4000), (2, 1500), (2, 200), (1, 300)):
        ipe = scaled_iterations_per_epoch(iters, stage)
        epochs = PAPER_STAGE_EPOCHS[stage]
        assert ipe == pytest.approx(iters / epochs)
        # warm-up over the first 4 of the paper's epochs, then decay to under 1 % of the base rate
        assert learning_rate(0, 1.0, ipe) == pytest.approx(0.1089)
        assert learning_rate(iters - 1, 1.0, ipe) == pytest.approx(math.exp(-0.04 * (epochs - 1)))
        assert learning_rate(iters - 1, 1.0, ipe) < 0.01
    assert PAPER_STAGE_EPOCHS == {1: 150, 2: 120}  # 170k / 1137 and 136k / 1137 iterations
    with pytest.raises(ValueError):
        scaled_iterations_per_epoch(100, 3)
    with pytest.raises(ValueError):
        scaled_iterations_per_epoch(0, 1)
