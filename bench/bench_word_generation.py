"""Words per second: the compiled, cached generator vs the seed's loop, on the same model.

Lesson 03's model at the seed's sizes (vocabulary 15,000, window 100, embedding 256,
feed-forward 2048, 2 heads) with random weights: speed does not depend on what the
weights learned. Every generator writes 50 words after "This movie".

* seed-style loop: re-vectorize the growing string, run the whole model eagerly,
  softmax at all 100 positions, sample in numpy (the seed's loop, off-by-one fixed);
* compiled, no cache: one graph; every step reruns the block over the whole window
  but projects only the last position onto the vocabulary;
* compiled + KV cache: `WordGenerator` (the lesson's generator), with and without XLA.

The machine may be shared and its load may change while the benchmark runs. So the
generators are timed in rounds, one after the other within a round (the fast ones
repeatedly, keeping their best time); a speed-up compares times of the same round, and
the table shows medians over the rounds. Run: python bench/bench_word_generation.py
"""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from textgen_utils import wordlm  # noqa: E402
from textgen_utils.transformer import build_word_lm  # noqa: E402

VOCAB, WINDOW, EMBED, FF, HEADS = 15_000, 100, 256, 2048, 2
WORDS = 50
PROMPT = "This movie"
ROUNDS = 5


def no_cache_generator(model, vectorizer):
    """Compiled loop without a cache: the whole window through the block at every step."""
    embedding, block, head = (model.get_layer(n) for n in ("embedding", "decoder", "logits"))

    @tf.function(input_signature=[tf.TensorSpec([1, WINDOW], tf.int32), tf.TensorSpec([], tf.int32)])
    def run(tokens, length):
        for i in tf.range(WORDS):
            hidden = block(embedding(tokens), mask=tf.not_equal(tokens, 0))
            logits = head(hidden[:, length + i - 1])
            new = tf.random.stateless_categorical(logits, 1, seed=[0, i], dtype=tf.int32)[:, 0]
            tokens = tf.where(tf.range(WINDOW)[None] == length + i, new[:, None], tokens)
        return tokens

    def generate():
        ids = np.asarray(vectorizer([PROMPT]), dtype=np.int32)
        return run(tf.constant(ids), tf.constant(int(np.count_nonzero(ids)), tf.int32)).numpy()

    return generate


def main():
    keras.utils.set_random_seed(0)
    vectorizer = keras.layers.TextVectorization(max_tokens=VOCAB, output_sequence_length=WINDOW)
    vectorizer.set_vocabulary(["", "[UNK]", "this", "movie"] + [f"w{i}" for i in range(VOCAB - 4)])
    model = build_word_lm(VOCAB, WINDOW, EMBED, FF, HEADS)
    cached = wordlm.WordGenerator(model, vectorizer)
    cached_xla = wordlm.WordGenerator(model, vectorizer, jit_compile=True)
    generators = {
        "seed-style loop (eager, re-vectorize, softmax at every position)":
            (lambda: wordlm.generate_text_slow(model, vectorizer, PROMPT, WORDS, 1.0, rng=0), 1),
        "compiled, no cache (whole window each step, last position only)": (no_cache_generator(model, vectorizer), 3),
        "compiled + KV cache (`WordGenerator`)": (lambda: cached(PROMPT, WORDS, 1.0, seed=0), 10),
        "compiled + KV cache, XLA (`jit_compile=True`)": (lambda: cached_xla(PROMPT, WORDS, 1.0, seed=0), 10),
    }
    for fn, _ in generators.values():
        fn()  # warm-up: tracing and compilation are not timed
    seconds = {name: [] for name in generators}  # per round: the best of that round's repeats
    for _ in range(ROUNDS):
        for name, (fn, repeats) in generators.items():
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            seconds[name].append(min(times))

    baseline = seconds[next(iter(generators))]
    device = "GPU" if tf.config.list_physical_devices("GPU") else f"CPU, {os.cpu_count()} cores"
    print(f"\n{WORDS} words after {PROMPT!r}; vocabulary {VOCAB:,}, window {WINDOW}, embedding {EMBED}, "
          f"feed-forward {FF}, {HEADS} heads; {device}; TensorFlow {tf.__version__}, Keras {keras.__version__}; "
          f"medians of {ROUNDS} rounds\n")
    print("| generator | words/s | seconds for 50 words | speed-up (same round) |")
    print("|---|---:|---:|---:|")
    for name, times in seconds.items():
        median = float(np.median(times))
        speedup = float(np.median([b / t for b, t in zip(baseline, times)]))
        print(f"| {name} | {WORDS / median:,.0f} | {median:.3f} | {speedup:.1f}x |")


if __name__ == "__main__":
    sys.exit(main())
