"""Reader and writer for the NYU hand pose data set's on-disk layout (Tompson et al. 2014).

A split folder holds `depth_K_NNNNNNN.png` (real), `synthdepth_K_NNNNNNN.png` (rendered
model) for cameras K = 1..3 with 1-based 7-digit frame numbers, and `joint_data.mat`
with `joint_names`, `joint_uvd` and `joint_xyz` shaped (3 cameras, N, 36, 3).
Depth PNGs are 640x480 RGB with depth in mm = (G << 8) | B.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image, UnidentifiedImageError

from mlib.atomic import atomic_write
from mlib.data.camera import JOINT_NAMES, NUM_JOINTS, NYU, Intrinsics

# NYU's test split shows a second, smaller person from 0-based frame 2441 on (file depth_1_0002442.png):
# the authors' release (poier/murauer, source/data/NyuHandPoseDataset.py, `testseq2_start_id = 2441`,
# compared with the 0-based sample index) crops those frames with a cube 25/30 the size.
NYU_TEST_SECOND_SUBJECT_INDEX = 2441
# The view-prediction target. The release's third camera slot (`output_cam_ids_train = [3]`) reads
# camera 2 for training frames whose 0-based index is below `setup_swap_id_train = 29116` and camera 3
# from there on: cameras 2 and 3 swap places in NYU's rig during the training recording. Its test set
# has no swap (`setup_swap_id = 0`), so camera 3 throughout.
NYU_VIEW_SWAP_INDEX_TRAIN = 29116
GENERATOR_MARKER = "mlib_generator.json"
GENERATED_VIEW_CAMERA = 2  # the side camera whose real frames the generator writes as view targets


class NYUFormatError(ValueError):
    """A file in an NYU-layout folder that cannot be used as it is."""


def view_camera_rule(index: int, swap_index: int | None) -> int:
    """Camera 2 for 0-based frames below `swap_index`, camera 3 from it on (None: camera 2 always)."""
    return 2 if swap_index is None or index < swap_index else 3


def depth_filename(camera: int, frame: int, synthetic: bool = False) -> str:
    """File name of a depth frame; `frame` is 1-based as in NYU."""
    return f"{'synthdepth' if synthetic else 'depth'}_{camera}_{frame:07d}.png"


def read_depth_png(path: str | Path, intr: Intrinsics = NYU) -> np.ndarray:
    """Decode an NYU depth PNG to a (480, 640) float32 array in mm (0 = no reading / background)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: depth frame not found — check the data folder and the frame number")
    try:
        with Image.open(path) as img:
            img.load()
            mode, size = img.mode, img.size
            rgb = np.asarray(img)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise NYUFormatError(
            f"{path}: not a readable PNG ({err}) — the file is corrupt or truncated; copy it again"
        ) from err
    if size != (intr.width, intr.height):
        raise NYUFormatError(
            f"{path}: image is {size[0]}x{size[1]}, NYU depth frames are {intr.width}x{intr.height} — "
            "replace it with the original frame"
        )
    if mode != "RGB":
        raise NYUFormatError(
            f"{path}: PNG mode is {mode!r}, NYU depth frames are 'RGB' with depth in G (high) and B (low) — "
            "replace it with the original frame"
        )
    return ((rgb[..., 1].astype(np.uint16) << 8) | rgb[..., 2]).astype(np.float32)


def write_depth_png(path: str | Path, depth_mm: np.ndarray) -> None:
    """Encode depth in mm (rounded, clipped to 0..65535) as an NYU depth PNG, atomically."""
    path = Path(path)
    d = np.clip(np.rint(np.asarray(depth_mm)), 0, 65535).astype(np.uint16)
    rgb = np.zeros(d.shape + (3,), dtype=np.uint8)
    rgb[..., 1] = d >> 8
    rgb[..., 2] = d & 0xFF
    with atomic_write(path) as tmp:
        Image.fromarray(rgb, mode="RGB").save(tmp, format="PNG")


