"""A miniature GPT with KerasHub (lesson 05): settings, vocabulary, tokenizer, model, perplexity.

The pieces, in the order the lesson uses them:

* :class:`Settings` and :func:`settings` - the seed's sizes (full) or tiny ones (smoke).
* :func:`wordpiece_vocabulary` - a WordPiece vocabulary learned from the training
  lines, cached on disk (keyed by the corpus and the settings) and built with a
  progress bar.
* :func:`make_tokenizer`, :func:`make_packer`, :func:`make_preprocess` - text to
  (features, labels): features start with ``[BOS]``, labels are the tokens.
* :func:`build_model`, :func:`compile_model` - token and position embedding,
  ``TransformerDecoder`` blocks, a ``Dense`` layer over the vocabulary; loss and
  perplexity.
* :func:`parameter_table`, :func:`unigram_perplexity` - where the parameters sit;
  the perplexity a model that ignores context would reach.

Generation (the key/value cache and the samplers) is in :mod:`textgen_utils.minigpt_generate`.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import keras
import numpy as np

from textgen_utils.errors import bilingual
from textgen_utils.runtime import pick

# KerasHub's layers consume the padding mask themselves; Keras still warns that
# sublayers "destroy" it. The warning is harmless and confusing for learners.
warnings.filterwarnings("ignore", message=r"Layer '.*' \(of type .*\) was passed an input with a mask attached")
# Our text datasets are finite with an unknown length; Keras warns at the end of every epoch.
warnings.filterwarnings("ignore", message=r"Your input ran out of data")

RESERVED_TOKENS = ("[PAD]", "[UNK]", "[BOS]")
PAD_ID, UNK_ID, BOS_ID = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of the data pipeline, the model and the training run."""

    batch_size: int = 64
    seq_len: int = 128
    min_training_seq_len: int = 450
    embed_dim: int = 256
    feed_forward_dim: int = 256
    num_heads: int = 3
    num_layers: int = 2
    vocab_size: int = 5000  # the largest vocabulary we ask for; limits the parameters
    epochs: int = 6


#: The seed's settings, trained on a GPU in full mode.
SEED_SETTINGS = Settings()
#: Tiny settings for the smoke corpus: seconds on a CPU.
SMOKE_SETTINGS = Settings(batch_size=32, seq_len=64, embed_dim=64, feed_forward_dim=128, num_heads=2, epochs=3)


def settings() -> Settings:
    """The settings of this run mode (the seed's in full mode; one epoch while nbgrader grades)."""
    return pick(SEED_SETTINGS, SMOKE_SETTINGS, grading=dataclasses.replace(SMOKE_SETTINGS, epochs=1))


# --- vocabulary -----------------------------------------------------------------------


def count_lines(path: str | Path, min_length: int) -> tuple[int, int]:
    """(all lines, lines longer than ``min_length`` characters) of a text file."""
    total = kept = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            total += 1
            kept += len(line.rstrip("\r\n")) > min_length
    return total, kept


def _learn_vocabulary(train_file: Path, vocab_size: int, min_length: int, lowercase: bool) -> list[str]:
    import keras_hub
    import tensorflow as tf
    from tqdm.auto import tqdm

    from textgen_utils.datasets.simplebooks import text_lines

    bar = tqdm(total=count_lines(train_file, min_length)[1], unit="line",
               desc="WordPiece 어휘 / vocabulary", mininterval=0.5)

    def advance(batch):
        bar.update(len(batch))
        return batch

    def with_progress(batch):  # passes the batch through Python to move the bar
        out = tf.py_function(advance, [batch], tf.string)
        out.set_shape(batch.shape)
        return out

    lines = text_lines(train_file, min_length).batch(1024).map(with_progress)
    try:
        vocab = keras_hub.tokenizers.compute_word_piece_vocabulary(
            lines, vocabulary_size=vocab_size, lowercase=lowercase, reserved_tokens=list(RESERVED_TOKENS)
        )
    finally:
        bar.close()
    return list(vocab)


