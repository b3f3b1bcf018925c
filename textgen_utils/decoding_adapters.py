"""``next_logits`` adapters: turn a model into the one function the decoding loops need.

``next_logits(ids)`` takes int ids of shape ``(batch, seq)`` and returns float logits of shape
``(batch, vocab)`` for the token after each row. Adapters carry ``max_length`` (the model's
context), so the loops can refuse a prompt plus new tokens that would not fit.

* :class:`CachedCausalLM` wraps a KerasHub ``CausalLM`` (GPT-2 and friends) and keeps the
  model's key/value cache between calls: when the rows of ``ids`` extend (possibly reordered,
  as beam search does) the rows of the previous call, only the new tokens go through the model.
* :func:`keras_next_logits` works with any Keras model that maps ``(batch, seq)`` ids to
  ``(batch, seq, vocab)`` (or ``(batch, vocab)``) outputs. It re-runs the whole sequence each step.
"""

from __future__ import annotations

import weakref

import numpy as np

from textgen_utils.errors import bilingual


def _is_causal_lm(model) -> bool:
    return hasattr(model, "call_with_cache") and hasattr(model, "backbone")


def _compiled(fn):
    """``fn`` compiled with ``tf.function`` on the TensorFlow backend (shapes may vary)."""
    import keras

    if keras.config.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    return tf.function(fn, reduce_retracing=True, jit_compile=False)


_CACHED_STEPS = weakref.WeakKeyDictionary()  # model -> its compiled cached step, traced once per model


def _cached_step(causal_lm):
    """The compiled ``call_with_cache`` step of ``causal_lm`` (shared by all its adapters)."""
    if causal_lm not in _CACHED_STEPS:
        model = weakref.ref(causal_lm)  # a strong reference here would keep the model alive forever

        def forward(tokens, cache, index):
            logits, _, cache = model().call_with_cache(tokens, cache, index)
            return logits[:, -1, :], cache

        _CACHED_STEPS[causal_lm] = _compiled(forward)
    return _CACHED_STEPS[causal_lm]


