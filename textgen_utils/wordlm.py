"""A word-level language model around :mod:`textgen_utils.transformer` (lesson 03).

* :func:`make_vectorizer` - a ``TextVectorization`` layer whose vocabulary is cached
  on disk, keyed by the data files and the settings (``adapt`` over 100,000 reviews
  is slow); a progress bar shows the first build.
* :func:`prepare_lm_dataset` / :func:`lm_dataset` - text batches to (input, target)
  pairs shifted by one word.
* :func:`sample_next_word` - run the model once, read the logits at the last real
  token and sample at a temperature.
* :func:`generate_text_slow` - the seed's loop (re-vectorize the growing string, run
  the whole model, softmax at every position), with its off-by-one fixed. Slow on
  purpose: it is the baseline of the benchmark.
* :class:`WordGenerator` - generation over token ids compiled into one graph, with
  the block's key/value cache, projecting only the newest position.
* :class:`StandInModel` - a deterministic "model" (a lookup table) for tests and exercises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from textgen_utils import sampling
from textgen_utils.cache import cache_path, cached_json, fingerprint
from textgen_utils.errors import bilingual

PADDING_ID = 0
UNKNOWN_ID = 1
#: Part of the vocabulary cache key: bump it when the way a vocabulary is built changes.
VOCAB_FORMAT = 1


# --- text to token ids -----------------------------------------------------------------


def make_vectorizer(texts, vocab_size: int, sequence_length: int, source: Sequence[Path] | None = None,
                    progress: bool = True):
    """A ``TextVectorization(max_tokens=vocab_size, output_sequence_length=sequence_length)``.

    Its vocabulary is built from ``texts`` (a batched ``tf.data.Dataset`` of strings)
    exactly as ``adapt`` builds it, with a progress bar. With ``source`` (the data
    files or folders the texts come from) the vocabulary is cached on disk under a
    key made of those files and the settings, so a rerun loads it in a blink.
    """
    import keras

    if int(vocab_size) < 3 or int(sequence_length) < 2:
        raise ValueError(
            bilingual(
                f"어휘 크기는 3 이상, 시퀀스 길이는 2 이상이어야 합니다 (받은 값: {vocab_size}, {sequence_length}).",
                f"vocab_size must be at least 3 and sequence_length at least 2 (got {vocab_size}, {sequence_length}).",
            )
        )
    layer = keras.layers.TextVectorization(
        max_tokens=vocab_size, output_mode="int", output_sequence_length=sequence_length
    )

    def build():
        from tqdm.auto import tqdm

        layer.reset_state()
        total = _length(texts)
        for batch in tqdm(texts, total=total, desc="어휘 만들기 / building vocabulary", unit="batch",
                          disable=not progress):
            layer.update_state(batch)
        layer.finalize_state()
        return [str(word) for word in layer.get_vocabulary()]

    if source is None:
        vocabulary = build()
    else:
        key = fingerprint(*[Path(p) for p in source], vocab_size, "lower_and_strip_punctuation", VOCAB_FORMAT)
        built = []
        vocabulary = cached_json("word-vocabulary", key, lambda: built.append(1) or build())
        if progress and not built:
            where = cache_path("word-vocabulary", key)
            print(f"어휘 {len(vocabulary):,}개를 캐시에서 불러왔습니다 / loaded the vocabulary "
                  f"({len(vocabulary):,} words) from the cache: {where}")
    layer.set_vocabulary(vocabulary)
    return layer


def _length(dataset):
    try:
        return len(dataset)
    except TypeError:  # unknown cardinality
        return None


def prepare_lm_dataset(text_batch, vectorizer):
    """Vectorize a batch of texts and shift it: inputs ``seq[:, :-1]``, targets ``seq[:, 1:]``.

    Target ``t`` is the word that follows input word ``t``, so one sequence of N
    words trains N-1 next-word predictions at once.
    """
    sequences = vectorizer(text_batch)
    return sequences[:, :-1], sequences[:, 1:]


def lm_dataset(texts, vectorizer):
    """``texts`` (a batched dataset of strings) mapped through :func:`prepare_lm_dataset`."""
    import tensorflow as tf

    return texts.map(lambda t: prepare_lm_dataset(t, vectorizer), num_parallel_calls=tf.data.AUTOTUNE).prefetch(
        tf.data.AUTOTUNE
    )


def decode(ids, vocabulary: Sequence[str]) -> str:
    """Token ids back to words, padding dropped."""
    return " ".join(vocabulary[int(i)] for i in ids if int(i) != PADDING_ID)


# --- one step, the slow way -------------------------------------------------------------


def sample_next_word(model, token_ids, temperature: float = 1.0, rng=None) -> int:
    """Sample the word after the real tokens of ``token_ids`` (1-D, padding zeros at the end).

    The prediction for the next word sits at the *last real token*, position
    ``count_nonzero(token_ids) - 1`` (the seed read position ``i`` instead).
    """
    ids = np.asarray(token_ids)
    n = int(np.count_nonzero(ids))
    if ids.ndim != 1 or n == 0:
        raise ValueError(
            bilingual(
                f"token_ids는 실제 토큰이 하나 이상 있는 1차원 배열이어야 합니다 (모양 {ids.shape}, 실제 토큰 {n}개).",
                f"token_ids must be a 1-D array with at least one real token (shape {ids.shape}, {n} real tokens).",
            )
        )
    logits = np.asarray(model(ids[None]), dtype=np.float64)[0, n - 1]
    return sampling.sample_next(sampling.softmax(logits), temperature, rng)


def _check_room(prompt_length: int, steps: int, window: int) -> None:
    if prompt_length < 1:
        raise ValueError(
            bilingual(
                "프롬프트에 어휘 안의 단어가 하나도 없습니다. 다른 프롬프트를 쓰세요.",
                "The prompt has no word at all after vectorization; use another prompt.",
            )
        )
    if steps < 1 or prompt_length + steps > window:
        raise ValueError(
            bilingual(
                f"프롬프트 {prompt_length}단어 + 생성 {steps}단어가 모델의 창({window}단어)을 넘거나 생성 수가 1보다 작습니다. "
                f"steps를 1 이상 {window - prompt_length} 이하로 줄이세요.",
                f"A prompt of {prompt_length} words plus {steps} new words does not fit the model's window of "
                f"{window} words (or steps < 1). Use 1 <= steps <= {window - prompt_length}.",
            )
        )


def generate_text_slow(model, vectorizer, prompt: str, steps: int, temperature: float = 1.0, rng=None) -> str:
    """The seed's generation loop, with the prediction read at the right position.

    Every step re-vectorizes the growing string, runs the whole model eagerly and
    takes the softmax at all positions, as the seed did; then it reads position
    ``prompt_length - 1 + i`` (the last real token), where the seed read ``i``.
    Padding is never sampled.
    """
    import keras

    vocabulary = vectorizer.get_vocabulary()
    window = int(vectorizer(["x"]).shape[1])
    prompt_length = int(np.count_nonzero(np.asarray(vectorizer([prompt]))[0]))
    _check_room(prompt_length, steps, window)
    sentence = prompt
    for i in range(steps):
        ids = vectorizer([sentence])
        probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(model(ids), axis=-1))
        p = probabilities[0, prompt_length - 1 + i].astype(np.float64)
        p[PADDING_ID] = 0.0
        next_id = sampling.sample_next(p / p.sum(), temperature, rng)
        sentence += " " + vocabulary[next_id]
    return sentence


# --- fast generation: one graph, a key/value cache, only the last position ------------------


class WordGenerator:
    """Compiled generation for a model made by :func:`textgen_utils.transformer.build_word_lm`.

    The prompt is run once through the block (``prefill``), which returns the keys
    and values of every position; each new word then costs one position of the
    block (``decode``) and one row of the output projection. The whole loop is one
    ``tf.function`` graph, traced once per batch size. Weights are read live, so a
    generator made before training samples from the current model.

    ``gen(prompt, steps, temperature)`` returns text; ``gen.ids(...)`` token ids.
    """

    def __init__(self, model, vectorizer=None, jit_compile: bool = False):
        import tensorflow as tf

        try:
            self.embedding = model.get_layer("embedding")
            self.block = model.get_layer("decoder")
            self.head = model.get_layer("logits")
        except ValueError as exc:
            raise ValueError(
                bilingual(
                    "WordGenerator에는 build_word_lm()으로 만든 모델(층 이름 embedding, decoder, logits)이 필요합니다.",
                    "WordGenerator needs a model made by build_word_lm() (layers named embedding, decoder, logits).",
                )
            ) from exc
        self.vectorizer = vectorizer
        self.vocabulary = vectorizer.get_vocabulary() if vectorizer is not None else None
        self.window = self.embedding.sequence_length
        spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.float32), tf.TensorSpec([2], tf.int32)]
        self._run = tf.function(self._generate, input_signature=spec, jit_compile=jit_compile)

    # graph pieces --------------------------------------------------------------------

    def _prefill(self, tokens, lengths):
        """Run the prompts (batch, prompt_time), zero-padded on the right, through the model once.

        Returns the logits after each prompt's last real token, and the keys and values
        of the prompt positions padded to the whole window (the cache).
        """
        import tensorflow as tf

        hidden, k, v = self.block.prefill(self.embedding(tokens), tf.not_equal(tokens, PADDING_ID))
        last = tf.gather(hidden, lengths - 1, axis=1, batch_dims=1)  # (batch, embed): the last real token
        room = [[0, 0], [0, 0], [0, self.window - tf.shape(tokens)[1]], [0, 0]]
        return self.head(last), tf.pad(k, room), tf.pad(v, room)

    def _step(self, token, position, k, v):
        """Feed one token per row at ``position``; return the logits for the next one and the cache."""
        x = self.embedding.embed_at(token[:, None], position[:, None])
        hidden, k, v = self.block.decode(x, k, v, position)
        return self.head(hidden[:, 0]), k, v

    def _sample(self, logits, temperature, seed, step):
        import tensorflow as tf

        banned = tf.one_hot(PADDING_ID, tf.shape(logits)[-1], on_value=-1e9, off_value=0.0)
        scaled = logits / temperature + banned
        return tf.random.stateless_categorical(scaled, 1, seed=seed + tf.stack([0, step]), dtype=tf.int32)[:, 0]

    def _generate(self, tokens, lengths, steps, temperature, seed):
        import tensorflow as tf

        logits, k, v = self._prefill(tokens, lengths)
        tokens = tf.pad(tokens, [[0, 0], [0, self.window - tf.shape(tokens)[1]]])
        token = self._sample(logits, temperature, seed, 0)
        tokens = self._write(tokens, lengths, token)
        for i in tf.range(1, steps):
            position = lengths + i - 1  # where `token` goes in
            logits, k, v = self._step(token, position, k, v)
            token = self._sample(logits, temperature, seed, i)
            tokens = self._write(tokens, position + 1, token)
        return tokens

    def _write(self, tokens, position, token):
        import tensorflow as tf

        here = tf.cast(tf.one_hot(position, self.window), tf.bool)
        return tf.where(here, token[:, None], tokens)

    # python API ----------------------------------------------------------------------

    def _pad(self, prompts: Sequence[Sequence[int]], steps: int):
        lengths = [len(p) for p in prompts]
        for p in prompts:
            _check_room(len(p), steps, self.window)
            if any(int(t) == PADDING_ID for t in p):
                raise ValueError(
                    bilingual(
                        "프롬프트 안에 패딩(0)이 있습니다. 실제 토큰 id만 넘기세요.",
                        "A prompt contains padding (id 0); pass the real token ids only.",
                    )
                )
        tokens = np.zeros((len(prompts), max(lengths)), dtype=np.int32)
        for row, p in enumerate(prompts):
            tokens[row, : len(p)] = p
        return tokens, np.asarray(lengths, dtype=np.int32)

    def ids(self, prompt_ids, steps: int, temperature: float = 1.0, seed: int | None = None):
        """Generate ``steps`` ids after ``prompt_ids`` (one list of ids, or a list of lists).

        Returns the prompt followed by the new ids, in the same nesting as given.
        ``seed`` makes the draw reproducible; None draws one from numpy's generator.
        """
        import tensorflow as tf

        single = len(prompt_ids) == 0 or np.ndim(prompt_ids[0]) == 0
        prompts = [list(prompt_ids)] if single else [list(p) for p in prompt_ids]
        steps = int(steps)
        t = sampling.check_temperature(temperature)
        tokens, lengths = self._pad(prompts, steps)
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        out = self._run(tf.constant(tokens), tf.constant(lengths), tf.constant(steps, tf.int32),
                        tf.constant(t, tf.float32), tf.constant([int(seed), 0], tf.int32)).numpy()
        result = [row[: n + steps].tolist() for row, n in zip(out, lengths)]
        return result[0] if single else result

    def encode(self, prompt: str) -> list[int]:
        self._need_vectorizer()
        ids = np.asarray(self.vectorizer([prompt]))[0]
        return [int(i) for i in ids if i != PADDING_ID]

    def __call__(self, prompt: str, steps: int, temperature: float = 1.0, seed: int | None = None) -> str:
        """Generate ``steps`` words after the text ``prompt`` and return prompt and words as text."""
        ids = self.encode(prompt)
        new = self.ids(ids, steps, temperature, seed)[len(ids):]
        return prompt + " " + decode(new, self.vocabulary)

    def _need_vectorizer(self):
        if self.vectorizer is None:
            raise ValueError(
                bilingual(
                    "텍스트로 생성하려면 WordGenerator(model, vectorizer)처럼 벡터화 층을 넘기세요.",
                    "To generate from text, pass the vectorizer: WordGenerator(model, vectorizer).",
                )
            )

    def cached_logits(self, token_ids: Sequence[int], prompt_length: int) -> np.ndarray:
        """Logits the cache path gives for positions ``prompt_length-1 .. len(token_ids)-1``.

        The prompt goes through ``prefill``, each later token through ``decode``
        (teacher forcing). Row ``r`` must match ``model(token_ids)[0, prompt_length-1+r]``.
        """
        import tensorflow as tf

        ids = [int(i) for i in token_ids]
        tokens, lengths = self._pad([ids[:prompt_length]], max(1, len(ids) - prompt_length))
        logits, k, v = self._prefill(tf.constant(tokens), tf.constant(lengths))
        rows = [logits[0]]
        for position in range(prompt_length, len(ids)):
            token = tf.constant([ids[position]], tf.int32)
            logits, k, v = self._step(token, tf.constant([position], tf.int32), k, v)
            rows.append(logits[0])
        return np.stack([np.asarray(r) for r in rows])


# --- a deterministic stand-in model ------------------------------------------------------


class StandInModel:
    """A "language model" that is a lookup table: the logits at position t are ``table[token_ids[..., t]]``.

    It looks only at the current token, so which position you read decides which
    word comes next: reading the wrong position gives the wrong word. Calling it on
    ``(batch, time)`` ids returns ``(batch, time, vocab)`` logits, like a Keras model.
    """

    def __init__(self, table):
        self.table = np.asarray(table, dtype=np.float32)
        if self.table.ndim != 2 or self.table.shape[0] != self.table.shape[1]:
            raise ValueError(
                bilingual(
                    f"table은 (어휘, 어휘) 모양이어야 합니다. 받은 모양: {self.table.shape}",
                    f"table must have shape (vocab, vocab); got {self.table.shape}.",
                )
            )

    @classmethod
    def successor(cls, sentence_ids: Sequence[int], vocab_size: int, confidence: float = 8.0):
        """A model that has memorised one sentence: after word ``s[j]`` it predicts ``s[j+1]``."""
        table = np.zeros((vocab_size, vocab_size), dtype=np.float32)
        table[:, PADDING_ID] = -1e9
        for here, after in zip(sentence_ids[:-1], sentence_ids[1:]):
            table[here] = 0.0
            table[here, PADDING_ID] = -1e9
            table[here, after] = confidence
        return cls(table)

    def __call__(self, token_ids):
        return self.table[np.asarray(token_ids, dtype=np.int64)]
