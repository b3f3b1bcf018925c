"""Test set-up for everything pytest collects (tests/ and the nbval run over solutions/):
smoke mode everywhere, a private Keras cache, and nbval without stderr comparison."""

import os

os.environ["TEXTGEN_MODE"] = "smoke"  # in-process code, nbval kernels and nbgrader all run in smoke mode
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
# A private Keras cache per test process: smoke data never mixes with real downloads,
# and no test depends on what an earlier run left behind. Set before Keras is imported.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="textgen-keras-")
atexit.register(shutil.rmtree, os.environ["KERAS_HOME"], ignore_errors=True)
os.environ["TEXTGEN_CHECKPOINT_DIR"] = os.path.join(os.environ["KERAS_HOME"], "checkpoints")


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
