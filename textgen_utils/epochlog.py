"""Training curves that survive a resume.

Keras' ``History`` only knows the epochs of the current ``fit`` call: after a
Colab disconnect and a resume with :func:`textgen_utils.training.resumable`, the
loss curve would start at the epoch where training resumed. :class:`EpochLog`
keeps every epoch's logs in a small JSON file next to the training backup, so the
curve of a resumed run shows all epochs. Like the backup, the file is removed
when training finishes.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import keras

from textgen_utils.training import checkpoint_root

FILENAME = "epoch_log.json"


class EpochLog(keras.callbacks.Callback):
    """Per-epoch logs of a resumable training run; ``history`` maps a metric to its values by epoch.

    Use the same ``name`` (or ``directory``) as :func:`textgen_utils.training.resumable`.
    ``plot_history(log)`` draws the whole run, resumed or not.
    """

    def __init__(self, name: str, directory: str | os.PathLike | None = None):
        super().__init__()
        self.path = (Path(directory) if directory is not None else checkpoint_root() / name) / FILENAME
        self.epochs: dict[int, dict] = {}

    def on_train_begin(self, logs=None):
        self.epochs = {}
        if self.path.is_file():  # an interrupted run left its epochs behind: training resumes
            try:
                self.epochs = {int(k): v for k, v in json.loads(self.path.read_text()).items()}
            except (ValueError, AttributeError):
                self.epochs = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epochs[int(epoch)] = {k: float(v) for k, v in (logs or {}).items()}
        # drop epochs after this one: they belonged to an abandoned run
        self.epochs = {e: v for e, v in self.epochs.items() if e <= epoch}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False, suffix=".tmp") as f:
            json.dump(self.epochs, f)
        os.replace(f.name, self.path)  # atomic: a disconnect never leaves half a file

    def on_train_end(self, logs=None):
        self.path.unlink(missing_ok=True)

    @property
    def history(self) -> dict[str, list[float]]:
        """Metric -> values for epochs 1, 2, ... (the shape of ``keras.callbacks.History.history``)."""
        ordered = [self.epochs[e] for e in sorted(self.epochs)]
        metrics = dict.fromkeys(k for logs in ordered for k in logs)
        return {m: [logs.get(m, float("nan")) for logs in ordered] for m in metrics}
