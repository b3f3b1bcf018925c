"""GPT-2 for lesson 04: the real KerasHub presets in full mode, a tiny local preset in smoke mode.

:func:`load_gpt2` always ends in the same call, ``keras_hub.models.GPT2CausalLM.from_preset(preset)``:

* **full** mode: ``preset`` is a KerasHub preset name (``gpt2_base_en`` ... ``gpt2_extra_large_en``),
  downloaded once into Keras' cache. A folder ``$TEXTGEN_DATA_DIR/<name>`` with a saved preset
  is used instead when it exists (a classroom without internet).
* **smoke** mode: ``preset`` is a folder with a tiny GPT-2 (random weights, a byte-level BPE
  vocabulary of a few hundred tokens learned from generated sentences) that
  :func:`build_smoke_preset` writes with KerasHub's own ``save_to_preset``. Nothing is downloaded.
  Its text is gibberish: the weights are random.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import tempfile
from pathlib import Path

from textgen_utils.errors import CourseError, bilingual
from textgen_utils.runtime import DATA_DIR_VARIABLE, data_dir, is_smoke

PRESETS = ("gpt2_base_en", "gpt2_medium_en", "gpt2_large_en", "gpt2_extra_large_en")
SMOKE_PRESET = "gpt2_tiny_smoke"
SMOKE_VERSION = "1"  # bump when the smoke model changes, so cached copies are rebuilt
SMOKE_SIZES = dict(num_layers=2, num_heads=4, hidden_dim=64, intermediate_dim=256, max_sequence_length=256)
SMOKE_MERGES = 300

TRANSFORMERS_PROMPT = "Transformers are the"
UNICORN_PROMPT = (
    "In a shocking finding, scientist discovered a herd of unicorns living in a remote, previously "
    "unexplored valley, in the Andes Mountains. Even more surprising to the researchers was the fact "
    "that the unicorns spoke perfect English.\n\n"
)

# --- a tiny byte-level BPE ------------------------------------------------------------------


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's map from the 256 byte values to printable characters (a space becomes 'Ġ')."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = list(printable), 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


_WORDS = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+")


def train_byte_bpe(text: str, num_merges: int) -> tuple[dict[str, int], list[str]]:
    """Learn ``num_merges`` GPT-2-style merges from ``text``; return (vocabulary, merges).

    The vocabulary holds the 256 byte symbols, one token per merge, then ``<|endoftext|>``,
    so every string stays encodable.
    """
    byte_char = bytes_to_unicode()
    words = collections.Counter(tuple(byte_char[b] for b in w.encode("utf-8")) for w in _WORDS.findall(text))
    vocab, merges = [byte_char[b] for b in range(256)], []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        a, b = max(pairs, key=lambda pair: (pairs[pair], pair))  # most frequent; ties broken by the symbols
        merges.append(f"{a} {b}")
        vocab.append(a + b)
        merged = collections.Counter()
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if word[i:i + 2] == (a, b):
                    out.append(a + b)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] += count
        words = merged
    vocab.append("<|endoftext|>")
    return {token: i for i, token in enumerate(vocab)}, merges


# --- the smoke preset ------------------------------------------------------------------------


def smoke_text() -> str:
    """The text the smoke tokenizer learns its merges from: generated sentences and the lesson's prompts."""
    from textgen_utils.smoke import story_sentences

    return " ".join(story_sentences(300, seed=4)) + " " + TRANSFORMERS_PROMPT + " " + UNICORN_PROMPT


