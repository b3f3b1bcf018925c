"""Generating text with lesson 02's character LSTM: the book's slow loop and a fast one.

* :func:`generate_with_window` - the book's loop: for every new character, encode
  the last ``maxlen`` characters and call ``model.predict`` on the whole window.
  Faithful and slow (one full LSTM pass and one Keras call per character).
* :func:`generate` - the fast generator: it reads the prompt once, then carries
  the LSTM state ``(h, c)`` forward one character at a time. The whole loop,
  sampling included (``tf.random.stateless_categorical``), is one compiled
  TensorFlow graph, so Python is not involved per character.

Semantics: from a zero state, the carried state after ``k`` characters is exactly
what the full-window model computes for those ``k`` characters, so the
next-character probabilities agree as long as the text so far fits in one
window (:func:`stepwise_probabilities` vs :func:`window_probabilities`). Beyond
``maxlen`` characters the carried state still remembers everything since the
prompt, whereas the window model forgets all but the last ``maxlen`` characters.
"""

from __future__ import annotations

import numpy as np

from textgen_utils import sampling
from textgen_utils.charlstm import CharVocab, encode_prompt
from textgen_utils.errors import bilingual, check_int


# --- the book's loop ------------------------------------------------------------------------


def generate_with_window(model, vocab: CharVocab, seed_text: str, length: int, temperature: float,
                         maxlen: int, rng=None) -> str:
    """Generate ``length`` characters after ``seed_text`` by re-reading a sliding window each time.

    The window holds the last ``maxlen`` characters (seed text and generated text
    together); each step calls ``model.predict`` on it, reweights the predicted
    distribution at ``temperature`` and draws the next character with ``rng``.
    Returns the generated characters only.
    """
    window = seed_text.lower()[-maxlen:]
    sampling.check_temperature(temperature)
    generated = []
    for _ in range(length):
        x = encode_prompt(window, vocab, maxlen)[None, :]
        probs = np.asarray(model.predict(x, verbose=0))[0]
        next_char = vocab.chars[sampling.sample_next(probs, temperature, rng)]
        generated.append(next_char)
        window = (window + next_char)[-maxlen:]
    return "".join(generated)


# --- the fast generator ----------------------------------------------------------------------


def lstm_weights(model) -> dict:
    """The weights the fast generator needs, from a model made by :func:`charlstm.build_model`."""
    import keras

    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    dense = model.layers[-1]
    ok = (len(lstms) == 1 and isinstance(dense, keras.layers.Dense) and not lstms[0].return_sequences
          and lstms[0].cell.activation is keras.activations.tanh
          and lstms[0].cell.recurrent_activation is keras.activations.sigmoid and lstms[0].cell.use_bias)
    if not ok:
        raise ValueError(bilingual(
            "빠른 생성기는 charlstm.build_model로 만든 모델(LSTM 한 층 + Dense)만 다룹니다.",
            "The fast generator handles only models built by charlstm.build_model (one LSTM layer + Dense).",
        ))
    cell = lstms[0].cell
    return {"kernel": cell.kernel, "recurrent": cell.recurrent_kernel, "bias": cell.bias,
            "w_out": dense.kernel, "b_out": dense.bias}


def _lstm_step(token, h, c, w):
    """One LSTM step for one character index: Keras' gate order i, f, g (candidate), o."""
    import tensorflow as tf

    # One-hot input times the kernel = one row of the kernel.
    z = tf.gather(w["kernel"], token)[None, :] + tf.matmul(h, w["recurrent"]) + w["bias"]
    i, f, g, o = tf.split(z, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    h = tf.sigmoid(o) * tf.tanh(c)
    return h, c


def _read(prompt_ids, w):
    """Run the prompt through the LSTM from a zero state; return the final (h, c)."""
    import tensorflow as tf

    units = tf.shape(w["recurrent"])[0]
    h = c = tf.zeros([1, units])

    def body(t, h, c):
        h, c = _lstm_step(prompt_ids[t], h, c, w)
        return t + 1, h, c

    _, h, c = tf.while_loop(lambda t, h, c: t < tf.shape(prompt_ids)[0], body, (tf.constant(0), h, c))
    return h, c


_GRAPHS = {}


def _graphs():
    """The compiled functions, traced once per process for every model size (input signatures)."""
    if _GRAPHS:
        return _GRAPHS
    import tensorflow as tf

    matrix, vector = tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None], tf.float32)
    weights = {"kernel": matrix, "recurrent": matrix, "bias": vector, "w_out": matrix, "b_out": vector}
    ids_spec = tf.TensorSpec([None], tf.int32)

    @tf.function(input_signature=[ids_spec, tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32),
                                  tf.TensorSpec([2], tf.int64), weights])
    def generate_ids(prompt_ids, length, temperature, seed, w):
        h, c = _read(prompt_ids, w)

        def body(t, h, c, out):
            logits = (tf.matmul(h, w["w_out"]) + w["b_out"]) / temperature
            draw = tf.random.stateless_categorical(logits, 1, seed=seed + tf.cast(tf.stack([0, t]), tf.int64))
            token = tf.cast(draw[0, 0], tf.int32)
            h, c = _lstm_step(token, h, c, w)
            return t + 1, h, c, out.write(t, token)

        out = tf.TensorArray(tf.int32, size=length)
        _, _, _, out = tf.while_loop(lambda t, *_: t < length, body, (tf.constant(0), h, c, out))
        return out.stack()

    @tf.function(input_signature=[ids_spec, weights])
    def stepwise(prompt_ids, w):
        units = tf.shape(w["recurrent"])[0]
        h = c = tf.zeros([1, units])

        def body(t, h, c, out):
            h, c = _lstm_step(prompt_ids[t], h, c, w)
            probs = tf.nn.softmax(tf.matmul(h, w["w_out"]) + w["b_out"])[0]
            return t + 1, h, c, out.write(t, probs)

        out = tf.TensorArray(tf.float32, size=tf.shape(prompt_ids)[0])
        _, _, _, out = tf.while_loop(lambda t, *_: t < tf.shape(prompt_ids)[0], body, (tf.constant(0), h, c, out))
        return out.stack()

    _GRAPHS.update(generate_ids=generate_ids, stepwise=stepwise)
    return _GRAPHS


