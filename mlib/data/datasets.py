"""In-memory crop stores, nested labeled subsets, and MURAUER's four-set mini-batches.

A `CropStore` holds one split of a cache as torch tensors (images stay float16, converted per batch;
a split too large for memory has its images memory-mapped, see `mlib.data.cache.read_split_mapped`). Training draws index sets with `FourSetSampler` and turns them into
tensors with `make_batch`, so a step costs a few gathers, not a Python loop over samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from mlib.data.augment import AugmentConfig, augment_centres, augment_images, augment_joints, sample_params
from mlib.data.cache import MMAP_ABOVE_BYTES, image_bytes, read_split, read_split_mapped
from mlib.data.camera import EVAL_JOINTS
from mlib.data.crop import CropConfig, joints_to_crop_pixels, normalize_joints


@dataclass
class CropStore:
    """One split of a cache in memory. Camera k's data is at index k-1."""

    real: torch.Tensor  # (N, S, S) float16
    real_view: torch.Tensor  # (N, S, S) float16
    synth: torch.Tensor  # (N, 3, S, S) float16
    joints: torch.Tensor  # (N, 3, 36, 3) float32 mm
    centres: torch.Tensor  # (N, 3, 3) float32 mm
    cube: torch.Tensor  # (N,) float32 mm
    frame_ids: torch.Tensor  # (N,) int64
    subjects: torch.Tensor  # (N,) int64
    view_camera: torch.Tensor  # (N,) int64: the camera real_view shows, and whose render is the synthetic view

    @classmethod
    def load(cls, path: str | Path, split: str, mmap: bool | None = None, progress: bool = True) -> CropStore:
        """One split of a cache. mmap=None memory-maps the images when they take more than
        `MMAP_ABOVE_BYTES`; True or False forces either way. Both give the same tensors."""
        path = Path(path)
        if mmap is None:
            mmap = image_bytes(path, split) > MMAP_ABOVE_BYTES
        arrays = read_split_mapped(path, split, progress) if mmap else read_split(path, split)
        return cls(**{k: torch.from_numpy(v) for k, v in arrays.items()})

    @classmethod
    def from_crops(
        cls,
        real: torch.Tensor,
        synth: torch.Tensor,
        real_view: torch.Tensor | None = None,
        joints: torch.Tensor | None = None,
        cube_mm: float = 300.0,
        seed: int = 0,
        view_camera: int | torch.Tensor = 2,
    ) -> CropStore:
        """A store from crops in memory (tests, benchmarks, a user's own data). real (N,S,S); synth
        (N,S,S), used for all three cameras, or (N,3,S,S); real_view defaults to real; joints (N,3,36,3)
        mm default to random hands 750 mm in front of the cameras (seeded); crop centres are the palm
        centres, frame ids 0..N-1, one subject; `view_camera` is the camera real_view shows (one for all
        frames, the generator's side camera 2 unless given, or one per frame)."""
        n = real.shape[0]
        if joints is None:
            g = torch.Generator().manual_seed(seed)
            joints = torch.randn(n, 3, 36, 3, generator=g) * 40 + torch.tensor([0.0, 0.0, 750.0])
        if synth.dim() == 3:
            synth = synth[:, None].repeat(1, 3, 1, 1)
        return cls(
            real=real.half(),
            real_view=(real if real_view is None else real_view).half(),
            synth=synth.half(),
            joints=joints.float(),
            centres=joints[:, :, 32].clone().float(),
            cube=torch.full((n,), float(cube_mm)),
            frame_ids=torch.arange(n),
            subjects=torch.zeros(n, dtype=torch.long),
            view_camera=torch.as_tensor(view_camera, dtype=torch.long).expand(n).clone(),
        )

    @classmethod
    def random(cls, n: int, size: int, seed: int = 0) -> CropStore:
        """Uniform random crops in [-1, 1] and random joints: for timing and plumbing, not learning."""
        g = torch.Generator().manual_seed(seed)
        real, view = (torch.rand(n, size, size, generator=g) * 2 - 1 for _ in range(2))
        synth = torch.rand(n, 3, size, size, generator=g) * 2 - 1
        return cls.from_crops(real, synth, view, seed=seed)

    def __len__(self) -> int:
        return self.real.shape[0]

    @property
    def device(self) -> torch.device:
        return self.real.device

    def to(self, device: torch.device | str) -> CropStore:
        """The store with every field on `device` (a GPU trainer gathers its batches there: one gather
        per set, no host round trip). The float16 images of the paper-sized NYU set take about 12 GB."""
        fields = {k: getattr(self, k).to(device) for k in self.__dataclass_fields__}
        return CropStore(**fields)

    @property
    def crop_size(self) -> int:
        return self.real.shape[-1]

    def targets(self, idx: torch.Tensor, camera: int | torch.Tensor = 1) -> torch.Tensor:
        """Normalised 14 evaluation joints (B, 14, 3) of camera `camera` (one for all, or one per sample)."""
        j = self.joints[idx, camera - 1][:, EVAL_JOINTS]
        return normalize_joints(j, self.centres[idx, camera - 1], self.cube[idx].view(-1, 1, 1))

    def images(self, idx: torch.Tensor, domain: str, camera: int | torch.Tensor = 1) -> torch.Tensor:
        """(B, 1, S, S) float32 crops: domain 'real' (camera 1 or the view camera) or 'synth' (any of
        the three cameras, one for all or one per sample)."""
        if domain == "real":
            src = self.real if camera == 1 else self.real_view
            return src[idx].float().unsqueeze(1)
        return self.synth[idx, camera - 1].float().unsqueeze(1)

    def joint_pixels(self, i: int, xyz_mm: np.ndarray, camera: int = 1) -> np.ndarray:
        """Joints (J, 3) mm in camera `camera`'s frame as (J, 2) (column, row) pixels of frame `i`'s crop."""
        cfg = CropConfig(size=self.crop_size, cube_mm=float(self.cube[i]))
        return joints_to_crop_pixels(np.asarray(xyz_mm), self.centres[i, camera - 1].cpu().numpy(), cfg)

    def views(self, idx: torch.Tensor, domain: str) -> torch.Tensor:
        """(B, 1, S, S) float32 view-prediction targets: each frame's captured side view ('real') or the
        render of the same camera ('synth'), as the authors' release loads both through one camera id."""
        if domain == "real":
            return self.real_view[idx].float().unsqueeze(1)
        return self.synth[idx, self.view_camera[idx] - 1].float().unsqueeze(1)


