"""Peak memory and training speed: the book's one-hot arrays vs lesson 02's tf.data stream.

Each approach runs in its own subprocess on the same 600,000-character corpus with
57 distinct characters (maxlen 60, step 3: 200,000 windows), the same LSTM(128)
network and batch 128:

* **book**: Python lists of window strings, then one-hot boolean arrays
  ``x (windows, 60, 57)`` and ``y (windows, 57)``, then ``model.fit(x, y)``.
* **stream**: the corpus as int32, :func:`charlstm.window_dataset` (windows cut
  per batch), one-hot inside the model (:func:`charlstm.build_model`).

Both processes import TensorFlow, build the model and train one warm-up batch
first; then the peak RSS is reset (``/proc/self/clear_refs``) and the current RSS
taken as the common baseline. "Extra memory" is the peak above that baseline while
preparing the data and training. Training speed: after 8 warm-up batches, the two
processes take turns training ``--batches`` batches at a time (``--segments``
turns each), so both see the same load on a shared machine; the median turn counts.
Ours compiles with ``steps_per_execution`` (several batches per graph call), as
the lesson does. Run: ``python bench/bench_char_lstm_memory.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

N_CHARS, N_DISTINCT, MAXLEN, STEP, BATCH = 600_000, 57, 60, 3, 128
EXTRA_CHARS = "0123456789:()[]_=äæéë"  # digits, brackets, accents: the real corpus has these too


def corpus() -> str:
    """600,000 aphorism-like characters with 57 distinct characters (deterministic)."""
    import numpy as np

    from textgen_utils.datasets.nietzsche import smoke_text

    text = smoke_text(n_aphorisms=5000, seed=0).lower()[:N_CHARS]
    chars = np.array(list(text))
    rng = np.random.default_rng(0)
    where = rng.choice(len(chars), size=2000, replace=False)
    chars[where] = rng.choice(list(EXTRA_CHARS), size=len(where))
    text = "".join(chars)
    assert len(text) == N_CHARS and len(set(text)) == N_DISTINCT, (len(text), len(set(text)))
    return text


class PeakRSS:
    """Peak resident memory since :meth:`reset` (kernel counter, with a polling thread as fallback)."""

    def __init__(self):
        self.kernel = True
        self.polled = 0
        self._stop = threading.Event()

    @staticmethod
    def _status(field: str) -> int:
        with open("/proc/self/status") as f:
            return int(re.search(rf"{field}:\s+(\d+) kB", f.read()).group(1)) * 1024

    def reset(self) -> int:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
        except OSError:
            self.kernel = False
        self.polled = self._status("VmRSS")
        threading.Thread(target=self._poll, daemon=True).start()
        return self._status("VmRSS")

    def _poll(self):
        while not self._stop.wait(0.002):
            self.polled = max(self.polled, self._status("VmRSS"))

    def peak(self) -> int:
        self._stop.set()
        return max(self._status("VmHWM") if self.kernel else 0, self.polled)


class TakeTurns:
    """Keras callback: after ``warm`` batches, train ``batches`` at a time when the parent says "go"."""

    def __new__(cls, warm, batches, segments):
        import keras

        class _TakeTurns(keras.callbacks.Callback):
            done = 0

            def _wait(self):
                if sys.stdin.readline().strip() != "go":
                    sys.exit("parent went away")
                self.start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                n = batch + 1  # with steps_per_execution > 1, batch is the last step of a group
                if n == warm:
                    print("ready", flush=True)
                    self._wait()
                elif n > warm and (n - warm) % batches == 0:
                    self.done += 1
                    print(f"turn {time.perf_counter() - self.start}", flush=True)
                    if self.done < segments:
                        self._wait()

        return _TakeTurns()


def child(approach: str, batches: int, segments: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from textgen_utils import charlstm

    keras.utils.set_random_seed(0)
    text = corpus()
    chars = sorted(set(text))
    if approach == "book":
        model = keras.Sequential([keras.Input((MAXLEN, len(chars))), keras.layers.LSTM(128),
                                  keras.layers.Dense(len(chars), activation="softmax")])
        model.compile(optimizer=keras.optimizers.RMSprop(0.01), loss="categorical_crossentropy")
        warm = np.zeros((BATCH, MAXLEN, len(chars)), bool), np.eye(len(chars), dtype=bool)[np.zeros(BATCH, int)]
        model.fit(*warm, batch_size=BATCH, verbose=0)
    else:
        model = charlstm.build_model(len(chars), steps_per_execution=charlstm.STEPS_PER_EXECUTION)
        tiny = np.zeros(MAXLEN + BATCH * STEP + 1, np.int32)
        model.fit(charlstm.window_dataset(tiny, MAXLEN, STEP, BATCH), verbose=0)

    meter = PeakRSS()
    baseline = meter.reset()
    start = time.perf_counter()
    if approach == "book":  # the book's code, with a per-window (not per-character) fill
        char_indices = {ch: i for i, ch in enumerate(chars)}
        sentences, next_chars = [], []
        for i in range(0, len(text) - MAXLEN, STEP):
            sentences.append(text[i : i + MAXLEN])
            next_chars.append(text[i + MAXLEN])
        x = np.zeros((len(sentences), MAXLEN, len(chars)), dtype=bool)
        y = np.zeros((len(sentences), len(chars)), dtype=bool)
        positions = np.arange(MAXLEN)
        for i, sentence in enumerate(sentences):
            x[i, positions, [char_indices[ch] for ch in sentence]] = True
            y[i, char_indices[next_chars[i]]] = True
        fit_args = dict(x=x, y=y, batch_size=BATCH)
        windows = len(sentences)
    else:
        vocab = charlstm.CharVocab.from_text(text)
        data = charlstm.window_dataset(vocab.encode(text), MAXLEN, STEP, BATCH, seed=0)
        fit_args = dict(x=data)
        windows = charlstm.window_count(len(text), MAXLEN, STEP)
    prepare = time.perf_counter() - start
    turns = TakeTurns(warm=8, batches=batches, segments=segments)
    model.fit(**fit_args, epochs=1, steps_per_epoch=8 + batches * segments, verbose=0, callbacks=[turns])
    peak = meter.peak()
    return {"approach": approach, "windows": windows, "extra_mb": (peak - baseline) / 2**20,
            "baseline_mb": baseline / 2**20, "prepare_s": prepare, "kernel_peak": meter.kernel}


def _line(proc, approach: str) -> str:
    line = proc.stdout.readline()
    if not line:
        sys.exit(f"{approach} failed:\n{proc.stderr.read()[-3000:]}")
    return line.strip()


def run_both(batches: int, segments: int) -> dict:
    """Start the two children one after the other, then let them take turns training."""
    procs = {}
    for approach in ("book", "stream"):
        procs[approach] = subprocess.Popen(
            [sys.executable, __file__, "--child", approach, "--batches", str(batches), "--segments", str(segments)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while _line(procs[approach], approach) != "ready":
            pass
    rates = {approach: [] for approach in procs}
    for turn in range(segments):
        for approach in (("book", "stream") if turn % 2 == 0 else ("stream", "book")):
            procs[approach].stdin.write("go\n")
            procs[approach].stdin.flush()
            seconds = float(_line(procs[approach], approach).split()[1])
            rates[approach].append(batches * BATCH / seconds)
    results = {}
    for approach, proc in procs.items():
        result = json.loads(_line(proc, approach))
        proc.wait()
        results[approach] = {**result, "samples_per_s": statistics.median(rates[approach])}
    paired = [ours / book for ours, book in zip(rates["stream"], rates["book"])]
    results["turn_ratios"] = (min(paired), statistics.median(paired), max(paired))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=16, help="batches per turn")
    parser.add_argument("--segments", type=int, default=8, help="turns per approach; the median counts")
    parser.add_argument("--child", choices=["book", "stream"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.batches, args.segments)), flush=True)
        return
    results = run_both(args.batches, args.segments)
    book, stream = results["book"], results["stream"]
    print(f"{N_CHARS:,} characters, {N_DISTINCT} distinct, maxlen {MAXLEN}, step {STEP}: "
          f"{book['windows']:,} windows; LSTM(128), batch {BATCH}; speed: median of {args.segments} "
          f"alternating turns of {args.batches} batches\n")
    print("| approach | extra peak memory (MB) | data preparation (s) | training samples/s |")
    print("|---|---:|---:|---:|")
    for name, r in (("book: one-hot numpy arrays", book), ("ours: tf.data integer windows", stream)):
        print(f"| {name} | {r['extra_mb']:,.1f} | {r['prepare_s']:.2f} | {r['samples_per_s']:,.0f} |")
    memory_ratio = stream["extra_mb"] / book["extra_mb"]
    speed_ratio = stream["samples_per_s"] / book["samples_per_s"]
    low, mid, high = results["turn_ratios"]
    print(f"\nmemory: ours / book = {memory_ratio:.4f} (1/{1 / max(memory_ratio, 1e-9):,.0f}; target <= 1/20) "
          f"{'ok' if memory_ratio <= 1 / 20 else 'MISSED'}")
    print(f"speed: ours / book = {speed_ratio:.2f}x (target >= 1) {'ok' if speed_ratio >= 1 else 'MISSED'}; "
          f"turn by turn {low:.2f}x to {high:.2f}x, median {mid:.2f}x")
    print(f"baselines (MB): book {book['baseline_mb']:,.0f}, ours {stream['baseline_mb']:,.0f}; "
          f"one-hot x alone: {book['windows'] * MAXLEN * N_DISTINCT / 2**20:,.0f} MB")


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
