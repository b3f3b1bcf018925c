"""textgen_utils.runtime: run modes, setup(), fonts."""

import random
import subprocess
import sys

import numpy as np
import pytest

from textgen_utils import runtime


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "full"),
        ({"TEXTGEN_MODE": "smoke"}, "smoke"),
        ({"TEXTGEN_MODE": " Full "}, "full"),
        ({"TEXTGEN_MODE": "full", "NBGRADER_EXECUTION": "autograde"}, "smoke"),
        ({"NBGRADER_EXECUTION": "validate"}, "smoke"),
    ],
)
def test_mode_from_environment(monkeypatch, env, expected):
    monkeypatch.delenv("TEXTGEN_MODE", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert runtime.get_mode() == expected
    assert runtime.is_smoke() == (expected == "smoke")
    assert runtime.pick(full=100, smoke=3) == (3 if expected == "smoke" else 100)


def test_unknown_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TEXTGEN_MODE", "fast")
    with pytest.raises(ValueError) as info:
        runtime.setup(verbose=False)
    assert "'fast'" in str(info.value) and "full" in str(info.value) and "smoke" in str(info.value)
    assert "실행 모드" in str(info.value)


def test_setup_prints_versions_device_and_mode_and_seeds_everything(capsys):
    info = runtime.setup(seed=7)
    out = capsys.readouterr().out
    for word in ("TensorFlow", "Keras", "KerasHub", "NumPy", "Device", "Mode", "smoke"):
        assert word in out
    assert info.mode == "smoke" and info.seed == 7 and "CPU" in info.device
    a = (random.random(), np.random.rand())
    runtime.setup(seed=7, verbose=False)
    assert (random.random(), np.random.rand()) == a
    import keras

    runtime.setup(seed=7, verbose=False)
    x = keras.random.uniform((3,))
    runtime.setup(seed=7, verbose=False)
    assert np.allclose(x, keras.random.uniform((3,))), "Keras' generator is seeded too"


def test_korean_labels_render_with_a_korean_font(caplog):
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    family = runtime.setup_korean_font()
    assert family in runtime.KOREAN_FONT_FAMILIES
    with warnings.catch_warnings(record=True) as caught, caplog.at_level("WARNING", logger="matplotlib"):
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("온도가 오르면 엔트로피도 오른다 / entropy")
        ax.set_xscale("log")  # tick labels like 10^-2 are mathtext with a minus sign
        ax.plot([0.01, 100], [-1, 1])
        fig.canvas.draw()
        plt.close(fig)
    missing = [str(w.message) for w in caught if "missing" in str(w.message) or "glyph" in str(w.message).lower()]
    missing += [r.getMessage() for r in caplog.records if "glyph" in r.getMessage().lower()]
    assert missing == [], "every glyph (Hangul and the minus sign) has a font"
    path = font_manager.findfont(family, fallback_to_default=False)
    assert path.endswith(".ttf")


def test_importing_the_package_quiets_tensorflow_before_it_loads():
    code = (
        "import os, textgen_utils, sys; "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['KERAS_BACKEND'], 'tensorflow' in sys.modules)"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["3", "tensorflow", "False"], "import is cheap and sets the log level first"


def test_colab_detection(monkeypatch):
    import types

    assert runtime.on_colab() is False
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert runtime.on_colab() is True


def test_grading_sizes_apply_only_while_nbgrader_runs(monkeypatch):
    monkeypatch.setenv("TEXTGEN_MODE", "smoke")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert runtime.pick(full=20, smoke=3, grading=1) == 3 and not runtime.is_grading()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert runtime.pick(full=20, smoke=3, grading=1) == 1 and runtime.is_grading()
    assert runtime.pick(full=20, smoke=3) == 3, "without a grading size, grading uses the smoke size"
