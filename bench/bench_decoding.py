"""Greedy generation of 128 tokens, in one run, on a randomly initialised GPT-2 with the architecture of
``gpt2_base_en`` (12 layers, hidden 768, 12 heads, vocabulary 50,257, context 1,024; 124 M parameters):

1. our ``greedy_search`` through the cached adapter (``causal_lm_next_logits``: for GPT-2 a compact
   cached step on the model's weights, one token per step);
2. the same through KerasHub's own cached layers (``CachedCausalLM(lm, keras_hub_cache=True)``:
   ``call_with_cache`` on KerasHub's preallocated cache), to show what the compact step buys;
3. our ``greedy_search`` through a loop that re-runs the whole sequence every step (the baseline:
   the model's ordinary call on all the ids so far, logits for every position, as before);
4. KerasHub's own compiled ``generate`` (``GreedySampler``, one XLA while-loop), the reference for speed.

Run: ``python bench/bench_decoding.py`` (about 1.5 minutes on 2 idle CPU cores). Tracing and
compilation are never timed: each method first runs once untimed; the re-running loop's warm-up
generates only ``--warmup-tokens`` tokens (its 128-token run takes about 20 s on 2 cores), enough to
trace its function for the growing sequence. Each method is then timed ``--repeats`` times (the
re-running loop ``--rerun-repeats`` times) and the table shows the median and every run. All methods
must produce the same tokens. Weights are random: the speed of a forward pass does not depend on
their values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import keras_hub  # noqa: E402
import numpy as np  # noqa: E402

from textgen_utils import decoding  # noqa: E402


def build_model(layers: int, hidden: int, vocab: int, context: int):
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.GPT2Backbone(vocabulary_size=vocab, num_layers=layers, num_heads=hidden // 64,
                                             hidden_dim=hidden, intermediate_dim=4 * hidden,
                                             max_sequence_length=context)
    return keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12, help="gpt2_base_en: 12")
    parser.add_argument("--hidden", type=int, default=768, help="gpt2_base_en: 768 (heads: hidden / 64)")
    parser.add_argument("--vocab", type=int, default=50257, help="GPT-2's real vocabulary size")
    parser.add_argument("--context", type=int, default=1024, help="gpt2_base_en: 1024")
    parser.add_argument("--prompt", type=int, default=32, help="prompt length in tokens")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2, help="timed runs of each cached method (median shown)")
    parser.add_argument("--rerun-repeats", type=int, default=2, help="timed runs of the re-running loop")
    parser.add_argument("--warmup-tokens", type=int, default=4, help="tokens in the re-running loop's warm-up")
    args = parser.parse_args()

    load_before = os.getloadavg()
    lm = build_model(args.layers, args.hidden, args.vocab, args.context)
    prompt = np.random.default_rng(0).integers(0, args.vocab, size=args.prompt)
    n = args.new_tokens
    cached = decoding.causal_lm_next_logits(lm)
    via_keras_hub = decoding.CachedCausalLM(lm, keras_hub_cache=True)
    rerun = decoding.causal_lm_next_logits(lm, use_cache=False)
    assert cached.kind == "gpt2" and via_keras_hub.kind == "keras_hub"

    # keras_hub_generate builds and compiles a fresh model each call; time only the compiled call.
    raw = keras_hub.models.GPT2CausalLM(backbone=lm.backbone, preprocessor=None)
    raw.compile(sampler="greedy")
    tokens = np.zeros((1, args.prompt + n), dtype="int32")
    tokens[0, : args.prompt] = prompt
    inputs = {"token_ids": tokens, "padding_mask": np.arange(args.prompt + n)[None] < args.prompt}

    baseline_name = "ours, re-running the whole sequence"
    methods = {  # name: (function, warm-up, timed runs)
        "ours, cached adapter (compact GPT-2 step)": (lambda: decoding.greedy_search(cached, prompt, n), None,
                                                      args.repeats),
        "ours, cached through KerasHub's call_with_cache": (
            lambda: decoding.greedy_search(via_keras_hub, prompt, n), None, args.repeats),
        baseline_name: (lambda: decoding.greedy_search(rerun, prompt, n),
                        lambda: decoding.greedy_search(rerun, prompt, args.warmup_tokens), args.rerun_repeats),
        "KerasHub generate (XLA)": (
            lambda: np.asarray(raw.generate(dict(inputs), stop_token_ids=None)["token_ids"][0]), None, args.repeats),
    }

    results = {}
    for name, (fn, warmup, repeats) in methods.items():
        (warmup or fn)()  # tracing, XLA compilation, first allocations
        results[name] = timed(fn, repeats)
    load_after = os.getloadavg()

    params = lm.count_params()
    base = (args.layers, args.hidden, args.vocab, args.context) == (12, 768, 50257, 1024)
    shape = " and gpt2_base_en's architecture" if base else ""
    print(f"GPT-2 with random weights{shape}: {args.layers} layers, "
          f"hidden {args.hidden}, {args.hidden // 64} heads, vocabulary {args.vocab:,}, context {args.context} "
          f"({params / 1e6:.1f} M parameters, float32). Prompt {args.prompt} tokens, {n} new tokens, greedy, "
          f"batch 1. Each method ran once untimed first (the re-running loop for {args.warmup_tokens} tokens); "
          f"seconds: the median of {args.repeats} timed runs, for the re-running loop of {args.rerun_repeats}. "
          f"CPU cores: {os.cpu_count()}; load average (1 min) {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after.\n")
    baseline = statistics.median(results[baseline_name][0])
    print("| method | seconds | tokens/s | speed-up vs re-running loop | timed runs (s) |")
    print("|---|---:|---:|---:|---|")
    for name, (times, _) in results.items():
        seconds = statistics.median(times)
        print(f"| {name} | {seconds:.2f} | {n / seconds:.0f} | {baseline / seconds:.1f}x | "
              f"{', '.join(f'{t:.2f}' for t in times)} |")
    outputs = [out.tolist() for _, out in results.values()]
    same = all(o == outputs[0] for o in outputs)
    median = {name: statistics.median(times) for name, (times, _) in results.items()}
    ours, hub = median["ours, cached adapter (compact GPT-2 step)"], median["KerasHub generate (XLA)"]
    print(f"\nsame tokens from all methods: {same}")
    print(f"cached adapter vs re-running loop: {baseline / ours:.1f}x faster (target: >= 5x)")
    print(f"cached adapter vs KerasHub generate: {hub / ours:.2f}x the speed of KerasHub's "
          "(a Python loop with one compiled call per token, against one compiled XLA while-loop)")
    if not same:
        raise SystemExit("the methods disagree")


if __name__ == "__main__":
    main()