def read_joint_data(folder: str | Path) -> dict[str, np.ndarray]:
    """Load `joint_data.mat`: joint_names (36,), joint_uvd and joint_xyz (3, N, 36, 3) float64."""
    path = Path(folder) / "joint_data.mat"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: joint annotations not found — an NYU split folder needs its joint_data.mat")
    try:
        mat = scipy.io.loadmat(path)
    except Exception as err:  # scipy raises several types for broken files
        raise NYUFormatError(f"{path}: cannot read the MATLAB file ({err}) — copy it again") from err
    missing = [k for k in ("joint_uvd", "joint_xyz") if k not in mat]
    if missing:
        raise NYUFormatError(
            f"{path}: missing key(s) {missing}, found {sorted(k for k in mat if not k.startswith('__'))} — "
            "use NYU's own joint_data.mat"
        )
    out = {}
    for key in ("joint_uvd", "joint_xyz"):
        arr = np.asarray(mat[key], dtype=np.float64)
        if arr.ndim == 3:  # a single camera saved without the leading axis
            arr = arr[None]
        if arr.ndim != 4 or arr.shape[2] != NUM_JOINTS or arr.shape[3] != 3:
            raise NYUFormatError(
                f"{path}: {key} has shape {arr.shape}, expected (cameras, N, {NUM_JOINTS}, 3) — "
                "use NYU's own joint_data.mat"
            )
        out[key] = arr
    if out["joint_uvd"].shape != out["joint_xyz"].shape:
        raise NYUFormatError(
            f"{path}: joint_uvd {out['joint_uvd'].shape} and joint_xyz {out['joint_xyz'].shape} differ — "
            "use NYU's own joint_data.mat"
        )
    names = mat.get("joint_names")
    out["joint_names"] = (
        np.array([str(np.squeeze(n)) for n in np.ravel(names)]) if names is not None else np.array(JOINT_NAMES)
    )
    return out


def check_labels(path: Path, joints: dict[str, np.ndarray]) -> None:
    """Refuse labels with a NaN or infinite coordinate, naming the first such frame, camera and joint:
    such a label would pass cropping and poison every loss it enters."""
    for key in ("joint_xyz", "joint_uvd"):
        bad = np.argwhere(~np.isfinite(joints[key]))
        if len(bad):
            camera, frame, joint, axis = (int(v) for v in bad[0])
            names = joints.get("joint_names", JOINT_NAMES)
            raise NYUFormatError(
                f"{path}: {key} of frame {frame + 1} ({depth_filename(camera + 1, frame + 1)}), camera {camera + 1}, "
                f"joint {joint} ({names[joint]}) has a non-finite {'xyz'[axis] if key == 'joint_xyz' else 'uvd'[axis]} "
                f"coordinate ({joints[key][camera, frame, joint, axis]}), {len(bad)} value(s) in all — fix the label "
                "(nothing was cached)"
            )


def write_joint_data(folder: str | Path, joint_uvd: np.ndarray, joint_xyz: np.ndarray) -> None:
    """Write `joint_data.mat` in NYU's layout, atomically."""
    path = Path(folder) / "joint_data.mat"
    names = np.empty((1, NUM_JOINTS), dtype=object)
    names[0, :] = JOINT_NAMES
    with atomic_write(path) as tmp:
        scipy.io.savemat(tmp, {"joint_names": names, "joint_uvd": joint_uvd, "joint_xyz": joint_xyz})


