"""Lesson 05: the training step runs under MirroredStrategy (two logical CPU devices),
and get_strategy() picks the default strategy on a machine without accelerators."""

import json
import os
import subprocess
import sys
import textwrap

# Logical devices must be configured before TensorFlow initialises its devices,
# so the distributed run happens in a fresh process.
SCRIPT = textwrap.dedent(
    """
    import json, os
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    from textgen_utils import minigpt, runtime

    s = minigpt.Settings(batch_size=8, seq_len=16, embed_dim=16, feed_forward_dim=32, num_heads=2, num_layers=2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        jit = minigpt.accelerator_speedups(strategy, verbose=False)
        model = minigpt.compile_model(minigpt.build_model(50, s), jit_compile=jit)
    rng = np.random.default_rng(0)
    labels = rng.integers(3, 50, size=(32, s.seq_len)).astype("int32")
    labels[:, 12:] = 0  # padding at the end, as in the real data
    features = np.concatenate([np.full((32, 1), 2, "int32"), labels[:, :-1]], axis=1)
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(s.batch_size)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(data, validation_data=data, epochs=2, verbose=0)
    changed = sum(not np.allclose(b, w.numpy()) for b, w in zip(before, model.trainable_weights))
    print("RESULT", json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "loss": history.history["loss"],
        "val_perplexity": history.history["val_perplexity"],
        "changed": changed,
        "weights": len(before),
        "default_replicas": runtime.get_strategy(verbose=False).num_replicas_in_sync,
    }))
    """
)


def test_a_training_step_runs_under_mirrored_strategy_on_two_cpu_devices(tmp_path):
    env = {**os.environ, "TEXTGEN_MODE": "smoke", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["replicas"] == 2
    assert all(l == l and l < 10 for l in result["loss"]), result  # finite (not NaN), sane
    assert result["loss"][1] < result["loss"][0], "the second epoch must improve on the first"
    assert result["changed"] == result["weights"], "every weight must receive an update"
    # without a TPU or several GPUs, get_strategy() uses the default strategy
    assert result["default_replicas"] == 1


def test_tpu_detection_follows_colab_and_tpu_vm_conventions(monkeypatch):
    from pathlib import Path

    from textgen_utils import runtime

    monkeypatch.delenv("TPU_NAME", raising=False)
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert runtime._tpu_address() == "grpc://10.0.0.2:8470"
    monkeypatch.delenv("COLAB_TPU_ADDR")
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter([Path("/dev/accel0")]))
    assert runtime._tpu_address() == "local", "a TPU VM (Colab's newer TPU runtimes)"
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter([]))
    assert runtime._tpu_address() is None


def test_accelerator_speedups_keep_float32_and_no_xla_on_a_cpu():
    import keras

    from textgen_utils import minigpt

    assert minigpt.accelerator_speedups(verbose=False) is False
    assert keras.mixed_precision.global_policy().name == "float32"
