"""The generated scene: NYU's subjects hold the hand out, so the side views show little body."""

import dataclasses

import numpy as np
import pytest

from mlib.data.crop import CropConfig
from mlib.data.procedural.generator import GeneratorConfig, HandGenerator
from mlib.data.scene import SCENE_PARTS, scene_share, without


def test_removing_scene_parts_leaves_the_hand_and_only_the_real_domain():
    gen = HandGenerator(GeneratorConfig(scene_layout="close"))
    f = gen.frames("train", np.arange(3))
    bare = without(f, tuple(SCENE_PARTS))
    assert bare.caps_real.shape[1] == f.caps_real.shape[1] - 2
    assert (bare.rects_real[:, :2, 12] < 0).all() and np.array_equal(bare.rects_real[:, 2], f.rects_real[:, 2])
    assert np.array_equal(bare.caps_synth, f.caps_synth) and np.array_equal(bare.joints_xyz, f.joints_xyz)


@pytest.mark.parametrize("layout, lo, hi", [("close", 0.2, 1.0), ("arm_out", 0.0, 0.12)])
def test_scene_share_of_the_view_crop(layout, lo, hi):
    r = scene_share(GeneratorConfig(scene_layout=layout), CropConfig(size=32), "train", 40, camera=2)
    assert lo <= r["share"] <= hi, r
    assert r["share"] >= max(r["parts"].values()) - 1e-9  # all parts remove at least what each does


def test_the_layout_changes_only_the_real_domain():
    a, b = (HandGenerator(GeneratorConfig(scene_layout=s)) for s in ("close", "arm_out"))
    fa, fb = a.frames("train", np.arange(4)), b.frames("train", np.arange(4))
    assert np.array_equal(fa.caps_synth, fb.caps_synth) and np.array_equal(fa.joints_uvd, fb.joints_uvd)
    assert not np.array_equal(fa.rects_real, fb.rects_real)
    with pytest.raises(ValueError, match="scene_layout"):
        dataclasses.replace(GeneratorConfig(), scene_layout="beach")
