"""Lesson 02's data and model: characters -> integer windows -> LSTM -> next-character softmax.

* :class:`CharVocab` - the sorted distinct characters of a corpus and their indices.
* :func:`encode_prompt` - a prompt as the user types it -> indices (lowercased, last
  ``maxlen`` characters, unknown characters a clear error).
* :func:`make_windows` - the (window, next character) pairs, as in the book.
* :func:`window_dataset` - the same pairs streamed by ``tf.data`` as *integer* windows,
  cut out of the corpus batch by batch: memory stays near the size of the corpus
  instead of a one-hot array of ``windows x maxlen x vocabulary`` booleans.
* :func:`build_model` - ``OneHot -> LSTM(128) -> Dense(softmax)``, RMSprop(0.01): the
  book's network, with the one-hot encoding moved inside the model.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from textgen_utils.errors import bilingual, check_int


def _check_positive(name: str, value) -> int:
    return check_int(name, value, minimum=1)


# --- vocabulary and prompts --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CharVocab:
    """The distinct characters of a corpus, sorted; a character's index is its position."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        if not text:
            raise ValueError(bilingual("빈 텍스트로는 어휘를 만들 수 없습니다.", "Cannot build a vocabulary from empty text."))
        return cls(tuple(sorted(set(text))))

    @property
    def index(self) -> dict[str, int]:
        """Character -> index (the book's ``char_indices``)."""
        return {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        """The characters of ``text`` that are not in the vocabulary, sorted, without repeats."""
        return sorted(set(text) - set(self.chars))

    def encode(self, text: str) -> np.ndarray:
        """Indices of the characters of ``text`` (int32); unknown characters raise ``ValueError``."""
        unknown = self.unknown(text)
        if unknown:
            raise ValueError(
                bilingual(
                    f"어휘에 없는 글자가 있습니다: {unknown}. 이 모델은 말뭉치에 나온 {len(self)}개 글자만 압니다: "
                    f"{''.join(self.chars)!r}. 그 글자들을 지우거나 바꾸세요.",
                    f"These characters are not in the vocabulary: {unknown}. The model knows only the "
                    f"{len(self)} characters of its corpus: {''.join(self.chars)!r}. Remove or replace them.",
                )
            )
        lookup = self.index
        return np.fromiter((lookup[ch] for ch in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in np.asarray(ids).ravel())


def encode_prompt(prompt: str, vocab: CharVocab, maxlen: int) -> np.ndarray:
    """A prompt as the model reads it: lowercased, its *last* ``maxlen`` characters, as indices.

    A prompt shorter than ``maxlen`` is fine. Characters outside the vocabulary (in
    the part that is used) raise a ``ValueError`` that lists them; so does an
    empty prompt.
    """
    maxlen = _check_positive("maxlen", maxlen)
    if not isinstance(prompt, str):
        raise TypeError(bilingual(f"프롬프트는 문자열이어야 합니다. 받은 형식: {type(prompt).__name__}",
                                  f"The prompt must be a string; got {type(prompt).__name__}."))
    text = prompt.lower()[-maxlen:]
    if not text:
        raise ValueError(bilingual("프롬프트가 비어 있습니다. 글자를 한 개 이상 입력하세요.",
                                   "The prompt is empty. Type at least one character."))
    return vocab.encode(text)


# --- windows ---------------------------------------------------------------------------------


def window_count(n_chars: int, maxlen: int, step: int) -> int:
    """How many (window, next character) pairs :func:`make_windows` cuts from ``n_chars`` characters."""
    return max(0, -(-(n_chars - maxlen) // step))


def make_windows(text: str, maxlen: int, step: int) -> tuple[list[str], list[str]]:
    """Windows of ``maxlen`` characters starting every ``step`` characters, and the character after each."""
    maxlen, step = _check_positive("maxlen", maxlen), _check_positive("step", step)
    if len(text) <= maxlen:
        raise ValueError(bilingual(f"텍스트({len(text)}자)가 maxlen={maxlen}보다 길어야 창을 만들 수 있습니다.",
                                   f"The text ({len(text)} characters) must be longer than maxlen={maxlen}."))
    starts = range(0, len(text) - maxlen, step)
    return [text[i : i + maxlen] for i in starts], [text[i + maxlen] for i in starts]


def window_dataset(ids, maxlen: int, step: int, batch_size: int, shuffle: bool = True, seed: int | None = None):
    """A ``tf.data.Dataset`` of ``(windows, next_ids)`` batches: int32 ``(batch, maxlen)`` and ``(batch,)``.

    The same pairs as :func:`make_windows`, but only the corpus (one int per
    character) and the window start positions live in memory; each batch is cut
    out of the corpus when it is needed. ``shuffle`` reshuffles the windows every
    epoch (seeded by ``seed``); ``shuffle=False`` keeps the corpus order.
    """
    import tensorflow as tf

    ids = np.asarray(ids, dtype=np.int32)
    maxlen, step = _check_positive("maxlen", maxlen), _check_positive("step", step)
    batch_size = _check_positive("batch_size", batch_size)
    n = window_count(len(ids), maxlen, step)
    if n == 0:
        raise ValueError(bilingual(f"말뭉치({len(ids)}자)가 maxlen={maxlen}보다 길어야 합니다.",
                                   f"The corpus ({len(ids)} characters) must be longer than maxlen={maxlen}."))
    corpus = tf.constant(ids)
    offsets = tf.range(maxlen + 1, dtype=tf.int32)
    starts = tf.range(n, dtype=tf.int32) * step

    def batches_of(order):
        return tf.data.Dataset.range(0, n, batch_size).map(lambda i: order[i : i + batch_size])

    if shuffle:
        # A fresh permutation of the window starts every epoch, drawn in the graph:
        # 4 bytes per window, instead of a shuffle buffer holding every element.
        def epoch(draw):
            return batches_of(tf.random.experimental.stateless_shuffle(starts, seed=tf.stack([draw, 0])))

        batches = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1).flat_map(epoch)
        batches = batches.apply(tf.data.experimental.assert_cardinality(-(-n // batch_size)))
    else:
        batches = batches_of(starts)

    def cut(batch_starts):
        chunk = tf.gather(corpus, batch_starts[:, None] + offsets)  # (batch, maxlen + 1)
        return chunk[:, :maxlen], chunk[:, maxlen]

    return batches.map(cut, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# --- the model ---------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="textgen_utils")
class OneHot(keras.layers.Layer):
    """Integer indices ``(batch, time)`` -> one-hot floats ``(batch, time, depth)``, computed per batch."""

    def __init__(self, depth: int, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)

    def call(self, inputs):
        return keras.ops.one_hot(keras.ops.cast(inputs, "int32"), self.depth)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


#: Batches per compiled training call: less Python overhead per batch (it matters most on a GPU).
STEPS_PER_EXECUTION = 8


def build_model(vocab_size: int, units: int = 128, learning_rate: float = 0.01, maxlen: int | None = None,
                steps_per_execution: int = 1):
    """The book's character model: one-hot -> ``LSTM(units)`` -> softmax over the characters.

    Input: int windows of any length (``maxlen=None``) or of exactly ``maxlen``.
    Compiled with RMSprop(``learning_rate``) and sparse categorical cross-entropy
    (integer targets: the same loss as one-hot targets, without storing them).
    ``steps_per_execution`` batches run per compiled call (Keras' ``compile`` option).
    """
    vocab_size, units = _check_positive("vocab_size", vocab_size), _check_positive("units", units)
    inputs = keras.Input(shape=(maxlen,), dtype="int32", name="window")
    x = OneHot(vocab_size, name="one_hot")(inputs)
    x = keras.layers.LSTM(units, name="lstm")(x)
    outputs = keras.layers.Dense(vocab_size, activation="softmax", name="next_char")(x)
    model = keras.Model(inputs, outputs, name="char_lstm")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", steps_per_execution=steps_per_execution)
    return model
