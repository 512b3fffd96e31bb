"""How the command-line tools end on a user's mistake: one line, `error: <file>: <what> — <what to do>`,
and a non-zero exit status, not a traceback; `--debug` lets the traceback through.

    with user_errors(args.debug):
        ...  # everything that reads the user's files and arguments
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from mlib.atomic import LockHeld
from mlib.data.cache import CacheError
from mlib.losses import NonFiniteLossError


class UserError(ValueError):
    """A mistake in what the user asked for (an argument, a folder): its message is the whole story."""


# What a user's files, arguments and data can cause; anything else is a bug and keeps its traceback.
USER_ERRORS = (OSError, ValueError, CacheError, LockHeld, NonFiniteLossError)


class DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """`--help` shows each option's default, except where there is none to show (a flag that is off,
    or None: the help text says who decides)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        none = action.default is None or action.default is False or action.default is argparse.SUPPRESS
        if none or "%(default)" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


@contextmanager
def user_errors(debug: bool = False) -> Iterator[None]:
    """Turn the exceptions a user's input causes into `error: <message>` and exit status 1."""
    try:
        yield
    except USER_ERRORS as err:
        if debug:
            raise
        raise SystemExit(f"error: {' '.join(str(err).split())}") from None


def check_device(name: str) -> torch.device | None:
    """The device `--device` names, checked before anything is written; None for 'auto'."""
    if name == "auto":
        return None
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise UserError(f"--device {name}: not a device name ({err}) — use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise UserError(f"--device {name}: this machine has no CUDA device — use --device cpu or auto")
        if device.index is not None and device.index >= count:
            raise UserError(
                f"--device {name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1} — "
                "pick one of them"
            )
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise UserError(f"--device {name}: Apple's MPS is not available here — use --device cpu or auto")
    elif device.type != "cpu":
        raise UserError(f"--device {name}: unsupported device type {device.type!r} — use auto, cpu, cuda[:N] or mps")
    return device
