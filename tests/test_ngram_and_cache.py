"""The lesson-01 character model, the text statistics, and the on-disk cache."""

import numpy as np
import pytest

from textgen_utils import cache
from textgen_utils.ngram import CharNGramModel, cat_story, distinct_ngram_ratio, novel_word_ratio


def test_the_cat_model_predicts_mat_and_is_a_distribution():
    model = CharNGramModel(cat_story(), order=4)
    p = model.next_distribution("the cat sat on the m")
    assert p.sum() == pytest.approx(1.0) and np.all(p > 0)
    assert model.vocab[int(p.argmax())] == "a"
    assert model.generate("the cat sat on the m", 2, greedy=True) == "the cat sat on the mat"


def test_unknown_characters_are_listed_in_the_error():
    model = CharNGramModel(cat_story())
    with pytest.raises(ValueError, match=r"\['Q', 'Z'\]"):
        model.next_distribution("the QZ")


def test_higher_temperature_gives_more_diverse_text():
    model = CharNGramModel(cat_story())
    cold = model.generate("the cat", 300, temperature=0.2, rng=np.random.default_rng(0))
    hot = model.generate("the cat", 300, temperature=1.5, rng=np.random.default_rng(0))
    assert distinct_ngram_ratio(cold) < distinct_ngram_ratio(hot)
    assert novel_word_ratio(cold, cat_story()) < novel_word_ratio(hot, cat_story())


def test_text_statistics():
    assert distinct_ngram_ratio("abababab", 2) == pytest.approx(2 / 7)
    assert novel_word_ratio("the cat flew", "the cat sat") == pytest.approx(1 / 3)
    assert distinct_ngram_ratio("ab", 4) == 0.0


def test_cached_json_builds_once_and_survives_a_corrupt_entry(tmp_path):
    calls = []

    def build():
        calls.append(1)
        return ["[PAD]", "the", "cat"]

    data = tmp_path / "corpus.txt"
    data.write_text("the cat")
    key = cache.fingerprint(data, {"vocab": 3})
    assert cache.cached_json("vocab", key, build) == ["[PAD]", "the", "cat"]
    assert cache.cached_json("vocab", key, build) == ["[PAD]", "the", "cat"]
    assert len(calls) == 1
    (cache.cache_dir() / f"vocab-{key}.json").write_text("[\"trunc")
    assert cache.cached_json("vocab", key, build) == ["[PAD]", "the", "cat"] and len(calls) == 2
    data.write_text("the cat sat")
    assert cache.fingerprint(data, {"vocab": 3}) != key, "a changed corpus changes the key"
    assert cache.fingerprint(data, {"vocab": 4}) != cache.fingerprint(data, {"vocab": 3})
