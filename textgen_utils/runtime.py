"""Run modes, reproducibility and environment set-up for the course notebooks.

Every notebook's first cell calls :func:`setup`. It quiets TensorFlow's C++ logs
before Keras is imported, seeds every generator, sets up a Korean font for
matplotlib and prints what the lesson runs on.

Run modes (environment variable ``TEXTGEN_MODE``):

* ``full`` (default): real data sets and weights, the seeds' sizes; meant for a GPU.
* ``smoke``: offline, CPU, seconds per lesson; CI, nbval and grading use it.
  nbgrader sets ``NBGRADER_EXECUTION`` while autograding, which also means smoke.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import platform
import random
import sys
import warnings
from pathlib import Path

from textgen_utils.errors import bilingual

MODE_VARIABLE = "TEXTGEN_MODE"
DATA_DIR_VARIABLE = "TEXTGEN_DATA_DIR"
MODES = ("full", "smoke")
DEFAULT_SEED = 42


def get_mode() -> str:
    """Return the run mode, ``"full"`` or ``"smoke"``.

    ``NBGRADER_EXECUTION`` (set by nbgrader's autograder) always means smoke.
    Any value of ``TEXTGEN_MODE`` other than full/smoke is an error.
    """
    raw = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if raw and raw not in MODES:
        raise ValueError(
            bilingual(
                f"{MODE_VARIABLE}={os.environ[MODE_VARIABLE]!r} 는 알 수 없는 실행 모드입니다. "
                "'full' 또는 'smoke' 중 하나로 설정하세요.",
                f"{MODE_VARIABLE}={os.environ[MODE_VARIABLE]!r} is not a run mode. "
                "Set it to 'full' or 'smoke'.",
            )
        )
    if is_grading():
        return "smoke"
    return raw or "full"


def is_smoke() -> bool:
    """True in smoke mode (tiny offline data, CPU-sized models)."""
    return get_mode() == "smoke"


def is_grading() -> bool:
    """True while nbgrader autogrades or validates (``NBGRADER_EXECUTION`` is set): smoke mode, and
    nothing but the exercises matters, so lessons may train even less."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def pick(full, smoke, grading=None):
    """Return ``full`` or ``smoke`` depending on the run mode (for sizes and epochs).

    ``grading``, when given, is used instead of ``smoke`` while nbgrader grades a
    notebook (e.g. one epoch instead of three: the exercises do not need a trained model).
    """
    if grading is not None and is_grading():
        return grading
    return smoke if is_smoke() else full


def data_dir() -> Path | None:
    """The folder named by ``TEXTGEN_DATA_DIR``, or None when it is not set."""
    value = os.environ.get(DATA_DIR_VARIABLE, "").strip()
    return Path(value).expanduser() if value else None


def on_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules or importlib.util.find_spec("google.colab") is not None


def silence_tensorflow() -> None:
    """Quiet TensorFlow's C++ and Python logs. Effective only before TensorFlow is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:  # already imported: at least quiet the Python logger
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl comes with TensorFlow
        pass


# --- fonts -----------------------------------------------------------------------------

KOREAN_FONT_FAMILIES = (
    "NanumGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Malgun Gothic",
    "AppleGothic",
    "UnDotum",
)


def _bundled_korean_fonts() -> list[Path]:
    """NanumGothic files shipped by the ``koreanize-matplotlib`` package (a dependency)."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    fonts: list[Path] = []
    for location in spec.submodule_search_locations:
        fonts.extend(sorted(Path(location, "fonts").glob("*.ttf")))
    return fonts


def setup_korean_font() -> str | None:
    """Make matplotlib render Korean labels; return the font family used, or None.

    Uses an installed Korean font when there is one, otherwise the NanumGothic
    files that ``koreanize-matplotlib`` ships. Without any Korean font it keeps
    the default font and silences the per-glyph warnings (one notice instead of
    a warning storm).
    """
    import matplotlib
    from matplotlib import font_manager

    def installed() -> list[str]:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return [family for family in KOREAN_FONT_FAMILIES if family in names]

    found = installed()
    if not found:
        for path in _bundled_korean_fonts():
            font_manager.fontManager.addfont(str(path))
        found = installed()
    if not found:
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        warnings.filterwarnings("ignore", message=r".*missing from (current )?font")
        print(
            bilingual(
                "한국어 글꼴을 찾지 못해 기본 글꼴로 그립니다 (한글이 네모로 보일 수 있습니다).",
                "No Korean font found; plots use the default font (Korean may show as boxes).",
            )
        )
        return None
    family = found[0]
    # Latin text and math (minus signs, 10^-2) in DejaVu Sans; matplotlib falls back
    # to the Korean font glyph by glyph for Hangul.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", family]
    return family


# --- devices ---------------------------------------------------------------------------


def device_name() -> str:
    """A short description of the accelerator: the GPU's name, "TPU" or "CPU"."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = []
        for gpu in gpus:
            try:
                names.append(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name))
            except (ValueError, RuntimeError):  # pragma: no cover - driver-specific
                names.append(gpu.name)
        return ", ".join(f"GPU: {n}" for n in names)
    if tf.config.list_logical_devices("TPU") or os.environ.get("COLAB_TPU_ADDR"):
        return "TPU"
    return f"CPU ({os.cpu_count()} cores)"


# --- setup -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """What :func:`setup` found: the mode, the device and the versions."""

    mode: str
    device: str
    seed: int
    on_colab: bool
    font: str | None
    versions: dict

    @property
    def smoke(self) -> bool:
        return self.mode == "smoke"


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python's ``random``, numpy's global generator and the Keras backend."""
    random.seed(seed)
    import numpy as np

    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(seed)


def _versions() -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    try:
        import keras_hub

        hub = keras_hub.__version__
    except ImportError:  # pragma: no cover - keras-hub is a dependency
        hub = "not installed"
    from textgen_utils import __version__

    return {
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "KerasHub": hub,
        "NumPy": np.__version__,
        "textgen_utils": __version__,
    }


def setup(seed: int = DEFAULT_SEED, verbose: bool = True) -> RunInfo:
    """Prepare a notebook: quiet logs, seed generators, Korean plots, and print a summary.

    Call it in the first code cell. It reads ``TEXTGEN_MODE`` (a bad value raises
    ``ValueError``) and returns a :class:`RunInfo`.
    """
    mode = get_mode()  # fail early on a bad TEXTGEN_MODE
    silence_tensorflow()
    seed_everything(seed)
    info = RunInfo(
        mode=mode,
        device=device_name(),
        seed=seed,
        on_colab=on_colab(),
        font=setup_korean_font(),
        versions=_versions(),
    )
    if verbose:
        mode_text = {
            "full": "full (실제 데이터 / real data)",
            "smoke": "smoke (작은 오프라인 데이터 / tiny offline data)",
        }[mode]
        rows = [*info.versions.items(), ("Device", info.device), ("Mode", mode_text), ("Seed", str(seed))]
        if data_dir() is not None:
            rows.append((DATA_DIR_VARIABLE, str(data_dir())))
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value}")
    return info


