"""``next_logits`` adapters: turn a model into the one function the decoding loops need.

``next_logits(ids)`` takes int ids of shape ``(batch, seq)`` and returns float logits of shape
``(batch, vocab)`` for the token after each row. Adapters carry ``max_length`` (the model's
context), so the loops can refuse a prompt plus new tokens that would not fit.

* :class:`CachedCausalLM` wraps a KerasHub ``CausalLM`` (GPT-2 and friends) and keeps the
  attention keys and values between calls: when the rows of ``ids`` extend (possibly reordered,
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


def _compiled(fn, signature=None):
    """``fn`` compiled with ``tf.function`` on the TensorFlow backend (shapes may vary).

    ``signature()``, if given, returns the ``tf.TensorSpec`` of each argument (None for any size):
    ``fn`` is then traced once and called as a concrete function, which skips matching every call's
    arguments against the earlier traces (about a millisecond per call for GPT-2's 24 cached tensors).
    """
    import keras

    if keras.config.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    if signature is not None:
        return tf.function(fn, jit_compile=False).get_concrete_function(*signature())
    return tf.function(fn, reduce_retracing=True, jit_compile=False)


_STEPS = weakref.WeakKeyDictionary()  # model -> {kind: its compiled step}, traced once per model


def _compact_gpt2(causal_lm) -> bool:
    """Whether :func:`_gpt2_forward` applies: a KerasHub GPT-2 with the layer structure it reads."""
    try:
        from keras_hub.models import GPT2Backbone
    except ImportError:  # pragma: no cover - KerasHub is a dependency of the course
        return False
    backbone = causal_lm.backbone
    if not isinstance(backbone, GPT2Backbone) or not backbone.token_embedding.tie_weights:
        return False
    parts = ("_self_attention_layer_norm", "_feedforward_layer_norm", "_feedforward_intermediate_dense",
             "_feedforward_output_dense")
    dense = ("_query_dense", "_key_dense", "_value_dense", "_output_dense")
    return all(getattr(layer, "normalize_first", False) and getattr(layer, "_cross_attention_layer", 1) is None
               and all(hasattr(layer, p) for p in parts)
               and all(hasattr(getattr(layer, "_self_attention_layer", None), d) for d in dense)
               for layer in backbone.transformer_layers)


def _gpt2_forward(model):
    """GPT-2's forward pass over new tokens, the keys and values of the earlier ones coming from a cache.

    The computation of ``GPT2CausalLM.call_with_cache`` (the tests compare them) on the model's own
    weights, written with plain 2-D matrix products, and projecting only the last position to the
    vocabulary. Each layer's cache is a pair ``(keys, values)`` of shape ``(batch, heads, seq, head_dim)``
    that grows by one column per token. On a CPU a one-token step is about a quarter faster than through
    KerasHub's cached layers, which slice, update and re-stack a preallocated cache and multiply 3-D
    tensors at every step (``bench/bench_decoding.py`` times both).
    """

    def forward(tokens, cache, start):
        from keras import ops

        backbone = model().backbone
        batch, new = ops.shape(tokens)[0], ops.shape(tokens)[1]
        hidden, heads = backbone.hidden_dim, backbone.num_heads
        x = backbone.token_embedding(tokens)
        x = ops.reshape(x + backbone.position_embedding(x, start_index=start), (-1, hidden))
        visible = ops.arange(start + new)[None, :] <= (start + ops.arange(new))[:, None]  # causal mask

        def linear(h, dense):  # an EinsumDense of the attention layer as one (hidden, hidden) product
            w = ops.cast(ops.reshape(dense.kernel, (hidden, hidden)), h.dtype)
            return ops.matmul(h, w) + ops.cast(ops.reshape(dense.bias, (hidden,)), h.dtype)

        def split(h):  # (batch * new, hidden) -> (batch, heads, new, head_dim)
            return ops.transpose(ops.reshape(h, (batch, new, heads, hidden // heads)), (0, 2, 1, 3))

        out = []
        for layer, (keys, values) in zip(backbone.transformer_layers, cache):
            attention = layer._self_attention_layer
            h = layer._self_attention_layer_norm(x)
            keys = ops.concatenate([keys, split(linear(h, attention._key_dense))], axis=2)
            values = ops.concatenate([values, split(linear(h, attention._value_dense))], axis=2)
            scores = ops.matmul(split(linear(h, attention._query_dense)), ops.transpose(keys, (0, 1, 3, 2)))
            scores = ops.where(visible, scores * (hidden // heads) ** -0.5, float("-inf"))
            h = ops.matmul(ops.softmax(scores, axis=-1), values)
            x = x + linear(ops.reshape(ops.transpose(h, (0, 2, 1, 3)), (-1, hidden)), attention._output_dense)
            h = layer._feedforward_intermediate_dense(layer._feedforward_layer_norm(x))
            x = x + layer._feedforward_output_dense(h)
            out.append((keys, values))
        last = backbone.layer_norm(ops.reshape(x, (batch, new, hidden))[:, -1, :])
        return backbone.token_embedding(last, reverse=True), tuple(out)

    return forward


def _keras_hub_forward(model):
    """KerasHub's own cached step: ``call_with_cache`` on its preallocated cache (any KerasHub CausalLM)."""

    def forward(tokens, cache, index):
        logits, _, cache = model().call_with_cache(tokens, cache, index)
        return logits[:, -1, :], cache

    return forward


def _cached_step(causal_lm, kind: str):
    """The compiled step of ``causal_lm`` of this kind ("gpt2" or "keras_hub"), shared by all its adapters."""
    steps = _STEPS.setdefault(causal_lm, {})
    if kind not in steps:
        model = weakref.ref(causal_lm)  # a strong reference here would keep the model alive forever
        if kind == "gpt2":
            steps[kind] = _compiled(_gpt2_forward(model), lambda: _gpt2_signature(causal_lm))
        else:
            steps[kind] = _compiled(_keras_hub_forward(model))
    return steps[kind]


def _gpt2_signature(causal_lm):
    """The argument specs of :func:`_gpt2_forward`: new tokens, per layer (keys, values), start."""
    import tensorflow as tf

    backbone = causal_lm.backbone
    heads = backbone.num_heads
    kv = tf.TensorSpec((None, heads, None, backbone.hidden_dim // heads), causal_lm.compute_dtype)
    return (tf.TensorSpec((None, None), tf.int32), tuple((kv, kv) for _ in range(backbone.num_layers)),
            tf.TensorSpec((), tf.int32))


class CachedCausalLM:
    """``next_logits`` for a KerasHub ``CausalLM``, reusing its key/value cache between calls.

    For GPT-2 the step is a compact forward pass on the model's weights (:func:`_gpt2_forward`);
    other CausalLMs, or ``keras_hub_cache=True``, go through KerasHub's ``call_with_cache`` with a
    cache preallocated in chunks of ``chunk`` positions. ``kind`` says which: "gpt2" or "keras_hub".
    """

    def __init__(self, causal_lm, chunk: int = 64, keras_hub_cache: bool = False):
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
        self.kind = "keras_hub" if keras_hub_cache or not _compact_gpt2(causal_lm) else "gpt2"
        self._step = _cached_step(causal_lm, self.kind)
        self.reset()

    def reset(self) -> None:
        """Forget the cache (the next call starts from scratch)."""
        self._ids = None  # (batch, seq) ids whose keys/values are in the cache
        self._cache = None

    def _capacity(self, length: int) -> int:
        return min(self.max_length, -(-(length + 1) // self.chunk) * self.chunk)

    def _empty_cache(self, batch: int, length: int):
        from keras import ops

        layers, _, heads, head_dim = self._shape
        if self.kind == "gpt2":  # per layer (keys, values), each (batch, heads, 0, head_dim)
            empty = ops.zeros((batch, heads, 0, head_dim), dtype=self.lm.compute_dtype)
            return tuple((empty, empty) for _ in range(layers))
        return ops.zeros((batch, layers, 2, self._capacity(length), heads, head_dim), dtype=self.lm.compute_dtype)

    def _extended_cache(self, rows: np.ndarray, length: int):
        """The cache for ``length`` ids extending the cached ``rows`` (reordered, grown if needed)."""
        from keras import ops, tree

        cache = self._cache
        if not np.array_equal(rows, np.arange(len(self._ids))):  # beam search reorders the rows
            cache = tree.map_structure(lambda c: ops.take(c, rows, axis=0), cache)
        if self.kind == "keras_hub" and length > int(cache.shape[3]):  # grow by whole chunks of zeros
            extra = self._capacity(length) - int(cache.shape[3])
            cache = ops.pad(cache, [(0, 0), (0, 0), (0, 0), (0, extra), (0, 0), (0, 0)])
        return cache

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
            start, cache = 0, self._empty_cache(*ids.shape)
        else:  # extend: feed only the new tokens
            start, cache = self._ids.shape[1], self._extended_cache(rows, ids.shape[1])
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