def wordpiece_vocabulary(train_file: str | Path, vocab_size: int = 5000, min_length: int = 450,
                         lowercase: bool = True) -> list[str]:
    """A WordPiece vocabulary of at most ``vocab_size`` pieces, learned from the training lines.

    Only lines longer than ``min_length`` characters count (those the model trains on).
    ``[PAD]``, ``[UNK]`` and ``[BOS]`` come first (ids 0, 1, 2). The result is cached
    on disk, keyed by the file (path, size, modification time) and the arguments, so
    only the first run pays for counting the corpus.
    """
    from textgen_utils.cache import cached_json, fingerprint

    train_file = Path(train_file)
    if not train_file.is_file():
        raise FileNotFoundError(
            bilingual(f"학습 파일이 없습니다: {train_file}. load_simplebooks()가 돌려준 train_file을 넘기세요.",
                      f"No training file at {train_file}. Pass the train_file that load_simplebooks() returns.")
        )
    if int(vocab_size) <= len(RESERVED_TOKENS):
        raise ValueError(bilingual(f"vocab_size는 {len(RESERVED_TOKENS)}보다 커야 합니다 (받은 값: {vocab_size}).",
                                   f"vocab_size must exceed {len(RESERVED_TOKENS)} (got {vocab_size})."))
    key = fingerprint(train_file, int(vocab_size), int(min_length), bool(lowercase), RESERVED_TOKENS)
    return cached_json("wordpiece", key,
                       lambda: _learn_vocabulary(train_file, int(vocab_size), int(min_length), bool(lowercase)))


def smoke_vocabulary() -> list[str]:
    """The vocabulary of the smoke corpus' training lines: small, and the same in every run mode.

    The lesson uses it to show how WordPiece splits words it has not seen.
    """
    import keras_hub
    import tensorflow as tf

    from textgen_utils.datasets import simplebooks

    text = simplebooks.smoke_split(0, **simplebooks.SMOKE_SIZES["train"])
    lines = [line for line in text.splitlines() if len(line) > simplebooks.MIN_TRAINING_SEQ_LEN]
    vocab = keras_hub.tokenizers.compute_word_piece_vocabulary(
        tf.data.Dataset.from_tensor_slices(lines).batch(64), vocabulary_size=5000, lowercase=True,
        reserved_tokens=list(RESERVED_TOKENS),
    )
    return list(vocab)


# --- tokenizer and preprocessing ------------------------------------------------------


def make_tokenizer(vocab: list[str], seq_len: int):
    """A lowercasing WordPiece tokenizer that pads or truncates to ``seq_len`` tokens."""
    import keras_hub

    if list(vocab[: len(RESERVED_TOKENS)]) != list(RESERVED_TOKENS):
        raise ValueError(
            bilingual(f"어휘의 처음 세 조각은 {list(RESERVED_TOKENS)}이어야 합니다 (받은 값: {list(vocab[:3])}).",
                      f"The vocabulary must start with {list(RESERVED_TOKENS)} (got {list(vocab[:3])}).")
        )
    return keras_hub.tokenizers.WordPieceTokenizer(vocabulary=list(vocab), sequence_length=seq_len,
                                                   lowercase=True, oov_token="[UNK]")


def make_packer(tokenizer, seq_len: int):
    """Puts ``[BOS]`` in front of the tokens and keeps ``seq_len`` of them."""
    import keras_hub

    return keras_hub.layers.StartEndPacker(sequence_length=seq_len, start_value=tokenizer.token_to_id("[BOS]"))


def make_preprocess(tokenizer, packer):
    """The reference ``preprocess(text) -> (features, labels)``.

    ``labels`` are the tokens; ``features`` are the same tokens one step later,
    behind ``[BOS]``: at position i the model sees labels[:i] and must predict labels[i].
    """

    def preprocess(inputs):
        labels = tokenizer(inputs)
        features = packer(labels)
        return features, labels

    return preprocess


def tokenized(raw, preprocess):
    """Map ``preprocess`` over a dataset of text batches, in parallel, with prefetching."""
    import tensorflow as tf

    return raw.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# --- model ----------------------------------------------------------------------------


