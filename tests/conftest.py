"""Shared test set-up: smoke mode everywhere, and nbval without stderr comparison."""

import os

os.environ["TEXTGEN_MODE"] = "smoke"  # in-process code, nbval kernels and nbgrader all run in smoke mode
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
# A private Keras cache per test process: smoke data never mixes with real downloads,
# and no test depends on what an earlier run left behind. Set before Keras is imported.
import tempfile  # noqa: E402

os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="textgen-keras-")
os.environ["TEXTGEN_CHECKPOINT_DIR"] = os.path.join(os.environ["KERAS_HOME"], "checkpoints")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# Notebooks under tests/fixtures are grading inputs, not notebooks for nbval to run.
collect_ignore_glob = ["fixtures/*"]

ROOT = Path(__file__).resolve().parent.parent


def _drop_stderr(outputs):
    return [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]


try:  # nbval compares every stream; warnings on stderr legitimately differ between runs
    import nbval.plugin as _nbval

    _compare = _nbval.IPyNbCell.compare_outputs

    def _compare_without_stderr(self, test, ref, skip_compare=None):
        return _compare(self, _drop_stderr(test), _drop_stderr(ref), skip_compare)

    _nbval.IPyNbCell.compare_outputs = _compare_without_stderr
except ImportError:  # pragma: no cover - nbval is a dev dependency
    pass


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
