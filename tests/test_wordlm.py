"""Word-level LM helpers: the vocabulary cache, the LM shift, the sampling position, the generators."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from textgen_utils import wordlm
from textgen_utils.transformer import build_word_lm

SENTENCE = "this movie is a very good film and i liked the story"


def vectorizer_for(words, window=16):
    layer = keras.layers.TextVectorization(max_tokens=len(words) + 2, output_sequence_length=window)
    layer.set_vocabulary(["", "[UNK]", *words])
    return layer


@pytest.fixture(scope="module")
def vectorizer():
    return vectorizer_for(SENTENCE.split())


def texts(lines, batch=2):
    return tf.data.Dataset.from_tensor_slices(lines).batch(batch)


# --- vocabulary ------------------------------------------------------------------------


LINES = ["The cat sat.", "The dog sat, the cat ran!", "A cat; a dog.", "the end"]


def test_vocabulary_is_the_one_adapt_builds():
    reference = keras.layers.TextVectorization(max_tokens=6, output_sequence_length=5)
    reference.adapt(texts(LINES))
    ours = wordlm.make_vectorizer(texts(LINES), vocab_size=6, sequence_length=5, progress=False)
    assert ours.get_vocabulary() == reference.get_vocabulary()
    np.testing.assert_array_equal(ours(["the cat ran away"]), reference(["the cat ran away"]))


class NotIterable:
    def __iter__(self):
        raise AssertionError("the cached vocabulary should have been used")


def test_vocabulary_is_cached_by_data_and_settings(tmp_path, capsys):
    source = tmp_path / "reviews"
    source.mkdir()
    (source / "1.txt").write_text("x")
    first = wordlm.make_vectorizer(texts(LINES), 6, 5, source=[source], progress=False)
    capsys.readouterr()
    again = wordlm.make_vectorizer(NotIterable(), 6, 5, source=[source])
    assert again.get_vocabulary() == first.get_vocabulary()
    assert "from the cache" in capsys.readouterr().out, "a cache hit says so"
    # another sequence length reuses the vocabulary (it does not depend on it) ...
    assert wordlm.make_vectorizer(NotIterable(), 6, 9, source=[source], progress=False)(["cat"]).shape == (1, 9)
    # ... but another vocabulary size or changed data builds it again
    with pytest.raises(AssertionError, match="cached vocabulary"):
        wordlm.make_vectorizer(NotIterable(), 7, 5, source=[source], progress=False)
    (source / "2.txt").write_text("y")
    with pytest.raises(AssertionError, match="cached vocabulary"):
        wordlm.make_vectorizer(NotIterable(), 6, 5, source=[source], progress=False)


def test_bad_sizes_are_a_bilingual_error():
    with pytest.raises(ValueError, match="어휘 크기") as err:
        wordlm.make_vectorizer(texts(LINES), vocab_size=2, sequence_length=5)
    assert "vocab_size must be" in str(err.value)


# --- the LM dataset ----------------------------------------------------------------------


def test_prepare_lm_dataset_shifts_by_one_word(vectorizer):
    x, y = wordlm.prepare_lm_dataset(tf.constant([SENTENCE, "this movie"]), vectorizer)
    x, y = x.numpy(), y.numpy()
    assert x.shape == y.shape == (2, 15)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    full = vectorizer([SENTENCE]).numpy()[0]
    np.testing.assert_array_equal(x[0], full[:-1])
    np.testing.assert_array_equal(y[0], full[1:])


def test_lm_dataset_maps_every_batch(vectorizer):
    pairs = list(wordlm.lm_dataset(texts([SENTENCE] * 5, batch=2), vectorizer))
    assert [p[0].shape[0] for p in pairs] == [2, 2, 1]


# --- the right position -----------------------------------------------------------------


def seed_style_generate(model, vectorizer, prompt, steps):
    """The seed's loop, bug included: it reads position i instead of the last real token."""
    vocabulary = vectorizer.get_vocabulary()
    sentence = prompt
    for i in range(steps):
        predictions = model(vectorizer([sentence]).numpy())
        sentence += " " + vocabulary[int(np.argmax(predictions[0, i]))]
    return sentence


def test_generation_reads_the_last_real_token(vectorizer):
    ids = [int(i) for i in vectorizer([SENTENCE]).numpy()[0] if i]
    stand_in = wordlm.StandInModel.successor(ids, vectorizer.vocabulary_size(), confidence=50.0)
    ours = wordlm.generate_text_slow(stand_in, vectorizer, "this movie", 6, temperature=0.1, rng=0)
    assert ours == "this movie is a very good film and"
    # the same stand-in exposes the seed's off-by-one: it stutters like the seed's samples
    assert seed_style_generate(stand_in, vectorizer, "this movie", 6) == "this movie movie is is a a very"


