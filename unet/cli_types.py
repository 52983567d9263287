"""Argument types of the `unet` command: numbers within the schema's bounds, devices, paths."""

from __future__ import annotations

import argparse
import os


def number(kind: type, low: float | None, high: float | None = None):
    """An argparse type: `kind` (int or float) within [low, high] (config/schema.yaml's bounds
    for predict settings), else a usage error saying the bound."""

    def parse(value: str) -> int | float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if low is not None and number < low:
            raise argparse.ArgumentTypeError(f"{value} is out of range: at least {low}")
        if high is not None and number > high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: at most {high}")
        return number

    return parse


def device(value: str) -> str:
    from unet.common.device import DEVICE_PATTERN

    if not DEVICE_PATTERN.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not auto, cpu, cuda or cuda:N")
    return value


def path(value: str) -> str:
    """A path argument with a leading ~ as the home folder: the shell expands it only at a
    word's start, so `--out=~/masks` came as it was and made a folder named '~' here."""
    return os.path.expanduser(value)
