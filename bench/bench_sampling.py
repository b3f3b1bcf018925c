"""Benchmark: textgen_utils.sampling against the seeds' numpy versions, in the same run.

1. Speed on a batch of 50,000-token distributions (reweighting, and drawing one token per row).
2. Robustness: the inputs where the seeds' version returns NaN, warns or divides by zero.

Run: .venv/bin/python bench/bench_sampling.py
"""

import os
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import numpy as np  # noqa: E402

from textgen_utils import sampling  # noqa: E402


# --- the seeds' versions, verbatim in behaviour ---------------------------------------
def seed_reweight(original_distribution, temperature=0.5):
    distribution = np.log(original_distribution) / temperature
    distribution = np.exp(distribution)
    return distribution / np.sum(distribution)


def seed_sample(preds, temperature=1.0):
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def speed_table(batch=64, vocab=50_000, temperature=0.7):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(batch, vocab))
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    np.random.seed(0)
    rows = [
        ("reweight_distribution", lambda: [seed_reweight(p, temperature) for p in probs],
         lambda: sampling.reweight_distribution(probs, temperature)),
        ("sample_next", lambda: [seed_sample(p, temperature) for p in probs],
         lambda: sampling.sample_next(probs, temperature, rng=np.random.default_rng(0))),
    ]
    print(f"### Speed: a batch of {batch} distributions over {vocab:,} tokens, T={temperature}\n")
    print("| function | seeds (per row loop), ms | ours (vectorised), ms | speed-up |")
    print("|---|---:|---:|---:|")
    for name, seed_fn, ours_fn in rows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_seed = best_of(seed_fn)
        t_ours = best_of(ours_fn)
        print(f"| `{name}` | {t_seed * 1e3:.1f} | {t_ours * 1e3:.1f} | {t_seed / t_ours:.1f}x |")


def outcome(fn):
    """What a call does: 'ok', 'NaN', 'warning: ...', or the exception."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="warn", under="ignore"):
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001 - reporting whatever happens
                return f"{type(exc).__name__}: {str(exc).splitlines()[0][:60]}"
    result = np.asarray(result, dtype=float)
    parts = []
    if np.isnan(result).any():
        parts.append("returns NaN")
    if caught:
        parts.append("warns: " + "; ".join(sorted({str(w.message)[:40] for w in caught})))
    return ", ".join(parts) or "ok"


def robustness_table():
    rng = np.random.default_rng(1)
    big = rng.dirichlet(np.full(50_000, 0.5))
    f32 = np.exp(rng.normal(size=5000)).astype(np.float32)
    f32 /= f32.sum()
    cases = [
        ("a zero-probability entry, T=0.5", np.array([0.0, 0.5, 0.5]), 0.5),
        ("50,000 tokens, T=1e-3", big, 1e-3),
        ("50,000 tokens, T=0.01", big, 0.01),
        ("one-hot, T=1e3", np.array([0.0, 1.0, 0.0]), 1e3),
        ("float32 softmax output (sums to 1 ± 1e-7), T=1", f32, 1.0),
        ("T=0 (greedy by mistake)", np.array([0.2, 0.8]), 0.0),
        ("unnormalised counts [1, 2, 3], T=1", np.array([1.0, 2.0, 3.0]), 1.0),
    ]
    print("\n### Robustness: where the seeds' version returns NaN, warns or divides by zero\n")
    print("| input | seeds' `reweight_distribution` | seeds' `sample` | ours |")
    print("|---|---|---|---|")
    for name, p, t in cases:
        seed_rw = outcome(lambda: seed_reweight(p, t))
        seed_s = outcome(lambda: seed_sample(p, t))
        ours = outcome(lambda: sampling.reweight_distribution(p, t))
        if ours == "ok":
            ours = "ok: " + outcome(lambda: sampling.sample_next(p, t, rng=0))
        print(f"| {name} | {seed_rw} | {seed_s} | {ours} |")


if __name__ == "__main__":
    speed_table()
    robustness_table()