def build_model(vocab_size: int, s: Settings | None = None) -> keras.Model:
    """Embedding (token + position, ``mask_zero``), ``num_layers`` decoder blocks, logits over the vocabulary."""
    import keras_hub

    s = s or settings()
    if s.embed_dim // s.num_heads == 0:
        raise ValueError(bilingual(f"embed_dim({s.embed_dim})가 num_heads({s.num_heads})보다 작습니다.",
                                   f"embed_dim ({s.embed_dim}) is smaller than num_heads ({s.num_heads})."))
    inputs = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        vocabulary_size=vocab_size, sequence_length=s.seq_len, embedding_dim=s.embed_dim, mask_zero=True,
        name="embedding",
    )(inputs)
    for i in range(s.num_layers):
        # called with one input: a decoder-only block (causal self-attention, no cross-attention)
        x = keras_hub.layers.TransformerDecoder(num_heads=s.num_heads, intermediate_dim=s.feed_forward_dim,
                                                name=f"decoder_{i}")(x)
    # float32 logits even under mixed precision: a softmax over 5000 entries needs the range
    outputs = keras.layers.Dense(vocab_size, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="mini_gpt")


def accelerator_speedups(strategy=None, verbose: bool = True) -> bool:
    """Mixed precision on a GPU (float16) or TPU (bfloat16); returns whether to ``jit_compile`` (XLA).

    Call it before building the model: the precision policy applies to layers made afterwards.
    On a CPU it keeps float32 and returns False.
    """
    import tensorflow as tf

    tpu = strategy is not None and isinstance(strategy, tf.distribute.TPUStrategy)
    gpu = bool(tf.config.list_physical_devices("GPU"))
    policy = "mixed_bfloat16" if tpu else "mixed_float16" if gpu else "float32"
    keras.mixed_precision.set_global_policy(policy)
    if verbose:
        print(f"precision policy: {policy}, jit_compile (XLA): {gpu or tpu}")
    return gpu or tpu


def perplexity_metric():
    """Perplexity over the non-padding labels, from logits."""
    import keras_hub

    return keras_hub.metrics.Perplexity(from_logits=True, mask_token_id=PAD_ID, name="perplexity")


def compile_model(model: keras.Model, jit_compile: bool = False, learning_rate: float = 1e-3) -> keras.Model:
    """Adam, sparse cross-entropy on logits and perplexity; ``jit_compile`` (XLA) on accelerators."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[perplexity_metric()],
        jit_compile=bool(jit_compile),
    )
    return model


def parameter_table(model: keras.Model):
    """One row per top-level layer: its parameters and their share of the total (pandas)."""
    import pandas as pd

    rows = [(layer.name, type(layer).__name__, layer.count_params()) for layer in model.layers if layer.weights]
    frame = pd.DataFrame(rows, columns=["layer", "type", "parameters"])
    frame["share %"] = (100 * frame["parameters"] / frame["parameters"].sum()).round(1)
    return frame


# --- baselines ------------------------------------------------------------------------


def _label_counts(dataset, vocab_size: int, max_batches: int | None) -> np.ndarray:
    counts = np.zeros(vocab_size, dtype=np.int64)
    for i, (_, labels) in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        ids = np.asarray(labels).ravel()
        counts += np.bincount(ids[ids != PAD_ID], minlength=vocab_size)[:vocab_size]
    return counts


def unigram_perplexity(train, valid, vocab_size: int, max_batches: int | None = None) -> float:
    """Validation perplexity of the best context-free model: token frequencies of ``train``.

    Both datasets yield (features, labels). ``[PAD]`` labels are ignored, as the
    perplexity metric ignores them; add-one smoothing keeps unseen tokens finite.
    """
    train_counts = _label_counts(train, vocab_size, max_batches) + 1
    log_p = np.log(train_counts / train_counts.sum())
    valid_counts = _label_counts(valid, vocab_size, max_batches)
    if valid_counts.sum() == 0:
        raise ValueError(bilingual("검증 데이터에 토큰이 없습니다.", "The validation data holds no tokens."))
    return float(math.exp(-(valid_counts * log_p).sum() / valid_counts.sum()))
