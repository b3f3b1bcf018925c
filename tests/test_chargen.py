"""Lesson 02's generators: the fast state-carrying generator agrees with the full-window
model, samples at the right temperature, and handles prompts like the book's loop."""

import keras
import numpy as np
import pytest

from textgen_utils import chargen, charlstm, sampling
from textgen_utils.charlstm import CharVocab

TEXT = "the will to truth is a will to power; every truth is a mask, and every mask a truth.\n"
MAXLEN = 40


@pytest.fixture(scope="module")
def vocab():
    return CharVocab.from_text(TEXT)


@pytest.fixture(scope="module")
def model(vocab):
    """An untrained model with large random weights, so its distributions are far from uniform."""
    keras.utils.set_random_seed(3)
    model = charlstm.build_model(len(vocab), units=32)
    rng = np.random.default_rng(3)
    model.set_weights([rng.normal(0, 0.6, w.shape).astype("float32") for w in model.get_weights()])
    return model


def test_stepwise_probabilities_equal_the_full_window_models(model, vocab):
    ids = vocab.encode(TEXT[:MAXLEN])
    fast = chargen.stepwise_probabilities(model, ids)
    full = chargen.window_probabilities(model, ids)
    assert fast.shape == full.shape == (MAXLEN, len(vocab))
    assert full.max(axis=1).min() > 2 / len(vocab), "the check needs distributions far from uniform"
    assert np.abs(fast - full).max() < 1e-5
    assert np.abs(full[1:] - full[:-1]).max() > 0.1, "each prefix gives a different distribution"


def test_the_fast_generator_is_reproducible_and_returns_known_characters(model, vocab):
    a = chargen.generate(model, vocab, "The will", 200, 1.0, MAXLEN, seed=1)
    b = chargen.generate(model, vocab, "The will", 200, 1.0, MAXLEN, seed=1)
    c = chargen.generate(model, vocab, "The will", 200, 1.0, MAXLEN, seed=2)
    assert a == b and a != c and len(a) == 200 and set(a) <= set(vocab.chars)
    assert chargen.generate(model, vocab, "the will", 0, 1.0, MAXLEN) == ""


def test_at_a_tiny_temperature_both_generators_follow_the_argmax_chain(model, vocab):
    prompt = "every truth is a "
    n = MAXLEN - len(prompt)  # stay inside one window, where the two must agree
    fast = chargen.generate(model, vocab, prompt, n, 1e-4, MAXLEN, seed=0)
    slow = chargen.generate_with_window(model, vocab, prompt, n, 1e-4, MAXLEN, rng=np.random.default_rng(0))
    probs = chargen.window_probabilities(model, vocab.encode(prompt + fast))
    greedy = vocab.decode(probs[len(prompt) - 1 : -1].argmax(axis=1))
    assert fast == slow == greedy


def test_the_fast_generator_samples_at_the_requested_temperature(vocab):
    model = charlstm.build_model(len(vocab), units=4)
    weights = model.get_weights()
    weights[0][:] = 0  # no input and no memory: the next-character distribution never changes
    weights[1][:] = 0
    weights[-1][:] = np.linspace(-2, 2, len(vocab))
    model.set_weights(weights)
    p = np.asarray(model(vocab.encode("the")[None]))[0]
    for temperature in (0.5, 2.0):
        text = chargen.generate(model, vocab, "the", 20_000, temperature, MAXLEN, seed=5)
        freq = np.bincount(vocab.encode(text), minlength=len(vocab)) / len(text)
        assert np.abs(freq - sampling.reweight_distribution(p, temperature)).max() < 0.015


def test_prompts_are_handled_like_user_input(model, vocab):
    long = "and every mask a truth. " * 5
    # the state after a long prompt depends only on its last maxlen characters
    assert (chargen.generate(model, vocab, long, 50, 1.0, MAXLEN, seed=4)
            == chargen.generate(model, vocab, long[-MAXLEN:].upper(), 50, 1.0, MAXLEN, seed=4))
    with pytest.raises(ValueError, match="ü"):
        chargen.generate(model, vocab, "über", 5, 1.0, MAXLEN)
    with pytest.raises(ValueError):
        chargen.generate(model, vocab, "the", 5, 0.0, MAXLEN)
    with pytest.raises(ValueError):
        chargen.generate(model, vocab, "the", -1, 1.0, MAXLEN)


def test_the_fast_generator_refuses_other_architectures(vocab):
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(len(vocab), 8)(inputs)
    outputs = keras.layers.Dense(len(vocab), activation="softmax")(keras.layers.GRU(8)(x))
    with pytest.raises(ValueError, match="build_model"):
        chargen.generate(keras.Model(inputs, outputs), vocab, "the", 5, 1.0, MAXLEN)


def test_the_stand_in_model_rejects_wrong_windows():
    stand_in = chargen.WindowRuleModel(vocab_size=5, maxlen=4)
    assert stand_in.predict(np.array([[0, 1, 2, 3]])).argmax() == (0 + 2 * 3 + 1) % 5
    for bad in (np.array([[0, 1, 2]]), np.array([[0, 1, 2, 3, 4]]), np.array([[0.0, 1, 2, 3]])):
        with pytest.raises(AssertionError):
            stand_in.predict(bad)


def test_past_maxlen_the_carried_state_remembers_more_than_the_window(model, vocab):
    ids = vocab.encode(TEXT * 2)[: 3 * MAXLEN]
    carried = chargen.stepwise_probabilities(model, ids)
    windowed = chargen.window_probabilities(model, ids, maxlen=MAXLEN)
    diff = np.abs(carried - windowed).max(axis=1)
    assert diff[:MAXLEN].max() < 1e-5, "identical while the text fits in one window"
    assert diff[MAXLEN:].max() > 1e-3, "then the window model forgets and the carried state does not"