class Splits(NamedTuple):
    """The three splits of a data set: train (labeled and unlabeled real frames, synthetic renders),
    val (labeled real frames of other subjects, for every choice made while developing) and test
    (read for reported numbers only)."""

    train: CropStore
    val: CropStore
    test: CropStore

    @classmethod
    def load(cls, path: str | Path, mmap: bool | None = None, progress: bool = True) -> Splits:
        return cls(*(CropStore.load(path, split, mmap, progress) for split in cls._fields))


def labeled_subset(num_frames: int, n: int | str | None, seed: int = 0) -> np.ndarray:
    """Indices of the n labeled frames. Nested: the first n of one fixed permutation per seed,
    so the n=10 frames are inside the n=100 frames. n = 'all' or None gives every frame."""
    if n is None or n == "all":
        return np.arange(num_frames)
    n = int(n)
    if not 1 <= n <= num_frames:
        raise ValueError(f"n_labeled={n} must be between 1 and the number of training frames ({num_frames})")
    return np.sort(np.random.default_rng(seed).permutation(num_frames)[:n])


@dataclass(frozen=True)
class Composition:
    """Samples per set in one mini-batch (paper: 16 each at batch 64). A size of 0 drops the set."""

    pairs: int = 16  # corresponding real/synthetic pairs from the labeled frames
    real: int = 16  # labeled real samples
    synth: int = 16  # synthetic samples (all synthetic frames are labeled)
    unlabeled: int = 16  # real samples whose labels are never used
    # View samples as a set of their own (the authors' release): real frames drawn from every training
    # frame and the renders of the same frames, unrotated, carrying Lg only. 0: no such set.
    view: int = 0


class FourSetSampler:
    """Draws the four index sets of a MURAUER mini-batch, with replacement, from a seeded generator."""

    def __init__(self, num_frames: int, labeled: np.ndarray, composition: Composition = Composition(), seed: int = 0):
        if len(labeled) == 0 and (composition.pairs or composition.real):
            raise ValueError("the batch composition asks for labeled samples but the labeled subset is empty")
        self.num_frames = num_frames
        self.labeled = torch.as_tensor(np.asarray(labeled), dtype=torch.long)
        self.composition = composition
        self.generator = torch.Generator().manual_seed(seed)

    def _from(self, pool: torch.Tensor | None, k: int) -> torch.Tensor:
        if k == 0:
            return torch.empty(0, dtype=torch.long)
        high = self.num_frames if pool is None else len(pool)
        pick = torch.randint(high, (k,), generator=self.generator)
        return pick if pool is None else pool[pick]

    def sample(self) -> dict[str, torch.Tensor]:
        c = self.composition
        return {
            "pairs": self._from(self.labeled, c.pairs),
            "real": self._from(self.labeled, c.real),
            "synth": self._from(None, c.synth),
            "unlabeled": self._from(None, c.unlabeled),
            "view": self._from(None, c.view),  # draws nothing (and consumes no randomness) when empty
        }

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"].cpu())  # a checkpoint mapped to a GPU holds it there


@dataclass
class Inputs:
    """Model inputs of one set: images, normalised targets (None when unlabeled), view target, centre."""

    x: torch.Tensor  # (B, 1, S, S)
    y: torch.Tensor | None  # (B, 14, 3)
    view: torch.Tensor  # (B, 1, S, S) side-camera crop, not augmented
    centre: torch.Tensor  # (B, 3) mm, camera-1 crop centre after jitter


