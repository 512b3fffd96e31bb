"""TensorBoard event files of a training run, in `<run folder>/tensorboard/stage1/` and `.../stage2/`,
beside its history:

    tensorboard --logdir runs/

Scalars per logged row (`stage1/pose`, `stage2/view`, `stage2/lr`, `stage2/val_error_mm`,
`stage2/disc_acc`, ...) and, at every validation, a few validation frames as images: the camera-1
input, the view decoder's side view and the captured side view (paper Fig. 5's three panels).
"""

from __future__ import annotations

from pathlib import Path

import torch

from mlib.cli import UserError

VIEW_FRAMES = 4  # validation frames shown as images at each validation
NOT_SCALARS = ("iteration", "stage")


def require_tensorboard() -> None:
    """Raise a UserError saying what to do when TensorBoard is not installed (checked before a run starts)."""
    try:
        import tensorboard  # noqa: F401
    except ImportError as err:
        raise UserError(
            f"tensorboard is not installed ({err}) — `pip install tensorboard`, or pass --no-tensorboard"
        ) from None


class TensorBoardLog:
    """A SummaryWriter for one stage of a run; every method is a no-op after `close`."""

    def __init__(self, out_dir: str | Path, stage: int, start: int = 0):
        """`start`: the iteration the stage resumes from (0: from the beginning). The steps after it that
        an earlier attempt logged before it was killed are purged: the resumed run logs them anew."""
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter
        # TensorBoard purges at a restart marker's step across every tag of a folder, so each stage has its
        # own (stage 2's marker would hide stage 1's later steps), and a fresh stage writes a marker too:
        # the first marker of a folder only marks a start, so a resume's must be the second.
        self.folder = Path(out_dir) / "tensorboard" / f"stage{stage}"
        self.stage = stage
        self.writer = SummaryWriter(log_dir=str(self.folder), purge_step=start + 1)

    def scalars(self, row: dict) -> None:
        """One history row: every number in it, at its iteration."""
        step = int(row["iteration"])
        for key, value in row.items():
            if key not in NOT_SCALARS and isinstance(value, (int, float)):
                self.writer.add_scalar(f"stage{self.stage}/{key}", value, step)

    @torch.no_grad()
    def views(self, model: torch.nn.Module, store, step: int, device: torch.device) -> None:
        """The first validation frames' input, predicted side view (through m in stage 2, as trained)
        and captured side view, depth [-1, 1] shown as [0, 1]."""
        idx = torch.arange(min(VIEW_FRAMES, len(store)))
        was_training = model.training
        model.eval()
        try:
            x = store.images(idx, "real").to(device)
            pred = model.g(model.latent(x, real=self.stage == 2), store.centres[idx, 0].to(device)).float().cpu()
        finally:
            model.train(was_training)
        panels = torch.cat([x.float().cpu(), pred, store.views(idx, "real")], dim=-1)  # side by side per frame
        self.writer.add_images(f"stage{self.stage}/input_predicted_captured_view", (panels + 1) / 2, step)

    def close(self) -> None:
        self.writer.close()


class TensorBoardCallback:
    """A trainer's TensorBoard (`mlib.train.Callback`): each history row as scalars and, at a stage-2
    validation with Lg, a few predicted views. The event file is opened when a run starts (from the
    iteration it resumes at, so the steps a killed attempt logged after its checkpoint are replaced)."""

    def __init__(self):
        self.log: TensorBoardLog | None = None
        self.folder: Path | None = None

    def on_start(self, trainer) -> None:
        self.log = TensorBoardLog(trainer.out_dir, trainer.stage, trainer.iteration)
        self.folder = self.log.folder

    def on_row(self, trainer, row: dict) -> None:
        self.log.scalars(row)
        if "val_error_mm" in row and trainer.stage == 2 and trainer.variant.view:
            self.log.views(trainer.model, trainer.val, trainer.iteration, trainer.device)

    def on_end(self, trainer) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None
