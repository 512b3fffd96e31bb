"""One resolver for a preset's data, model and training settings."""

import pytest

from mlib.presets import PRESET_NAMES, resolve


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_the_models_crop_size_comes_from_the_data(name):
    p = resolve(name)
    assert p.model.crop_size == p.data.crop.size and p.train.preset == name
    smaller = resolve(name, data={"crop_size": 48}, model={"latent_dim": 32}, train={"seed": 3})
    assert smaller.model.crop_size == smaller.data.crop.size == 48
    assert smaller.model.latent_dim == 32 and smaller.train.seed == 3


def test_unset_overrides_are_ignored_and_conflicts_named():
    assert resolve("ci", data={"frames": None}, train={"seed": None}) == resolve("ci")
    with pytest.raises(ValueError, match="crop_size=64 differs from the data's crop size 32"):
        resolve("ci", model={"crop_size": 64})
    with pytest.raises(ValueError, match="unknown preset"):
        resolve("huge")
    with pytest.raises(ValueError, match="unknown ModelConfig field"):
        resolve("ci", model={"widht": 3})


def test_below_paper_scale_the_schedule_is_scaled():
    assert resolve("ci").train.scaled_schedule and resolve("laptop").train.scaled_schedule
    assert not resolve("paper").train.scaled_schedule