def test_sample_next_word_uses_the_last_real_token_and_the_temperature():
    table = np.full((5, 5), -30.0)
    table[1, 2] = 5.0  # after token 1 -> token 2
    table[3, :] = [-30.0, np.log(0.6), np.log(0.3), np.log(0.1), -30.0]  # after token 3: a spread
    stand_in = wordlm.StandInModel(table)
    assert wordlm.sample_next_word(stand_in, [3, 1, 0, 0], 1.0, rng=0) == 2
    rng = np.random.default_rng(0)
    draws = np.array([wordlm.sample_next_word(stand_in, [1, 3, 0], 0.5, rng) for _ in range(3000)])
    expected = np.array([0.6, 0.3, 0.1]) ** 2
    expected /= expected.sum()
    np.testing.assert_allclose(np.bincount(draws, minlength=5)[1:4] / 3000, expected, atol=0.03)


def test_sample_next_word_needs_a_real_token():
    stand_in = wordlm.StandInModel(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="real token"):
        wordlm.sample_next_word(stand_in, [0, 0, 0])


def test_stand_in_model_checks_its_table():
    with pytest.raises(ValueError, match="vocab, vocab"):
        wordlm.StandInModel(np.zeros((3, 4)))


# --- the compiled generator ----------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(7)
    return build_word_lm(60, 16, embed_dim=16, ff_dim=32, num_heads=2)


def test_fast_and_slow_generators_agree_at_a_tiny_temperature(small_model):
    words = [f"w{i}" for i in range(58)]
    vec = vectorizer_for(words)
    gen = wordlm.WordGenerator(small_model, vec)
    fast = gen("w3 w10 w7", 10, temperature=1e-5, seed=1)
    slow = wordlm.generate_text_slow(small_model, vec, "w3 w10 w7", 10, temperature=1e-5, rng=1)
    assert fast == slow
    assert len(fast.split()) == 13


def test_prompts_of_different_lengths_in_one_batch(small_model):
    gen = wordlm.WordGenerator(small_model)
    alone = [gen.ids(p, 6, 1e-5, seed=0) for p in ([4, 5], [9, 8, 7, 6, 5])]
    assert gen.ids([[4, 5], [9, 8, 7, 6, 5]], 6, 1e-5, seed=0) == alone
    assert [len(a) for a in alone] == [8, 11]


def test_the_same_seed_gives_the_same_words(small_model):
    gen = wordlm.WordGenerator(small_model)
    assert gen.ids([4, 5], 12, 1.0, seed=3) == gen.ids([4, 5], 12, 1.0, seed=3)
    assert gen.ids([4, 5], 12, 1.0, seed=3) != gen.ids([4, 5], 12, 1.0, seed=4)
    np.random.seed(0)
    first = gen.ids([4, 5], 12, 1.0)
    np.random.seed(0)
    assert gen.ids([4, 5], 12, 1.0) == first, "without a seed it follows numpy's seeded generator"


def test_padding_is_never_generated(small_model):
    gen = wordlm.WordGenerator(small_model)
    ids = gen.ids([[4, 5]] * 8, 14, temperature=50.0, seed=0)
    assert all(0 not in row for row in ids)


def test_generator_errors_are_bilingual(small_model, vectorizer):
    gen = wordlm.WordGenerator(small_model)
    with pytest.raises(ValueError, match="창") as err:
        gen.ids([4, 5], 15)
    assert "window of 16" in str(err.value)
    with pytest.raises(ValueError, match="패딩"):
        gen.ids([4, 0, 5], 3)
    with pytest.raises(ValueError, match="no word"):
        gen.ids([], 3)
    with pytest.raises(ValueError, match="temperature"):
        gen.ids([4, 5], 3, temperature=0)
    with pytest.raises(ValueError, match="vectorizer"):
        gen("this movie", 3)
    with pytest.raises(ValueError, match="build_word_lm"):
        wordlm.WordGenerator(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="no word"):
        wordlm.generate_text_slow(small_model, vectorizer, "", 3)


def test_generator_follows_the_weights_as_they_train():
    keras.utils.set_random_seed(1)
    model = build_word_lm(20, 8, 8, 16, 2)
    gen = wordlm.WordGenerator(model)
    x = np.tile(np.arange(3, 10), (480, 1))  # 3 4 5 6 7 8 9: the next token is always +1
    model.fit(x, np.roll(x, -1, axis=1), epochs=1, batch_size=8, verbose=0)
    assert gen.ids([3, 4], 4, temperature=1e-3, seed=0) == [3, 4, 5, 6, 7, 8]


def test_xla_generator_matches_the_plain_one(small_model):
    # XLA draws other random numbers for the same seed, so compare the most likely words
    plain = wordlm.WordGenerator(small_model).ids([4, 5, 6], 8, 1e-5, seed=2)
    assert wordlm.WordGenerator(small_model, jit_compile=True).ids([4, 5, 6], 8, 1e-5, seed=2) == plain
