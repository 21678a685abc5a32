"""Training logs: one JSON line per logged step or evaluation, and a quiet progress bar."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback


class JsonlLog(TrainerCallback):
    """Appends the trainer's logs (loss per step, dev metrics per epoch) to ``path`` with
    the step, epoch, round and seconds since training started; keeps them in ``records``."""

    def __init__(self, path: Path | None, *, round_number: int = 1) -> None:
        self.path = path
        self.round = round_number
        self.records: list[dict[str, Any]] = []
        self._start = time.perf_counter()

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        record = {
            "round": self.round,
            "step": state.global_step,
            "epoch": round(state.epoch or 0.0, 4),
            "seconds": round(time.perf_counter() - self._start, 2),
            **(logs or {}),
        }
        self.records.append(record)
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")


class QuietProgress(ProgressCallback):
    """The trainer's progress bar without a printed dict per logged step."""

    def on_log(self, *args: Any, **kwargs: Any) -> None:
        return None


def install_callbacks(trainer: Any, log: JsonlLog, *, progress: bool) -> None:
    """Replace the trainer's printing callbacks by ``log`` (and a quiet bar)."""
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    if progress:
        trainer.add_callback(QuietProgress())
    trainer.add_callback(log)
