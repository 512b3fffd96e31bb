"""The five MURAUER modules (paper Fig. 2, appendix A.1) in plain PyTorch.

    f  Encoder        depth crop (B,1,S,S)            -> latent z (B,D)
    p  PoseHead       z                               -> normalised joints (B,J,3)
    m  Mapping        real z -> synthetic feature space (real inputs only)
    h  Discriminator  z -> one real-valued label (LSGAN: 1 = real, 0 = synthetic)
    g  ViewDecoder    (z, crop centre)                -> depth crop seen from another camera, in [-1, 1]

A real image is predicted as p(m(f(x))), a synthetic one as p(f(x)). Every width and depth
lives in ModelConfig, so the same code builds the paper's network and a slim CPU one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

VIEW_INPUTS = ("latent", "pose_hidden")  # ModelConfig.view_input


F_P = {"shapes_f_p": True}  # a field that shapes f or p: a shipped stage 1 must match it (mlib.pretrained)


@dataclass(frozen=True)
class ModelConfig:
    crop_size: int = field(default=64, metadata=F_P)
    num_joints: int = field(default=14, metadata=F_P)  # NYU's 14 evaluation joints; p outputs 3*J normalised coordinates
    # f: conv 5x5 (stem_channels) -> max-pool 2 -> residual stages, each starting with stride 2
    stem_channels: int = field(default=32, metadata=F_P)
    stage_channels: tuple[int, ...] = field(default=(64, 128, 256, 256), metadata=F_P)
    blocks_per_stage: int = field(default=5, metadata=F_P)
    bottleneck_ratio: int = field(default=4, metadata=F_P)  # a bottleneck block's inner width is out_channels / ratio
    latent_dim: int = field(default=1024, metadata=F_P)
    # p: FC(pose_hidden) -> ReLU -> FC(3J)
    pose_hidden: int = field(default=1024, metadata=F_P)
    # m and h: residual blocks of latent_dim units, each x + FC(ReLU(FC(x)))
    mapping_blocks: int = 2
    disc_blocks: int = 2
    mapping_identity_init: bool = True  # m starts as the identity, so stage 2 starts from the stage-1 predictor
    # The authors' release computes each block as x + FC(x): its MappingBlock evaluates fc1 and the ReLU,
    # then overwrites them with fc2(x) (source/nets/resnet.py), so its m and h are affine maps.
    mapping_affine: bool = False
    disc_affine: bool = False
    # What g decodes: the latent z (paper Fig. 2) or, as the authors' release does, the pose head's
    # hidden layer relu(p.fc1(z)) (its decoder reads the features that feed the last pose layer).
    view_input: str = "latent"
    # g: linear to decoder_channels[0] maps of (crop_size/32)^2 pixels, then four stride-2 transposed
    # convs (the first three to decoder_channels[1:], the last to one depth channel), i.e. crop_size/2 pixels,
    # then bilinear upsampling to crop_size and tanh (paper: 64x64 -> 128x128).
    decoder_channels: tuple[int, ...] = (512, 256, 128, 64)
    decoder_slope: float = 0.2  # leaky ReLU slope, as in DCGAN
    centre_scale_mm: float = 1000.0  # g sees the crop centre in metres: values of order 1, like z

    def __post_init__(self) -> None:
        # overrides may arrive as lists (e.g. from papermill parameters); keep the config hashable
        for name in ("stage_channels", "decoder_channels"):
            object.__setattr__(self, name, tuple(int(c) for c in getattr(self, name)))
        if self.crop_size < 8:
            raise ValueError(f"crop_size must be at least 8 pixels, got {self.crop_size}")
        if self.view_input not in VIEW_INPUTS:
            raise ValueError(f"view_input={self.view_input!r}; choose one of {VIEW_INPUTS}")
        if len(self.stage_channels) < 1:
            raise ValueError("stage_channels needs at least one stage")
        if len(self.decoder_channels) != 4:
            raise ValueError(
                f"decoder_channels needs 4 entries (linear + 3 transposed convs), got {self.decoder_channels}"
            )
        for name in (
            "num_joints",
            "stem_channels",
            "blocks_per_stage",
            "latent_dim",
            "pose_hidden",
            "bottleneck_ratio",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


# ----------------------------------------------------------------------------- f


class Bottleneck(nn.Module):
    """Pre-activation bottleneck residual block (He et al., "Identity mappings", 2016).

    BN-ReLU-conv1x1 -> BN-ReLU-conv3x3 (carries the stride) -> BN-ReLU-conv1x1, plus a shortcut
    that is a strided 1x1 conv when the shape changes.
    """

    def __init__(self, c_in: int, c_out: int, stride: int, ratio: int):
        super().__init__()
        mid = max(1, c_out // ratio)
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, c_out, 1, bias=False)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False) if stride != 1 or c_in != c_out else None

    def forward(self, x: Tensor) -> Tensor:
        a = F.relu(self.bn1(x))
        skip = x if self.shortcut is None else self.shortcut(a)
        y = self.conv1(a)
        y = self.conv2(F.relu(self.bn2(y)))
        y = self.conv3(F.relu(self.bn3(y)))
        return y + skip


class Encoder(nn.Module):
    """f: conv 5x5 -> max-pool 2 -> residual stages -> BN, ReLU -> flatten -> FC to the latent z.

    The last feature map is flattened rather than averaged (as in DeepPrior++ and the authors'
    release): joint positions are regressed, so where a feature fires matters.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, cfg.stem_channels, 5, padding=2, bias=False), nn.MaxPool2d(2))
        blocks, c_in, side = [], cfg.stem_channels, cfg.crop_size // 2
        for c_out in cfg.stage_channels:
            for i in range(cfg.blocks_per_stage):
                blocks.append(Bottleneck(c_in, c_out, stride=2 if i == 0 else 1, ratio=cfg.bottleneck_ratio))
                c_in = c_out
            side = (side - 1) // 2 + 1  # a stride-2 conv with padding 1 (and the 1x1 shortcut) rounds up
        self.stages = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(c_in)
        self.fc = nn.Linear(c_in * side * side, cfg.latent_dim)
        for mod in self.modules():
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        y = self.stages(self.stem(x))
        y = F.relu(self.bn(y))
        return self.fc(y.flatten(1))  # flatten reads logical NCHW order, so channels-last inputs give the same z


