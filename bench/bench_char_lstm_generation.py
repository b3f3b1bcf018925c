"""Generation speed: the book's loop vs lesson 02's state-carrying generator, same model, same run.

The model is the book's size: LSTM(128) over 57 characters, maxlen 60 (random
weights: speed does not depend on what the model has learned).

* **book loop** (:func:`chargen.generate_with_window`): per character, encode the
  60-character window and call ``model.predict`` on it.
* **fast** (:func:`chargen.generate`): read the prompt once, then carry (h, c)
  forward one character at a time in one compiled graph. Its one-off tracing cost
  is shown separately (it is paid once per process, not per call).

Run: ``python bench/bench_char_lstm_generation.py [--slow-chars N] [--fast-chars N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

VOCAB = "\n !\"'(),-.0123456789:;=?[]_abcdefghijklmnopqrstuvwxyzäæéë"
MAXLEN = 60
PROMPT = "the slowly ascending ranks and classes, in which,\nthrough fo"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slow-chars", type=int, default=100, help="characters from the book's loop")
    parser.add_argument("--fast-chars", type=int, default=400, help="characters per fast call")
    parser.add_argument("--repeats", type=int, default=5, help="fast calls; the median counts")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from textgen_utils import chargen, charlstm
    from textgen_utils.runtime import device_name

    keras.utils.set_random_seed(0)
    vocab = charlstm.CharVocab(tuple(VOCAB))
    assert len(vocab) == 57
    model = charlstm.build_model(len(vocab))

    rng = np.random.default_rng(0)
    chargen.generate_with_window(model, vocab, PROMPT, 3, 0.5, MAXLEN, rng=rng)  # warm up Keras' predict
    start = time.perf_counter()
    chargen.generate_with_window(model, vocab, PROMPT, args.slow_chars, 0.5, MAXLEN, rng=rng)
    slow = time.perf_counter() - start

    start = time.perf_counter()
    chargen.generate(model, vocab, PROMPT, 1, 0.5, MAXLEN, seed=0)
    trace = time.perf_counter() - start
    times = []
    for seed in range(args.repeats):
        start = time.perf_counter()
        chargen.generate(model, vocab, PROMPT, args.fast_chars, 0.5, MAXLEN, seed=seed)
        times.append(time.perf_counter() - start)
    fast = float(np.median(times))
    start = time.perf_counter()
    chargen.generate(model, vocab, PROMPT, 10 * args.fast_chars, 0.5, MAXLEN, seed=99)
    fast_long = time.perf_counter() - start

    slow_rate = args.slow_chars / slow
    print(f"LSTM(128), 57 characters, maxlen {MAXLEN}, temperature 0.5; {device_name()}\n")
    print("| generator | characters | seconds | characters/s | speed-up |")
    print("|---|---:|---:|---:|---:|")
    print(f"| book loop: window + model.predict per character | {args.slow_chars} | {slow:.2f} | "
          f"{slow_rate:,.0f} | 1x |")
    for n, seconds in ((args.fast_chars, fast), (10 * args.fast_chars, fast_long)):
        print(f"| fast: carried (h, c), one compiled graph | {n:,} | {seconds:.4f} | {n / seconds:,.0f} | "
              f"{n / seconds / slow_rate:,.0f}x |")
    print(f"\none-off tracing of the fast generator: {trace:.2f} s (once per process)")
    ratio = args.fast_chars / fast / slow_rate
    print(f"speed-up at {args.fast_chars} characters: {ratio:,.0f}x (target >= 200x) {'ok' if ratio >= 200 else 'MISSED'}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
