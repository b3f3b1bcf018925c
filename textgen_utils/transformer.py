"""A small decoder-only Transformer, written by hand (lesson 03).

* :func:`causal_attention_mask` - which positions each position may attend to.
* :class:`PositionalEmbedding` - token embedding plus a learned position embedding;
  its Keras mask marks the real (non-padding) tokens.
* :class:`DecoderBlock` - causal self-attention and a feed-forward network, each
  with a residual connection and layer normalisation. Besides the usual
  full-sequence ``call`` it has a key/value-cache path (:meth:`DecoderBlock.prefill`,
  :meth:`DecoderBlock.decode`) used for fast generation.
* :func:`build_word_lm` - the lesson's language model: embedding, one block, and a
  linear layer that gives a logit per vocabulary word at every position.

Both layers have ``get_config`` and are registered as Keras serializable, so a model
saved with ``model.save("lm.keras")`` reloads with ``keras.models.load_model``.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from textgen_utils.errors import bilingual

#: Added to the attention score of a masked position (exp of it is exactly 0 in float32).
MASKED_SCORE = -1e9


def causal_attention_mask(padding_mask):
    """Boolean attention mask of shape ``(batch, T, T)`` from a padding mask ``(batch, T)``.

    ``mask[b, i, j]`` is True when position ``i`` may attend to position ``j``:
    ``j`` is not in the future (``j <= i``) and ``j`` is a real token
    (``padding_mask[b, j]``). Padding positions are masked as *keys* only, so no
    row is ever fully masked.
    """
    padding_mask = ops.cast(padding_mask, "bool")
    length = ops.shape(padding_mask)[1]
    i = ops.expand_dims(ops.arange(length), 1)
    j = ops.expand_dims(ops.arange(length), 0)
    causal = ops.greater_equal(i, j)  # (T, T): lower triangle, diagonal included
    return ops.logical_and(ops.expand_dims(causal, 0), ops.expand_dims(padding_mask, 1))


@keras.saving.register_keras_serializable(package="textgen_utils")
class PositionalEmbedding(layers.Layer):
    """Token embedding plus a learned embedding of the position (0 .. sequence_length-1).

    Token id 0 is padding: the layer's Keras mask is ``token_ids != 0``.
    """

    def __init__(self, sequence_length: int, vocab_size: int, embed_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.vocab_size = int(vocab_size)
        self.embed_dim = int(embed_dim)
        self.token_embeddings = layers.Embedding(vocab_size, embed_dim, name="tokens")
        self.position_embeddings = layers.Embedding(sequence_length, embed_dim, name="positions")

    def build(self, input_shape=None):
        self.token_embeddings.build((None, None))
        self.position_embeddings.build((None, None))
        self.built = True

    def call(self, token_ids):
        return self.embed_at(token_ids, ops.arange(ops.shape(token_ids)[-1]))

    def embed_at(self, token_ids, positions):
        """Embed ``token_ids`` that sit at explicit ``positions`` (same shape): one step of generation."""
        return self.token_embeddings(token_ids) + self.position_embeddings(positions)

    def compute_mask(self, token_ids, mask=None):
        return ops.not_equal(token_ids, 0)

    def get_config(self):
        config = super().get_config()
        config.update(sequence_length=self.sequence_length, vocab_size=self.vocab_size, embed_dim=self.embed_dim)
        return config


@keras.saving.register_keras_serializable(package="textgen_utils")
class DecoderBlock(layers.Layer):
    """One decoder-only Transformer block (post-norm, like the original Transformer).

    ``h = LayerNorm(x + SelfAttention(x))`` with a causal and padding mask, then
    ``y = LayerNorm(h + FeedForward(h))``. There is no cross-attention: a language
    model has no encoder, so queries, keys and values all come from ``x``.
    """

    def __init__(self, embed_dim: int, ff_dim: int, num_heads: int, **kwargs):
        super().__init__(**kwargs)
        if embed_dim % num_heads:
            raise ValueError(
                bilingual(
                    f"embed_dim({embed_dim})는 num_heads({num_heads})로 나누어떨어져야 합니다.",
                    f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads}).",
                )
            )
        self.embed_dim, self.ff_dim, self.num_heads = int(embed_dim), int(ff_dim), int(num_heads)
        self.head_dim = embed_dim // num_heads
        # Queries, keys and values: one linear map each, split into heads afterwards.
        self.query = layers.Dense(embed_dim, name="query")
        self.key = layers.Dense(embed_dim, name="key")
        self.value = layers.Dense(embed_dim, name="value")
        self.attention_output = layers.Dense(embed_dim, name="attention_output")
        self.ff_hidden = layers.Dense(ff_dim, activation="relu", name="ff_hidden")
        self.ff_output = layers.Dense(embed_dim, name="ff_output")
        self.norm_attention = layers.LayerNormalization(epsilon=1e-5, name="norm_attention")
        self.norm_ff = layers.LayerNormalization(epsilon=1e-5, name="norm_ff")
        self.supports_masking = True

    def build(self, input_shape):
        seq = (None, None, self.embed_dim)
        for layer in (self.query, self.key, self.value, self.attention_output):
            layer.build(seq)
        self.ff_hidden.build(seq)
        self.ff_output.build((None, None, self.ff_dim))
        self.norm_attention.build(seq)
        self.norm_ff.build(seq)
        self.built = True

    # --- the pieces ---------------------------------------------------------------------

    def heads(self, x):
        """(batch, time, embed) -> (batch, heads, time, head_dim)."""
        batch, time = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (batch, time, self.num_heads, self.head_dim)), (0, 2, 1, 3))

    def attend(self, q, k, v, mask):
        """Scaled dot-product attention per head; ``mask`` (batch, T_query, T_key) is True where allowed.

        ``q`` is (batch, heads, T_query, head_dim), ``k`` and ``v`` (batch, heads, T_key, head_dim).
        Returns (batch, T_query, embed): the heads side by side.
        """
        scores = ops.einsum("bhtd,bhsd->bhts", q, k) * (1.0 / self.head_dim**0.5)
        scores = ops.where(ops.expand_dims(mask, 1), scores, MASKED_SCORE)
        weights = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True))  # softmax over the keys
        weights = weights / ops.sum(weights, axis=-1, keepdims=True)
        out = ops.einsum("bhts,bhsd->bhtd", weights, v)
        batch, time = ops.shape(out)[0], ops.shape(out)[2]
        return ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (batch, time, self.embed_dim))

    def finish(self, x, attended):
        """Output projection, then the two residual + layer-norm steps around the feed-forward net."""
        h = self.norm_attention(x + self.attention_output(attended))
        return self.norm_ff(h + self.ff_output(self.ff_hidden(h)))

    # --- full sequence (training) -------------------------------------------------------

    def call(self, x, mask=None):
        out, _, _ = self.prefill(x, mask)
        return out

    def prefill(self, x, mask=None):
        """The whole sequence at once; also returns its keys and values (the cache).

        The cache tensors are (batch, heads, time, head_dim).
        """
        if mask is None:
            mask = ops.ones(ops.shape(x)[:2], dtype="bool")
        k, v = self.heads(self.key(x)), self.heads(self.value(x))
        out = self.finish(x, self.attend(self.heads(self.query(x)), k, v, causal_attention_mask(mask)))
        return out, k, v

    # --- one new position (generation with a key/value cache) --------------------------

    def decode(self, x, k_cache, v_cache, position):
        """One new token per row: ``x`` (batch, 1, embed) sits at ``position`` (batch,).

        Its key and value are written into the caches (batch, heads, T, head_dim) at
        ``position``; the query attends to cache slots ``0 .. position`` only.
        Returns ``(output (batch, 1, embed), k_cache, v_cache)``.
        """
        length = ops.shape(k_cache)[2]
        slot = ops.one_hot(position, length, dtype=x.dtype)[:, None, :, None]  # (batch, 1, T, 1)
        k_cache = k_cache * (1.0 - slot) + self.heads(self.key(x)) * slot
        v_cache = v_cache * (1.0 - slot) + self.heads(self.value(x)) * slot
        allowed = ops.expand_dims(ops.arange(length), 0) <= ops.expand_dims(position, 1)  # (batch, T)
        out = self.finish(x, self.attend(self.heads(self.query(x)), k_cache, v_cache, ops.expand_dims(allowed, 1)))
        return out, k_cache, v_cache

    def get_config(self):
        config = super().get_config()
        config.update(embed_dim=self.embed_dim, ff_dim=self.ff_dim, num_heads=self.num_heads)
        return config


def build_word_lm(vocab_size: int, sequence_length: int, embed_dim: int = 256, ff_dim: int = 2048,
                  num_heads: int = 2, learning_rate: float = 1e-3) -> keras.Model:
    """The lesson's word-level language model, compiled with RMSprop.

    Input: token ids (batch, time), 0 = padding. Output: logits (batch, time,
    vocab_size); the softmax lives in the loss (``from_logits=True``) and in the
    samplers. The loss skips positions whose *input* is padding (the Keras mask).
    Layers are named ``embedding``, ``decoder`` and ``logits``; the generators
    in :mod:`textgen_utils.wordlm` find them by name.
    """
    inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = PositionalEmbedding(sequence_length, vocab_size, embed_dim, name="embedding")(inputs)
    x = DecoderBlock(embed_dim, ff_dim, num_heads, name="decoder")(x)
    logits = layers.Dense(vocab_size, name="logits")(x)
    model = keras.Model(inputs, logits, name="word_transformer_lm")
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model