# ----------------------------------------------------------------------------- p, m, h


class PoseHead(nn.Module):
    """p: z -> FC(pose_hidden) -> ReLU -> FC(3J), returned as (B, J, 3) normalised joint positions."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.num_joints = cfg.num_joints
        self.fc1 = nn.Linear(cfg.latent_dim, cfg.pose_hidden)
        self.fc2 = nn.Linear(cfg.pose_hidden, 3 * cfg.num_joints)

    def hidden(self, z: Tensor) -> Tensor:
        """The features the last pose layer reads (what the release's view decoder decodes)."""
        return F.relu(self.fc1(z))

    def forward(self, z: Tensor) -> Tensor:
        return self.fc2(self.hidden(z)).view(-1, self.num_joints, 3)


class ResidualFC(nn.Module):
    """x + FC(ReLU(FC(x))), the mapping block of Rad et al. (CVPR 2018).

    The authors' published code drops the ReLU branch (its block returns x + fc2(x), an affine map);
    their README reports a later fix "wrt. some non-linearities". `affine=True` is that published form
    (fc1 is then unused). No activation after the sum: z itself is unconstrained.
    """

    def __init__(self, dim: int, zero_init: bool = False, affine: bool = False):
        super().__init__()
        self.affine = affine
        self.fc1 = nn.Linear(dim, dim)
        self.fc2 = nn.Linear(dim, dim)
        if zero_init:  # the block starts as the identity
            nn.init.zeros_(self.fc2.weight)
            nn.init.zeros_(self.fc2.bias)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.fc2(x if self.affine else F.relu(self.fc1(x)))


class Mapping(nn.Module):
    """m: maps real latents into the synthetic feature space. Synthetic latents never pass through m."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.blocks = nn.Sequential(
            *[
                ResidualFC(cfg.latent_dim, zero_init=cfg.mapping_identity_init, affine=cfg.mapping_affine)
                for _ in range(cfg.mapping_blocks)
            ]
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.blocks(z)


class Discriminator(nn.Module):
    """h: the same residual blocks as m, then Linear(latent_dim, 1). Returns (B,) LSGAN labels."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.blocks = nn.Sequential(*[ResidualFC(cfg.latent_dim, affine=cfg.disc_affine) for _ in range(cfg.disc_blocks)])
        self.out = nn.Linear(cfg.latent_dim, 1)

    def forward(self, z: Tensor) -> Tensor:
        return self.out(self.blocks(z)).squeeze(1)


# ----------------------------------------------------------------------------- g


class ViewDecoder(nn.Module):
    """g: (z, crop centre in mm) -> the depth crop from another camera, (B,1,S,S) in [-1, 1].

    DCGAN-style (Radford et al. 2016): a linear layer to a small map (BN, leaky ReLU), three
    transposed convs with BN and leaky ReLU, a fourth to one channel (DCGAN keeps BN off the
    output layer), bilinear upsampling by 2 to the crop size, tanh. The crop centre is an input
    because the target camera sees the crop from a centre-dependent angle (as in the authors' code).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c = cfg.decoder_channels
        self.crop_size = cfg.crop_size
        self.centre_scale_mm = cfg.centre_scale_mm
        self.base = max(1, cfg.crop_size // 32)  # 4 doublings then x2 upsampling: 4 -> 64 -> 128 at the paper's size
        width = cfg.latent_dim if cfg.view_input == "latent" else cfg.pose_hidden
        self.fc = nn.Linear(width + 3, c[0] * self.base * self.base, bias=False)
        layers: list[nn.Module] = [nn.BatchNorm2d(c[0]), nn.LeakyReLU(cfg.decoder_slope)]
        for c_in, c_out in zip(c[:-1], c[1:]):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(cfg.decoder_slope),
            ]
        layers.append(nn.ConvTranspose2d(c[-1], 1, 4, stride=2, padding=1))
        self.up = nn.Sequential(*layers)

    def forward(self, z: Tensor, centre_mm: Tensor) -> Tensor:
        centre = (centre_mm / self.centre_scale_mm).to(z.dtype)  # match z's dtype under autocast
        y = self.fc(torch.cat([z, centre], dim=1))
        y = self.up(y.view(y.shape[0], -1, self.base, self.base))
        y = F.interpolate(y, size=(self.crop_size, self.crop_size), mode="bilinear", align_corners=False)
        return torch.tanh(y)


# ----------------------------------------------------------------------------- all together


class Murauer(nn.Module):
    """Holds f, p, m, h, g. forward() predicts the pose; the training loop calls the modules directly."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.f = Encoder(cfg)
        self.p = PoseHead(cfg)
        self.m = Mapping(cfg)
        self.h = Discriminator(cfg)
        self.g = ViewDecoder(cfg)

    def view(self, z: Tensor, centre_mm: Tensor) -> Tensor:
        """g's prediction of the other camera's view from latents z (real ones already mapped by m)."""
        return self.g(self.p.hidden(z) if self.cfg.view_input == "pose_hidden" else z, centre_mm)

    def latent(self, x: Tensor, real: bool) -> Tensor:
        """z = f(x), mapped by m into the synthetic feature space only for real inputs."""
        z = self.f(x)
        return self.m(z) if real else z

    def forward(self, x: Tensor, real: bool) -> Tensor:
        """Normalised joint positions (B, J, 3): p(m(f(x))) for real x, p(f(x)) for synthetic x."""
        return self.p(self.latent(x, real))


def parameter_counts(model: Murauer) -> dict[str, int]:
    """Trainable parameters per module (f, p, m, h, g) and in total."""
    counts = {name: sum(q.numel() for q in getattr(model, name).parameters()) for name in ("f", "p", "m", "h", "g")}
    counts["total"] = sum(q.numel() for q in model.parameters())
    return counts