class CachedCausalLM:
    """``next_logits`` for a KerasHub ``CausalLM``, reusing its key/value cache between calls."""

    def __init__(self, causal_lm, chunk: int = 64):
        if not _is_causal_lm(causal_lm):
            raise TypeError(bilingual(
                f"KerasHub CausalLM(예: GPT2CausalLM)이 필요합니다. 받은 것: {type(causal_lm).__name__}. "
                "다른 Keras 모델에는 keras_next_logits를 쓰세요.",
                f"Expected a KerasHub CausalLM (e.g. GPT2CausalLM); got {type(causal_lm).__name__}. "
                "For other Keras models use keras_next_logits."))
        self.lm = causal_lm
        backbone = causal_lm.backbone
        self.max_length = int(backbone.max_sequence_length)
        self._shape = (backbone.num_layers, 2, backbone.num_heads, backbone.hidden_dim // backbone.num_heads)
        self.chunk = chunk
        self._step = _cached_step(causal_lm)
        self.reset()

    def reset(self) -> None:
        """Forget the cache (the next call starts from scratch)."""
        self._ids = None  # (batch, seq) ids whose keys/values are in the cache
        self._cache = None

    def _capacity(self, length: int) -> int:
        return min(self.max_length, -(-(length + 1) // self.chunk) * self.chunk)

    def _reusable_rows(self, ids: np.ndarray):
        """For each row of ``ids``, the cached row it extends; None when some row extends none."""
        if self._ids is None or ids.shape[1] <= self._ids.shape[1]:
            return None
        known = {row.tobytes(): i for i, row in enumerate(self._ids)}
        rows = [known.get(row.tobytes()) for row in ids[:, : self._ids.shape[1]]]
        return None if any(r is None for r in rows) else np.asarray(rows, dtype=np.int32)

    def __call__(self, ids) -> np.ndarray:
        from keras import ops

        ids = np.asarray(ids, dtype=np.int32)
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise ValueError(bilingual(f"ids는 (배치, 길이) 모양의 정수 배열이어야 합니다. 받은 모양: {ids.shape}",
                                       f"ids must be an int array of shape (batch, seq); got {ids.shape}."))
        if ids.shape[1] > self.max_length:
            raise ValueError(bilingual(
                f"시퀀스 길이 {ids.shape[1]}가 모델의 문맥 길이 {self.max_length}를 넘습니다.",
                f"Sequence length {ids.shape[1]} exceeds the model's context of {self.max_length} tokens."))
        rows = self._reusable_rows(ids)
        if rows is None:  # prefill: the whole sequence into a fresh cache
            start = 0
            cache = ops.zeros((ids.shape[0], self._shape[0], 2, self._capacity(ids.shape[1]), *self._shape[2:]),
                              dtype=self.lm.compute_dtype)
        else:  # extend: reorder the cached rows (beam search), then feed only the new tokens
            start = self._ids.shape[1]
            cache = self._cache
            if not np.array_equal(rows, np.arange(len(self._ids))):
                cache = ops.take(cache, rows, axis=0)
            capacity = int(cache.shape[3])
            if ids.shape[1] > capacity:  # grow the cache by whole chunks of zeros
                extra = self._capacity(ids.shape[1]) - capacity
                cache = ops.pad(cache, [(0, 0), (0, 0), (0, 0), (0, extra), (0, 0), (0, 0)])
        logits, self._cache = self._step(ops.convert_to_tensor(ids[:, start:]), cache,
                                         ops.convert_to_tensor(start, dtype="int32"))
        self._ids = ids
        return np.asarray(ops.convert_to_numpy(logits), dtype=np.float32)


class KerasNextLogits:
    """``next_logits`` for any Keras model: the whole sequence through the model at every call."""

    def __init__(self, model, from_probabilities: bool = False, max_length: int | None = None):
        self.model = model
        self.from_probabilities = from_probabilities
        self.dict_inputs = _is_causal_lm(model) or isinstance(getattr(model, "input", None), dict)
        if max_length is None and _is_causal_lm(model):
            max_length = int(model.backbone.max_sequence_length)
        self.max_length = max_length
        self._forward = _compiled(self._call_model)

    def _call_model(self, ids):
        from keras import ops

        if self.dict_inputs:
            return self.model({"token_ids": ids, "padding_mask": ops.ones_like(ids)}, training=False)
        return self.model(ids, training=False)

    def __call__(self, ids) -> np.ndarray:
        from keras import ops

        ids = np.asarray(ids, dtype=np.int32)
        out = np.asarray(ops.convert_to_numpy(self._forward(ops.convert_to_tensor(ids))), dtype=np.float32)
        if out.ndim == 3:  # (batch, seq, vocab): the prediction after the last token
            out = out[:, -1, :]
        if self.from_probabilities:
            with np.errstate(divide="ignore"):
                out = np.log(out)
        return out


def keras_next_logits(model, from_probabilities: bool = False, max_length: int | None = None) -> KerasNextLogits:
    """``next_logits`` for any Keras model (no cache). ``from_probabilities``: the model ends in a softmax."""
    return KerasNextLogits(model, from_probabilities, max_length)


def causal_lm_next_logits(causal_lm, use_cache: bool = True):
    """``next_logits`` for a KerasHub ``CausalLM``: cached (fast) by default, or re-running everything."""
    return CachedCausalLM(causal_lm) if use_cache else KerasNextLogits(causal_lm)


def model_logits(model, ids) -> np.ndarray:
    """Logits at every position, shape ``(batch, seq, vocab)``: ``[:, t]`` predicts token ``t + 1``."""
    from keras import ops

    ids = np.atleast_2d(np.asarray(ids, dtype=np.int32))
    if _is_causal_lm(model):
        out = model({"token_ids": ids, "padding_mask": np.ones_like(ids)}, training=False)
    else:
        out = model(ids, training=False)
    return np.asarray(ops.convert_to_numpy(out), dtype=np.float32)


def keras_hub_generate(causal_lm, prompt_ids, max_new_tokens: int, sampler="greedy", jit_compile: bool = True):
    """KerasHub's own compiled ``generate`` on token ids: no ``<|endoftext|>`` added, no stop token.

    For comparisons with our loops. Returns the prompt followed by the new ids (1-D).
    """
    ids = np.asarray(prompt_ids, dtype=np.int32).ravel()
    length = len(ids) + int(max_new_tokens)
    tokens = np.zeros((1, length), dtype=np.int32)
    tokens[0, : len(ids)] = ids
    raw = type(causal_lm)(backbone=causal_lm.backbone, preprocessor=None)  # shares the weights
    raw.compile(sampler=sampler, jit_compile=jit_compile)
    out = raw.generate({"token_ids": tokens, "padding_mask": np.arange(length)[None] < len(ids)}, stop_token_ids=None)
    return np.asarray(out["token_ids"][0], dtype=np.int64)