class NYUFolder:
    """One split of an NYU-layout data set: lazy access to depth frames and joints.

    Frame indices here are 0-based; file names use NYU's 1-based numbers.
    """

    def __init__(self, root: str | Path, split: str = "train", cube_mm: float = 300.0):
        self.root = Path(root)
        self.cube = cube_mm
        self.folder = self.root / split
        if not self.folder.is_dir():
            raise FileNotFoundError(
                f"{self.folder}: NYU split folder not found — expected {self.root}/<train|test>/ "
                "with depth_*.png and joint_data.mat (see this module's docstring or generate one with `python -m mlib.data.generate`)"
            )
        self.split = split
        joints = read_joint_data(self.folder)
        self.joint_uvd = joints["joint_uvd"]
        self.joint_xyz = joints["joint_xyz"]
        self.num_cameras, self.num_frames = self.joint_xyz.shape[:2]
        check_labels(self.folder / "joint_data.mat", joints)
        # Folders written by our generator carry this marker; the real NYU's second-subject cube rule
        # and camera swap do not apply to them, the marker says where (if anywhere) their view swaps.
        marker = self.folder / GENERATOR_MARKER
        self.is_generated = marker.is_file()
        if self.is_generated:
            self.view_swap_index = json.loads(marker.read_text()).get("view_swap_index")
        else:
            self.view_swap_index = NYU_VIEW_SWAP_INDEX_TRAIN if split == "train" else 0

    def check_files(self, cameras: tuple[int, ...] = (1,), synthetic: tuple[int, ...] = ()) -> None:
        """Raise naming the first missing file, or the count that disagrees with joint_data.mat, for the
        real depth frames of `cameras` and the synthetic ones of `synthetic`."""
        names = {p.name for p in self.folder.iterdir()}
        for camera, synth in [(k, False) for k in cameras] + [(k, True) for k in synthetic]:
            prefix = f"{'synthdepth' if synth else 'depth'}_{camera}_"
            count = sum(1 for n in names if n.startswith(prefix) and n.endswith(".png"))
            missing = next(
                (i for i in range(self.num_frames) if depth_filename(camera, i + 1, synth) not in names), None
            )
            if missing is not None:
                raise FileNotFoundError(
                    f"{self.depth_path(missing, camera, synth)}: missing; {self.folder / 'joint_data.mat'} lists "
                    f"{self.num_frames} frames and the folder has {count} {prefix}*.png files — "
                    "copy the missing frames"
                )
            if count != self.num_frames:
                raise NYUFormatError(
                    f"{self.folder}: {count} {prefix}*.png files but joint_data.mat lists {self.num_frames} frames — "
                    "the folder and its labels must hold the same frames"
                )

    def view_camera(self, index: int) -> int:
        """The camera whose frame (real and rendered) is the view-prediction target of 0-based frame
        `index`: camera 2 before the split's swap index, camera 3 from it on (NYU's training split swaps
        at `NYU_VIEW_SWAP_INDEX_TRAIN`, its test split at 0). A folder the generator wrote records its
        own swap index, or none: its side camera 2 throughout."""
        return view_camera_rule(index, self.view_swap_index)

    def view_cameras(self) -> tuple[int, ...]:
        """The cameras the view targets of this split's frames come from."""
        return tuple(sorted({self.view_camera(0), self.view_camera(self.num_frames - 1)}))

    def files_read(self, indices) -> list[Path]:
        """The depth files cropping frames `indices` reads: real camera 1 and the frame's view camera,
        synthetic cameras 1-3."""
        return [
            self.depth_path(i, camera, synthetic)
            for i in (int(i) for i in indices)
            for camera, synthetic in ((1, False), (self.view_camera(i), False), (1, True), (2, True), (3, True))
        ]

    @functools.cached_property
    def labels_digest(self) -> str:
        """SHA-256 of joint_data.mat's bytes, read once per folder (the train folder serves two splits)."""
        digest = hashlib.sha256()
        with open(self.folder / "joint_data.mat", "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def fingerprint(self, indices) -> str:
        """A digest of what cropping frames `indices` reads: the content of joint_data.mat and the name,
        size and modification time of every depth file, so a label edited or a PNG replaced in place
        gives another digest (and another cache)."""
        digest = hashlib.sha256(self.labels_digest.encode())
        for path in self.files_read(indices):
            st = path.stat()
            digest.update(f"{path.name} {st.st_size} {st.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]

    def __len__(self) -> int:
        return self.num_frames

    def depth_path(self, index: int, camera: int = 1, synthetic: bool = False) -> Path:
        return self.folder / depth_filename(camera, index + 1, synthetic)

    def depth(self, index: int, camera: int = 1, synthetic: bool = False) -> np.ndarray:
        """(480, 640) float32 mm of 0-based frame `index`."""
        if not 0 <= index < self.num_frames:
            raise IndexError(f"{self.folder}: frame index {index} out of range 0..{self.num_frames - 1}")
        return read_depth_png(self.depth_path(index, camera, synthetic))

    def cube_mm(self, index: int) -> float:
        """Crop cube side for a frame: 250 mm for real NYU's second test subject, as the protocol does."""
        if self.split == "test" and not self.is_generated and index >= NYU_TEST_SECOND_SUBJECT_INDEX:
            return self.cube * 250.0 / 300.0
        return self.cube
