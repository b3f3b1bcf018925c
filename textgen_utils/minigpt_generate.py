"""Generation for the miniature GPT (lesson 05): a key/value cache and KerasHub's samplers.

KerasHub's samplers (``keras_hub.samplers.GreedySampler`` and the others) build a
sequence one token at a time. At each step they call ``next(prompt, cache, index)``,
which must return ``(logits, hidden_states, cache)``: the logits of the token to put
at ``index``, anything (we return None), and the updated cache.

* :func:`uncached_next` is the seed's way: run the whole sequence through the model
  at every step and keep one position's logits.
* :func:`cached_next` keeps each decoder block's keys and values in a cache, so a
  step runs only the newest token through the model. The cache has shape
  ``(batch, num_layers, 2, max_length, num_heads, head_dim)``.
* :func:`generate` runs a sampler from a prompt (``[BOS]`` by default) and
  :func:`to_text` turns the token ids back into text.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
from keras import ops

from textgen_utils.errors import bilingual
from textgen_utils.logits_processors import log_softmax
from textgen_utils.minigpt import BOS_ID, PAD_ID
from textgen_utils.ngram import distinct_ngram_ratio


@dataclasses.dataclass(frozen=True)
class Parts:
    """The layers of a miniature GPT, in the order the cached pass calls them."""

    embedding: keras.layers.Layer
    decoders: tuple
    head: keras.layers.Layer

    @property
    def max_length(self) -> int:
        return int(self.embedding.position_embedding.sequence_length)


def parts(model: keras.Model) -> Parts:
    """Find the embedding, the decoder blocks and the output layer of ``model``."""
    import keras_hub

    layers = [layer for layer in model.layers if layer.weights]
    embeddings = [layer for layer in layers if isinstance(layer, keras_hub.layers.TokenAndPositionEmbedding)]
    decoders = tuple(layer for layer in layers if isinstance(layer, keras_hub.layers.TransformerDecoder))
    decoder_only = all(getattr(d, "_cross_attention_layer", None) is None for d in decoders)
    if len(embeddings) != 1 or not decoders or not decoder_only or not isinstance(layers[-1], keras.layers.Dense):
        raise ValueError(
            bilingual(
                "모델이 TokenAndPositionEmbedding 하나, (교차 어텐션 없는) TransformerDecoder 여러 개, 마지막 "
                "Dense로 이루어져 있지 않습니다. minigpt.build_model()로 만든 모델을 넘기세요.",
                "The model is not one TokenAndPositionEmbedding, TransformerDecoder blocks (without cross-attention) "
                "and a final Dense. Pass a model made by minigpt.build_model().",
            )
        )
    return Parts(embeddings[0], decoders, layers[-1])


def empty_cache(model: keras.Model, batch_size: int, max_length: int):
    """A zero key/value cache for ``max_length`` positions."""
    p = parts(model)
    decoder = p.decoders[0]
    head_dim = p.embedding.embedding_dim // decoder.num_heads
    shape = (batch_size, len(p.decoders), 2, max_length, decoder.num_heads, head_dim)
    return ops.zeros(shape, dtype=decoder.compute_dtype)


def call_with_cache(model: keras.Model, token_ids, cache, index):
    """Run ``token_ids`` (batch, n), which sit at positions ``index .. index+n-1``, through the model.

    Each decoder block writes the keys and values of these tokens into its slice of
    ``cache`` and attends to every cached position up to its own. Returns
    ``(logits (batch, n, vocab), updated cache)``.

    The blocks are KerasHub ``TransformerDecoder`` layers; :func:`_decoder_step` runs
    the same computation with their own weights and sublayers, but computes the
    query, key and value of a token with one matrix product and writes straight into
    this cache. During generation a step is bound by reading the weights, so that is
    what counts: it makes a compiled step about 1.5 times faster on a CPU than calling
    the block with KerasHub's per-block cache.
    """
    p = parts(model)
    return _call_with_cache(p, _qkv_kernels(p), token_ids, cache, index)


def _call_with_cache(p: Parts, kernels, token_ids, cache, index):
    """:func:`call_with_cache` with the model's parts and its blocks' :func:`_qkv_kernels` already found."""
    x = p.embedding(token_ids, start_index=index)
    x = ops.add(x, 0)  # a fresh tensor without the padding mask: cached tokens are never [PAD]
    # query i (at position index + i) may attend to every cached position up to its own
    query_positions = ops.add(ops.arange(ops.shape(token_ids)[1]), index)
    allowed = ops.less_equal(ops.arange(ops.shape(cache)[3])[None, :], query_positions[:, None])
    for i, (decoder, (kernel, bias)) in enumerate(zip(p.decoders, kernels)):
        x, cache = _decoder_step(decoder, x, cache, i, index, allowed, kernel, bias)
    return p.head(x), cache


def _qkv_kernel(attention, dtype):
    """The query, key and value kernels side by side, (embed, 3 * heads * head_dim), and their biases."""
    dense = (attention._query_dense, attention._key_dense, attention._value_dense)
    kernel = ops.concatenate([ops.reshape(ops.cast(d.kernel, dtype), (d.kernel.shape[0], -1)) for d in dense], axis=1)
    if any(d.bias is None for d in dense):
        return kernel, None
    return kernel, ops.concatenate([ops.reshape(ops.cast(d.bias, dtype), (-1,)) for d in dense])


def _qkv_kernels(p: Parts) -> list:
    """Each block's (kernel, bias) from :func:`_qkv_kernel`, in the blocks' compute dtype."""
    return [_qkv_kernel(d._self_attention_layer, d.compute_dtype) for d in p.decoders]


def _decoder_step(decoder, x, cache, layer: int, index, allowed, kernel, bias):
    """``decoder(x)`` (a ``TransformerDecoder`` without cross-attention, at inference) over cached keys and values.

    ``x`` (batch, n, embed) holds the tokens at positions ``index .. index+n-1``;
    their keys and values go into ``cache[:, layer]`` at ``index``. ``allowed``
    (n, max_length) says which cached positions each token may attend to. ``kernel``
    and ``bias`` are the block's query, key and value weights side by side (:func:`_qkv_kernel`).
    """
    attention = decoder._self_attention_layer
    heads, head_dim = attention.num_heads, attention.key_dim
    batch, n = ops.shape(x)[0], ops.shape(x)[1]

    residual = x
    if decoder.normalize_first:
        x = decoder._self_attention_layer_norm(x)
    # one product reads the three kernels faster than three small ones (XLA turns those into slow loops)
    qkv = ops.matmul(x, kernel)
    if bias is not None:
        qkv = ops.add(qkv, bias)
    q, k, v = (ops.reshape(t, (batch, n, heads, head_dim)) for t in ops.split(qkv, 3, axis=-1))
    # keys and values of the new tokens into the cache: (batch, 1 layer, 2, n, heads, head_dim)
    cache = ops.slice_update(cache, (0, layer, 0, index, 0, 0), ops.stack((k, v), axis=1)[:, None])
    keys, values = cache[:, layer, 0], cache[:, layer, 1]  # (batch, max_length, heads, head_dim)

    # as keras.ops.dot_product_attention computes it: scaled scores and softmax in float32
    scores = ops.multiply(ops.cast(ops.einsum("bqhd,bkhd->bhqk", q, keys), "float32"), 1.0 / float(head_dim) ** 0.5)
    weights = ops.cast(ops.softmax(ops.where(allowed, scores, float("-inf")), axis=-1), x.dtype)
    x = attention._output_dense(ops.einsum("bhqk,bkhd->bqhd", weights, values))
    x = ops.add(x, residual)
    if not decoder.normalize_first:
        x = decoder._self_attention_layer_norm(x)

    residual = x
    if decoder.normalize_first:
        x = decoder._feedforward_layer_norm(x)
    x = decoder._feedforward_output_dense(decoder._feedforward_intermediate_dense(x))
    x = ops.add(x, residual)
    if not decoder.normalize_first:
        x = decoder._feedforward_layer_norm(x)
    return x, cache


def cached_next(model: keras.Model):
    """``next(prompt, cache, index)`` for the samplers, with a key/value cache.

    Only the token at ``index - 1`` goes through the model; its keys and values are
    written into the cache at ``index - 1``, and its logits predict the token at ``index``.
    The blocks' query/key/value kernels are joined once, here, not at every token: make a
    new ``cached_next`` after the weights change (``generate`` makes one per call).
    """
    p = parts(model)
    kernels = _qkv_kernels(p)

    def next(prompt, cache, index):
        token = ops.slice(prompt, (0, index - 1), (ops.shape(prompt)[0], 1))
        logits, cache = _call_with_cache(p, kernels, token, cache, index - 1)
        return logits[:, 0, :], None, cache

    return next


def uncached_next(model: keras.Model):
    """``next(prompt, cache, index)`` without a cache: the whole sequence runs at every step."""

    def next(prompt, cache, index):
        logits = model(prompt, training=False)
        return ops.take(logits, index - 1, axis=1), None, cache

    return next


def prefill(model: keras.Model, prompt, index: int):
    """A cache of ``prompt``'s length holding the keys and values of its first ``index`` tokens."""
    cache = empty_cache(model, int(ops.shape(prompt)[0]), int(ops.shape(prompt)[1]))
    if index > 1:  # position index-1 is (re)computed by the sampler's first step
        _, cache = call_with_cache(model, prompt[:, : index - 1], cache, 0)
    return cache