REAL_SETS = ("pair_real", "real", "unlabeled", "view_real")  # in this order in Batch.x_real
SYNTH_SETS = ("pair_synth", "synth", "view_synth")  # in this order in Batch.x_synth
LABELED_SETS = ("pair_real", "real", "pair_synth", "synth")  # the sets Lp is computed on


@dataclass
class Batch:
    """One four-set mini-batch. `sets` holds each non-empty set by name; the real sets are stacked in
    REAL_SETS order and the synthetic ones in SYNTH_SETS order, so that f can read both domains in one
    pass and each set's latents are found again by `split`."""

    sets: dict[str, Inputs]

    def __getitem__(self, name: str) -> Inputs:
        return self.sets[name]

    def __iter__(self):
        return iter(self.sets)

    def names(self, domain: str) -> tuple[str, ...]:
        """The sets of a domain ('real' or 'synth') present in this batch, in stacking order."""
        order = REAL_SETS if domain == "real" else SYNTH_SETS
        return tuple(k for k in order if k in self.sets)

    def stack(self, names: tuple[str, ...], field: str) -> torch.Tensor | None:
        """The named sets' `field` ('x', 'y', 'view' or 'centre') concatenated, or None for no sets."""
        return torch.cat([getattr(self.sets[k], field) for k in names]) if names else None

    def split(self, z: torch.Tensor | None, domain: str) -> dict[str, torch.Tensor]:
        """Per-set views of a domain's stacked tensor (latents, predictions)."""
        names = self.names(domain)
        if z is None or not names:
            return {}
        return dict(zip(names, torch.split(z, [len(self.sets[k].x) for k in names])))


def make_batch(
    store: CropStore,
    sets: dict[str, torch.Tensor],
    device: torch.device | str = "cpu",
    augment: AugmentConfig | None = AugmentConfig(),
    generator: torch.Generator | None = None,
    unrotated: tuple[str, ...] = (),
    synth_cameras: int = 1,
) -> Batch:
    """Gather and augment one mini-batch from the sampler's index sets (pairs, real, synth, unlabeled).
    Batch sets: pair_real, pair_synth, real, synth, unlabeled (sets of size 0 are left out). A pair's
    real and synthetic crops get the same transform. The sets named in `unrotated` (batch names) keep
    their crop-centre jitter and depth noise but are not rotated: a rotated crop shows a hand the side
    camera never saw, so its view target would not fit it. With `synth_cameras` k > 1 each sample of
    the synthetic set is the render of one of the first k cameras, drawn from `generator` (input, pose
    and crop centre of that camera): k times the viewpoints for the same poses (the paper trains on the
    renders of all three cameras). Its view target stays the view camera's render, so only a set
    without Lg (stage 1) should use it. Every view target is the store's (`CropStore.views`): a frame's
    real and synthetic targets show the same camera."""
    out: dict[str, Inputs] = {}

    def gather(
        idx: torch.Tensor, domain: str, labeled: bool, params=None, key: str = "", camera: int | torch.Tensor = 1
    ) -> tuple[Inputs, object]:
        idx = idx.to(store.device, non_blocking=True)  # a no-op unless the store lives on a GPU
        if isinstance(camera, torch.Tensor):
            camera = camera.to(store.device, non_blocking=True)
        x = store.images(idx, domain, camera).to(device, non_blocking=True)
        view_src = store.views(idx, domain)
        y = store.targets(idx, camera).to(device, non_blocking=True) if labeled else None
        centre = store.centres[idx, camera - 1].to(device, non_blocking=True)
        cube = store.cube[idx].to(device, non_blocking=True)
        if augment is not None:
            if params is None:
                params = sample_params(len(idx), x.shape[-1], augment, generator, device)
                if key in unrotated:
                    params.angle = torch.zeros_like(params.angle)
            x = augment_images(x, params, cube, augment)
            y = augment_joints(y, params, cube) if y is not None else None
            centre = augment_centres(centre, params)
        return Inputs(x, y, view_src.to(device, non_blocking=True), centre), params

    if len(sets["pairs"]):
        out["pair_real"], params = gather(sets["pairs"], "real", True, key="pair_real")
        out["pair_synth"], _ = gather(sets["pairs"], "synth", True, params)
    if len(sets["real"]):
        out["real"], _ = gather(sets["real"], "real", True, key="real")
    if len(sets["synth"]):
        cameras = 1
        if synth_cameras > 1:  # drawn where the generator lives (gather moves them to the store)
            on = generator.device if generator is not None else "cpu"
            cameras = torch.randint(1, synth_cameras + 1, sets["synth"].shape, generator=generator, device=on)
        out["synth"], _ = gather(sets["synth"], "synth", True, key="synth", camera=cameras)
    if len(sets["unlabeled"]):
        out["unlabeled"], _ = gather(sets["unlabeled"], "real", False, key="unlabeled")
    if len(sets.get("view", ())):  # a real frame and its render with one transform, like a pair
        out["view_real"], params = gather(sets["view"], "real", False, key="view_real")
        out["view_synth"], _ = gather(sets["view"], "synth", False, params)
    return Batch(out)
