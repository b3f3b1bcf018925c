"""Lesson 05: tokens per second of the miniature GPT, key/value-cached `next` vs uncached `next`.

Same run, same model (the seed's full-size settings: vocabulary 5000, 2 decoder blocks
of width 256; random weights are enough to time it), greedy decoding of 80 new tokens
from [BOS]. The uncached `next` runs the whole padded sequence through the model at
every step, as the seed's `token_logits_fn` runs the model on everything generated so
far (under XLA the shapes are fixed, so it is the padded sequence); the cached one runs
only the newest token. Each runs eagerly, inside a `tf.function`, and inside a
`tf.function` compiled with XLA (how KerasHub's `CausalLM.generate` runs on the
TensorFlow backend). The machine's load average is printed with the table: other work
on the same cores slows the uncached side (bound by arithmetic) more than the cached one
(bound by reading the weights), which inflates the speed-up.

    python bench/bench_minigpt_generation.py [--tokens 80] [--repeats 5] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from textgen_utils import minigpt, minigpt_generate as gen  # noqa: E402
from textgen_utils.runtime import device_name  # noqa: E402


def best_times(fns: dict, repeats: int, seconds: float) -> tuple[dict, dict, int]:
    """Best wall time of each function, over at least ``repeats`` runs and ``seconds`` seconds.

    Runs alternate, so every function sees the same machine load; fast ones get more
    runs in the same time, so that a passing burst of other work is less likely to
    spoil all of them. Returns (best times, outputs, number of runs).
    """
    outputs = {name: np.asarray(fn()) for name, fn in fns.items()}  # warm-up (and tracing)
    best = dict.fromkeys(fns, float("inf"))
    runs, start = 0, time.perf_counter()
    while runs < repeats or time.perf_counter() - start < seconds:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            np.asarray(fn())
            best[name] = min(best[name], time.perf_counter() - t0)
        runs += 1
    return best, outputs, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=80)
    parser.add_argument("--repeats", type=int, default=5, help="at least this many alternating runs per mode")
    parser.add_argument("--seconds", type=float, default=3.0, help="and at least this long per mode")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    keras.utils.set_random_seed(0)
    s = minigpt.SEED_SETTINGS
    model = minigpt.build_model(s.vocab_size, s)
    prompt = tf.constant(gen.start_prompt([minigpt.BOS_ID], args.tokens, 1, s.seq_len))
    sampler = keras_hub.samplers.GreedySampler()
    nexts = {"uncached": gen.uncached_next(model), "cached": gen.cached_next(model)}

    def run(kind):
        cache = gen.prefill(model, prompt, 1) if kind == "cached" else None
        return sampler(nexts[kind], prompt, cache=cache, index=1)

    variants = {
        "eager": {kind: (lambda kind=kind: run(kind)) for kind in nexts},
        "tf.function": {kind: tf.function(lambda kind=kind: run(kind)) for kind in nexts},
        "tf.function + XLA": {kind: tf.function(lambda kind=kind: run(kind), jit_compile=True) for kind in nexts},
    }
    rows, outputs = [], {}
    for mode, fns in variants.items():
        seconds, outs, runs = best_times(fns, args.repeats, args.seconds)
        outputs.update({(mode, kind): out for kind, out in outs.items()})
        for kind in nexts:
            rows.append((mode, kind, args.tokens / seconds[kind], seconds["uncached"] / seconds[kind], runs))
    same = all(np.array_equal(outputs[k], outputs["eager", "uncached"]) for k in outputs)

    print(f"\nminiature GPT generation, {args.tokens} new tokens, greedy, batch 1, {device_name()}")
    print(f"model: {model.count_params():,} parameters (seed settings), best of the alternating runs")
    print(f"load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f}\n")
    print("| mode | next | tokens/s | speed-up vs uncached | runs |")
    print("|---|---|---:|---:|---:|")
    for mode, kind, rate, ratio, runs in rows:
        print(f"| {mode} | {kind} | {rate:,.0f} | {ratio:.1f}x | {runs} |")
    print(f"\nsame tokens from every variant: {same}")
    if not same:
        raise SystemExit("cached and uncached generation disagree")


if __name__ == "__main__":
    main()