def start_prompt(prompt_ids, num_tokens: int, batch_size: int = 1, max_length: int | None = None) -> np.ndarray:
    """A (batch, len(prompt_ids) + num_tokens) array: the prompt, then [PAD] slots for the new tokens."""
    prompt_ids = [int(t) for t in prompt_ids]
    if not prompt_ids or int(num_tokens) < 1:
        raise ValueError(bilingual("프롬프트는 비어 있지 않아야 하고 num_tokens는 1 이상이어야 합니다.",
                                   "The prompt must not be empty and num_tokens must be at least 1."))
    length = len(prompt_ids) + int(num_tokens)
    if max_length is not None and length > max_length:
        raise ValueError(
            bilingual(
                f"프롬프트({len(prompt_ids)})와 새 토큰({num_tokens})을 합치면 {length}개로, 모델이 다루는 "
                f"최대 길이 {max_length}를 넘습니다. num_tokens를 줄이세요.",
                f"The prompt ({len(prompt_ids)}) plus the new tokens ({num_tokens}) make {length}, more than the "
                f"model's maximum length {max_length}. Ask for fewer tokens.",
            )
        )
    prompt = np.full((batch_size, length), PAD_ID, dtype="int32")
    prompt[:, : len(prompt_ids)] = prompt_ids
    return prompt