# --- distribution ----------------------------------------------------------------------


def _tpu_address() -> str | None:
    """Where a TPU is: Colab's old TPU nodes set COLAB_TPU_ADDR; a TPU VM has /dev/accel* devices."""
    if os.environ.get("COLAB_TPU_ADDR"):
        return "grpc://" + os.environ["COLAB_TPU_ADDR"]
    if os.environ.get("TPU_NAME") or any(Path("/dev").glob("accel[0-9]*")):
        return os.environ.get("TPU_NAME", "local")
    return None


def get_strategy(verbose: bool = True):
    """A ``tf.distribute`` strategy for this machine.

    ``TPUStrategy`` on a (Colab) TPU runtime, ``MirroredStrategy`` over all GPUs when
    there are several, and the default strategy (one device) otherwise. Build and
    compile the model inside ``with strategy.scope():``.
    """
    import tensorflow as tf

    strategy = None
    address = _tpu_address()
    if address is not None:
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address)
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
            strategy = tf.distribute.TPUStrategy(resolver)
        except (ValueError, RuntimeError, tf.errors.OpError) as exc:  # not a usable TPU after all
            print(bilingual(f"TPU를 쓸 수 없어 다른 장치를 씁니다: {exc}", f"Cannot use the TPU ({exc}); falling back."))
    if strategy is None:
        gpus = tf.config.list_logical_devices("GPU")
        strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if verbose:
        print(f"{type(strategy).__name__}: {strategy.num_replicas_in_sync} replica(s)")
    return strategy