def _values(model) -> dict:
    import tensorflow as tf

    return {k: tf.convert_to_tensor(v) for k, v in lstm_weights(model).items()}


def generate(model, vocab: CharVocab, prompt: str, length: int, temperature: float, maxlen: int,
             seed: int | None = None) -> str:
    """Generate ``length`` characters after ``prompt`` by carrying the LSTM state (fast).

    The prompt is handled like the user typed it (:func:`charlstm.encode_prompt`).
    ``seed`` fixes the draws (same seed, same weights -> same text); None draws a
    seed from numpy's global generator, which :func:`textgen_utils.setup` seeds.
    Runs on the CPU: one character at a time is too little work for a GPU.
    """
    import tensorflow as tf

    prompt_ids = encode_prompt(prompt, vocab, maxlen)
    temperature = sampling.check_temperature(temperature)
    length = check_int("length", length, minimum=0)
    if seed is None:
        seed = int(np.random.randint(0, 2**31 - 1))
    with tf.device("/CPU:0"):
        ids = _graphs()["generate_ids"](tf.constant(prompt_ids), tf.constant(int(length)),
                                        tf.constant(temperature, tf.float32),
                                        tf.constant([int(seed), 0], tf.int64), _values(model))
    return vocab.decode(ids.numpy())


def stepwise_probabilities(model, ids) -> np.ndarray:
    """Row ``k``: next-character probabilities after ``ids[:k + 1]``, by carrying (h, c) from zero."""
    import tensorflow as tf

    with tf.device("/CPU:0"):
        return _graphs()["stepwise"](tf.constant(np.asarray(ids, dtype=np.int32)), _values(model)).numpy()


def window_probabilities(model, ids, maxlen: int | None = None) -> np.ndarray:
    """Row ``k``: the full-window model's next-character probabilities after ``ids[:k + 1]``.

    The model reads the window ``ids[:k + 1]``, or only its last ``maxlen``
    characters when ``maxlen`` is given (what the book's loop does). Runs on the
    CPU, like the fast generator, so that the two are computed the same way.
    """
    import tensorflow as tf

    ids = np.asarray(ids, dtype=np.int32)
    starts = [0 if maxlen is None else max(0, k + 1 - maxlen) for k in range(len(ids))]
    call = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, None], tf.int32)])
    out = np.zeros((len(ids), int(model.output_shape[-1])), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for k, start in enumerate(starts):  # windows of equal length go through the model together
        by_length.setdefault(k + 1 - start, []).append(k)
    with tf.device("/CPU:0"):
        for length, rows in by_length.items():
            batch = np.stack([ids[starts[k] : k + 1] for k in rows])
            out[rows] = call(tf.constant(batch)).numpy()
    return out


# --- a stand-in model for testing sampling loops ----------------------------------------------


class WindowRuleModel:
    """A tiny deterministic stand-in for the LSTM, with Keras' ``predict(x, verbose=0)`` interface.

    It checks that every window holds exactly ``maxlen`` indices and puts
    probability ``confidence`` on the index ``(first + 2 * last + 1) % vocab_size``
    of the window (the rest spread evenly), so a loop that slides its window
    wrongly produces different text. With ``probs`` it ignores the window and
    always returns ``probs``, which makes the effect of temperature measurable.
    """

    def __init__(self, vocab_size: int, maxlen: int, confidence: float = 0.9, probs=None):
        self.vocab_size, self.maxlen, self.confidence = int(vocab_size), int(maxlen), float(confidence)
        self.probs = None if probs is None else np.asarray(probs, dtype=np.float64)
        self.calls = 0

    def predict(self, x, verbose=0):
        x = np.asarray(x)
        if x.shape != (1, self.maxlen) or not np.issubdtype(x.dtype, np.integer):
            raise AssertionError(bilingual(
                f"모델 입력은 정수 {self.maxlen}개짜리 창 하나, 모양 (1, {self.maxlen})이어야 합니다. "
                f"받은 모양: {x.shape}, 형식: {x.dtype}",
                f"The model expects one window of {self.maxlen} integer indices, shape (1, {self.maxlen}); "
                f"got shape {x.shape} of {x.dtype}.",
            ))
        self.calls += 1
        if self.probs is not None:
            return self.probs[None, :].copy()
        target = (int(x[0, 0]) + 2 * int(x[0, -1]) + 1) % self.vocab_size
        p = np.full(self.vocab_size, (1 - self.confidence) / (self.vocab_size - 1))
        p[target] = self.confidence
        return p[None, :]