def generate(model: keras.Model, sampler, num_tokens: int, prompt_ids=(BOS_ID,), *, batch_size: int = 1,
             cached: bool = True, next_fn=None) -> np.ndarray:
    """Token ids (batch, len(prompt_ids) + num_tokens): ``sampler`` continues ``prompt_ids``.

    ``cached=False`` uses :func:`uncached_next`; ``next_fn`` replaces the ``next``
    function altogether (it gets a cache made by :func:`prefill`).
    """
    p = parts(model)
    prompt = start_prompt(prompt_ids, num_tokens, batch_size, p.max_length)
    index = len(prompt_ids)
    if next_fn is None and not cached:
        next_fn, cache = uncached_next(model), None
    else:
        next_fn, cache = next_fn or cached_next(model), prefill(model, prompt, index)
    out = sampler(next_fn, ops.convert_to_tensor(prompt), cache=cache, index=index)
    return np.asarray(ops.convert_to_numpy(out))


def to_text(tokenizer, token_ids) -> str | list[str]:
    """Detokenize, leaving out ``[BOS]`` and stopping at the first ``[PAD]`` (the end of a paragraph)."""
    ids = np.asarray(token_ids)
    if ids.ndim == 2:
        return [to_text(tokenizer, row) for row in ids]
    ids = [t for t in _until_pad(ids) if t != BOS_ID]
    if not ids:
        return ""
    text = tokenizer.detokenize(np.asarray(ids, dtype="int32"))
    text = text.numpy() if hasattr(text, "numpy") else text
    return text.decode("utf-8") if isinstance(text, bytes) else str(text)


def _until_pad(ids) -> list[int]:
    ids = [int(t) for t in ids]
    return ids[: ids.index(PAD_ID, 1)] if PAD_ID in ids[1:] else ids


def distinct_ratio(token_ids, n: int = 2) -> float:
    """Distinct token n-grams / all n-grams of one generated sequence: low means it repeats itself."""
    return distinct_ngram_ratio(tuple(_until_pad(token_ids)), n)


def mean_log_prob(model: keras.Model, token_ids) -> float:
    """The model's mean log-probability per generated token (after ``[BOS]``, up to the first ``[PAD]``)."""
    ids = np.asarray(_until_pad(token_ids), dtype="int32")[None, :]
    if ids.shape[1] < 2:
        return float("nan")
    log_p = log_softmax(ops.convert_to_numpy(model(ids, training=False)).astype("float64")[0, :-1])
    return float(log_p[np.arange(len(log_p)), ids[0, 1:]].mean())


def topk_sample_table(model: keras.Model, tokenizer, num_tokens: int = 40, k: int = 10,
                      temperatures=(1.0,), seed: int | None = None):
    """An epoch-end callback (:class:`~textgen_utils.training.SampleTable`) showing top-k samples from ``[BOS]``."""
    import keras_hub

    from textgen_utils.training import SampleTable

    def sample(temperature: float) -> str:
        sampler = keras_hub.samplers.TopKSampler(k=k, temperature=temperature, seed=seed)
        return to_text(tokenizer, generate(model, sampler, num_tokens)[0])

    return SampleTable(sample, temperatures=temperatures)
