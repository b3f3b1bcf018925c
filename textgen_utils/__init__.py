"""Helper package for the text-generation course.

Importing the package is cheap: it only quiets TensorFlow's C++ logs and picks the
TensorFlow backend for Keras, before anything imports them. The heavy modules are
imported by the notebooks that need them (`from textgen_utils import sampling`).
"""

import os as _os

# Must happen before TensorFlow is imported anywhere in the process.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

from textgen_utils.runtime import get_mode, is_smoke, setup  # noqa: E402
from textgen_utils.report import report  # noqa: E402

__all__ = ["setup", "get_mode", "is_smoke", "report", "__version__"]
