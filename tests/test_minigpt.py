"""Lesson 05's package code: SimpleBooks loader, vocabulary cache, preprocessing, model, cached generation."""

import zipfile

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from textgen_utils import minigpt
from textgen_utils import minigpt_generate as gen
from textgen_utils.datasets import DatasetError, load_simplebooks, simplebooks

TINY = minigpt.Settings(batch_size=4, seq_len=24, embed_dim=32, feed_forward_dim=32, num_heads=2, num_layers=2)


def _bilingual(message: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in message) and any(ch.isascii() and ch.isalpha() for ch in message)


# --- data --------------------------------------------------------------------------------


def test_smoke_zip_has_the_real_layout_and_lines_the_filter_must_drop(tmp_path):
    path = tmp_path / "simplebooks.zip"
    simplebooks.build_smoke_zip(path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        train = zf.read("simplebooks/simplebooks-92-raw/train.txt").decode("utf-8")
    for split in ("train", "valid", "test"):
        assert f"simplebooks/simplebooks-92-raw/{split}.txt" in names
    lengths = [len(line) for line in train.splitlines()]
    long = sum(n > 450 for n in lengths)
    assert long >= 200, "enough paragraphs to train on"
    assert len(lengths) - long >= 300, "titles, blank and short lines that the filter must drop"
    assert "By" in train.splitlines()[:5], "a book starts with its title and author"


def test_load_simplebooks_keeps_only_lines_longer_than_the_minimum_and_batches_them():
    books = load_simplebooks(batch_size=16, seed=0)
    total, kept = minigpt.count_lines(books.train_file, simplebooks.MIN_TRAINING_SEQ_LEN)
    batches = list(books.train)
    lines = [line.decode("utf-8") for batch in batches for line in batch.numpy()]
    assert len(lines) == kept < total
    assert all(len(line) > simplebooks.MIN_TRAINING_SEQ_LEN for line in lines)
    assert max(b.shape[0] for b in batches) == 16
    with open(books.train_file, encoding="utf-8") as f:
        in_file_order = [line.rstrip("\n") for line in f if len(line.rstrip("\n")) > 450]
    assert sorted(lines) == sorted(in_file_order) and lines != in_file_order, "all lines, shuffled"
    valid = [line.decode() for batch in books.valid for line in batch.numpy()]
    assert valid and all(len(line) > 450 for line in valid)


def test_a_second_load_reuses_the_extracted_folder():
    first = load_simplebooks(batch_size=8).train_file
    stamp = first.stat().st_mtime_ns
    second = load_simplebooks(batch_size=8).train_file
    assert second == first and second.stat().st_mtime_ns == stamp


def test_bad_loader_arguments_are_bilingual_errors():
    with pytest.raises(ValueError) as err:
        load_simplebooks(batch_size=0)
    assert _bilingual(str(err.value))


def test_an_archive_without_simplebooks_92_is_a_clear_error(monkeypatch, tmp_path):
    root = tmp_path / "extracted"
    (root / "simplebooks" / "other").mkdir(parents=True)
    monkeypatch.setattr(simplebooks, "fetch", lambda *a, **k: root)
    with pytest.raises(DatasetError) as err:
        simplebooks.simplebooks_folder()
    assert "simplebooks-92-raw/train.txt" in str(err.value) and _bilingual(str(err.value))


# --- vocabulary --------------------------------------------------------------------------


def test_vocabulary_starts_with_the_reserved_tokens_and_is_cached(monkeypatch, capsys):
    train_file = load_simplebooks(batch_size=8).train_file
    vocab = minigpt.wordpiece_vocabulary(train_file, 300, 450)
    assert vocab[:3] == ["[PAD]", "[UNK]", "[BOS]"]
    assert 50 < len(vocab) <= 300 and len(set(vocab)) == len(vocab)
    assert "WordPiece" in capsys.readouterr().err, "progress bar while it builds"

    def fail(*args):
        raise AssertionError("the cached vocabulary must be reused")

    monkeypatch.setattr(minigpt, "_learn_vocabulary", fail)
    assert minigpt.wordpiece_vocabulary(train_file, 300, 450) == vocab
    with pytest.raises(AssertionError, match="cached vocabulary"):  # other settings: a new key
        minigpt.wordpiece_vocabulary(train_file, 100, 450)


def test_vocabulary_errors_are_bilingual(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        minigpt.wordpiece_vocabulary(tmp_path / "missing.txt")
    assert _bilingual(str(err.value))
    with pytest.raises(ValueError) as err:
        minigpt.wordpiece_vocabulary(load_simplebooks(batch_size=8).train_file, vocab_size=3)
    assert _bilingual(str(err.value))
    with pytest.raises(ValueError) as err:
        minigpt.make_tokenizer(["a", "b", "[PAD]"], 8)
    assert _bilingual(str(err.value))


# --- preprocessing -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_vocab():
    return minigpt.smoke_vocabulary()


def test_preprocess_puts_bos_in_front_and_keeps_the_tokens_as_labels(small_vocab):
    tokenizer = minigpt.make_tokenizer(small_vocab, 10)
    preprocess = minigpt.make_preprocess(tokenizer, minigpt.make_packer(tokenizer, 10))
    features, labels = (np.asarray(t) for t in preprocess(tf.constant(["The OLD king smiled.", " ".join(["the dog"] * 20)])))
    assert features.shape == labels.shape == (2, 10)
    assert [small_vocab[i] for i in labels[0, :5]] == ["the", "old", "king", "smiled", "."]
    assert (labels[0, 5:] == minigpt.PAD_ID).all() and (features[0, 6:] == minigpt.PAD_ID).all()
    assert (features[:, 0] == minigpt.BOS_ID).all() and (features[:, 1:] == labels[:, :-1]).all()
    assert (labels[1] != minigpt.PAD_ID).all(), "long text is cut to the sequence length"


# --- model -------------------------------------------------------------------------------


def test_the_seed_architecture_has_most_parameters_in_embedding_and_output():
    model = minigpt.build_model(5000, minigpt.SEED_SETTINGS)
    table = minigpt.parameter_table(model)
    assert model.count_params() == 3_387_266
    assert list(table["layer"]) == ["embedding", "decoder_0", "decoder_1", "logits"]
    ends = table.set_index("layer").loc[["embedding", "logits"], "parameters"].sum()
    assert ends / table["parameters"].sum() > 0.75
    assert abs(table["share %"].sum() - 100) < 0.5


def test_loss_and_perplexity_ignore_padding():
    model = minigpt.compile_model(minigpt.build_model(30, TINY))
    rng = np.random.default_rng(0)
    labels = rng.integers(3, 30, size=(4, TINY.seq_len)).astype("int32")
    labels[:, 10:] = 0
    features = np.concatenate([np.full((4, 1), minigpt.BOS_ID), labels[:, :-1]], axis=1).astype("int32")
    logits = keras.ops.convert_to_numpy(model(features))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_p, labels[..., None], -1)[..., 0]
    result = model.evaluate(features, labels, verbose=0, return_dict=True)
    assert np.isclose(result["perplexity"], np.exp(nll[:, :10].mean()), rtol=1e-4)


def test_unigram_perplexity_of_a_tiny_corpus():
    data = tf.data.Dataset.from_tensors((np.zeros((1, 4), "int32"), np.array([[3, 3, 4, 0]], "int32")))
    # counts with add-one smoothing over 5 ids: [1, 1, 1, 3, 2] / 8; validation = training tokens
    expected = np.exp(-(2 * np.log(3 / 8) + np.log(2 / 8)) / 3)
    assert np.isclose(minigpt.unigram_perplexity(data, data, 5), expected)


# --- cached generation -------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(1)
    return minigpt.build_model(40, TINY)


def test_cached_and_uncached_logits_agree(model):
    rng = np.random.default_rng(3)
    prompt = rng.integers(3, 40, size=(3, TINY.seq_len)).astype("int32")
    full = keras.ops.convert_to_numpy(model(prompt))
    cache = gen.empty_cache(model, 3, TINY.seq_len)
    steps = []
    for i in range(TINY.seq_len):  # one token at a time, as generation runs
        logits, cache = gen.call_with_cache(model, prompt[:, i : i + 1], cache, i)
        steps.append(keras.ops.convert_to_numpy(logits)[:, 0])
    assert np.abs(np.stack(steps, axis=1) - full).max() < 1e-4
    cached, uncached = gen.cached_next(model), gen.uncached_next(model)
    for index in (1, 5, TINY.seq_len - 1):  # after a prefilled prompt
        a, _, _ = cached(prompt, gen.prefill(model, prompt, index), index)
        b, _, _ = uncached(prompt, None, index)
        assert np.abs(keras.ops.convert_to_numpy(a) - keras.ops.convert_to_numpy(b)).max() < 1e-4
    # several tokens at once, after others: each attends to the cache and to the new tokens before it
    _, cache = gen.call_with_cache(model, prompt[:, :5], gen.empty_cache(model, 3, TINY.seq_len), 0)
    logits, cache = gen.call_with_cache(model, prompt[:, 5:9], cache, 5)
    assert np.abs(keras.ops.convert_to_numpy(logits) - full[:, 5:9]).max() < 1e-4


SAMPLERS = {  # the samplers the lesson uses; the random ones with a seed, made afresh for each run
    "greedy": lambda: keras_hub.samplers.GreedySampler(),
    "beam": lambda: keras_hub.samplers.BeamSampler(num_beams=10),
    "random": lambda: keras_hub.samplers.RandomSampler(seed=5),
    "top_k": lambda: keras_hub.samplers.TopKSampler(k=10, seed=5),
    "top_p": lambda: keras_hub.samplers.TopPSampler(p=0.5, seed=5),
}


@pytest.mark.parametrize("make_sampler", SAMPLERS.values(), ids=SAMPLERS.keys())
def test_cached_and_uncached_generation_give_the_same_tokens(model, make_sampler):
    sampler = make_sampler()
    prompt = [minigpt.BOS_ID, 7, 9]
    cached = gen.generate(model, sampler, 12, prompt, batch_size=2)
    uncached = gen.generate(model, make_sampler(), 12, prompt, batch_size=2, cached=False)
    assert cached.shape == (2, 15) and (cached[:, :3] == prompt).all()
    assert np.array_equal(cached, uncached)


def test_generation_runs_inside_tf_function(model):
    prompt = gen.start_prompt([minigpt.BOS_ID], 10)
    run = tf.function(lambda p, c: keras_hub.samplers.GreedySampler()(gen.cached_next(model), p, cache=c, index=1),
                      jit_compile=True)
    out = run(tf.constant(prompt), gen.prefill(model, prompt, 1))
    assert np.array_equal(np.asarray(out), gen.generate(model, keras_hub.samplers.GreedySampler(), 10, cached=False))


def test_generation_errors_are_bilingual(model):
    with pytest.raises(ValueError) as err:
        gen.generate(model, keras_hub.samplers.GreedySampler(), TINY.seq_len)  # [BOS] + seq_len > seq_len
    assert _bilingual(str(err.value))
    with pytest.raises(ValueError) as err:
        gen.start_prompt([], 3)
    assert _bilingual(str(err.value))
    inputs = keras.Input((None,), dtype="int32")
    plain = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Embedding(10, 4)(inputs)))
    with pytest.raises(ValueError) as err:
        gen.cached_next(plain)(np.zeros((1, 4), "int32"), None, 1)
    assert "build_model" in str(err.value) and _bilingual(str(err.value))


def test_to_text_drops_bos_and_stops_at_the_first_pad(small_vocab):
    tokenizer = minigpt.make_tokenizer(small_vocab, 8)
    ids = np.asarray(tokenizer("the old king smiled")).tolist()[:4]
    row = [minigpt.BOS_ID, *ids, minigpt.PAD_ID, ids[0], ids[1]]
    assert gen.to_text(tokenizer, row) == "the old king smiled"
    assert gen.to_text(tokenizer, np.array([row, [minigpt.BOS_ID, 0, 0, 0, 0, 0, 0, 0]])) == ["the old king smiled", ""]
    assert gen.distinct_ratio([2, 5, 6, 5, 6, 5, 6, 0, 9]) == pytest.approx(3 / 6)


def test_the_smoke_archive_is_byte_identical_on_every_build(tmp_path, monkeypatch):
    import time

    monkeypatch.setattr(time, "time", lambda: 1_600_000_000.0)
    simplebooks.build_smoke_zip(tmp_path / "a.zip")
    monkeypatch.setattr(time, "time", lambda: 1_700_000_000.0)  # builds on another day
    simplebooks.build_smoke_zip(tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