def build_smoke_preset(path: str | Path, seed: int = 0) -> Path:
    """Write a tiny random GPT-2 preset folder at ``path`` with KerasHub's ``save_to_preset``.

    Random, but not at the default scale: with GPT-2's small initial weights every next-token
    distribution is nearly uniform, and with large tied embeddings the model only repeats its
    input. Embeddings with logits of standard deviation ~3 and blocks with gain 3 give peaked,
    context-dependent distributions (entropy ~3 nats), so the decoding strategies differ visibly.
    """
    import keras
    import keras_hub
    import numpy as np

    vocab, merges = train_byte_bpe(smoke_text(), SMOKE_MERGES)
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=vocab, merges=merges)
    preprocessor = keras_hub.models.GPT2CausalLMPreprocessor(tokenizer, sequence_length=64)
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.GPT2Backbone(vocabulary_size=len(vocab), **SMOKE_SIZES)
    rng, dim = np.random.default_rng(seed), SMOKE_SIZES["hidden_dim"]

    def normal(std, shape):
        return rng.normal(0.0, std, size=shape).astype("float32")

    # The final hidden state is layer-normed (|h|^2 ~ dim): embeddings of std 3/sqrt(dim) give logits of std ~3.
    backbone.token_embedding.embeddings.assign(normal(3.0 / np.sqrt(dim), (len(vocab), dim)))
    backbone.position_embedding.position_embeddings.assign(
        normal(1.0 / np.sqrt(dim), (SMOKE_SIZES["max_sequence_length"], dim)))
    for layer in backbone.transformer_layers:
        for weight in layer.weights:
            if "kernel" in weight.path:
                weight.assign(normal(3.0 / np.sqrt(weight.shape[0]), weight.shape))
    causal_lm = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=preprocessor)
    path = Path(path)
    causal_lm.save_to_preset(str(path))
    return path


def smoke_preset() -> Path:
    """The smoke preset folder under ``$KERAS_HOME/textgen-smoke`` (built on first use)."""
    root = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "textgen-smoke"
    folder = root / f"{SMOKE_PRESET}-v{SMOKE_VERSION}"
    if not (folder / "config.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=".building-"))
        build_smoke_preset(tmp / "preset")
        try:
            (tmp / "preset").rename(folder)  # atomic: a half-built preset is never used
        except OSError:  # another process finished first
            pass
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


# --- loading -----------------------------------------------------------------------------------


def preset_for(name: str = "gpt2_base_en") -> str:
    """What ``from_preset`` receives for ``name`` in the current mode (a name or a folder)."""
    if name not in PRESETS:
        raise ValueError(bilingual(f"알 수 없는 GPT-2 크기입니다: {name!r}. 고를 수 있는 것: {', '.join(PRESETS)}",
                                   f"Unknown GPT-2 size {name!r}; choose one of {', '.join(PRESETS)}."))
    if is_smoke():
        return str(smoke_preset())
    local = data_dir() / name if data_dir() is not None else None
    if local is not None and (local / "config.json").is_file():
        return str(local)
    return name


def load_gpt2(name: str = "gpt2_base_en"):
    """``GPT2CausalLM.from_preset`` for ``name`` (the tiny local preset in smoke mode)."""
    import keras_hub

    preset = preset_for(name)
    try:
        return keras_hub.models.GPT2CausalLM.from_preset(preset)
    except Exception as exc:  # no internet, a full disk, a corrupt download
        raise CourseError(
            f"GPT-2 프리셋 '{preset}'을(를) 불러오지 못했습니다. 인터넷 연결을 확인하거나, 다른 컴퓨터에서 "
            f"GPT2CausalLM.from_preset('{name}').save_to_preset(폴더)로 저장한 폴더를 "
            f"{DATA_DIR_VARIABLE}/{name}에 두세요.",
            f"Cannot load the GPT-2 preset '{preset}'. Check the internet connection, or save it elsewhere with "
            f"GPT2CausalLM.from_preset('{name}').save_to_preset(folder) and put that folder at "
            f"{DATA_DIR_VARIABLE}/{name}.",
            detail=f"({type(exc).__name__}: {exc})",
        ) from exc


def encode(causal_lm, text: str):
    """Token ids of ``text`` (no ``<|endoftext|>`` in front, unlike ``generate``)."""
    import numpy as np

    return np.asarray(causal_lm.preprocessor.tokenizer(text), dtype=np.int64)


def decode(causal_lm, ids) -> str:
    """The text of ``ids``."""
    import numpy as np

    out = causal_lm.preprocessor.tokenizer.detokenize(np.asarray(ids, dtype=np.int32))
    return out.numpy().decode("utf-8", errors="replace") if hasattr(out, "numpy") else str(out)
