"""Lesson 02's data and model code: vocabulary, prompts, windows, the tf.data stream, the model."""

import re

import numpy as np
import pytest

from textgen_utils import charlstm
from textgen_utils.charlstm import CharVocab, encode_prompt, make_windows, window_count

HANGUL = re.compile("[가-힣]")
TEXT = "supposing that truth is a woman--what then? is there not ground for suspecting...\n"


def _bilingual(message: str) -> bool:
    return bool(HANGUL.search(message)) and bool(re.search("[A-Za-z]{4}", message))


@pytest.fixture
def vocab():
    return CharVocab.from_text(TEXT)


# --- vocabulary and prompts -------------------------------------------------------------------


def test_vocabulary_is_sorted_and_round_trips(vocab):
    assert list(vocab.chars) == sorted(set(TEXT)) and len(vocab) == len(set(TEXT))
    ids = vocab.encode(TEXT)
    assert ids.dtype == np.int32 and vocab.decode(ids) == TEXT
    assert vocab.index["a"] == vocab.chars.index("a")


def test_unknown_characters_are_listed_in_a_bilingual_error(vocab):
    with pytest.raises(ValueError) as err:
        vocab.encode("the übermensch 🙂 says: hi 🙂")
    message = str(err.value)
    assert _bilingual(message)
    korean, english = message.splitlines()[:2]
    for line in (korean, english):  # every unknown character, once, sorted
        assert "[':', 'b', 'y', 'ü', '🙂']" in line, line


def test_prompts_are_lowercased(vocab):
    assert vocab.decode(encode_prompt("Is THERE not", vocab, maxlen=60)) == "is there not"


def test_a_short_prompt_works_and_a_long_one_keeps_its_last_maxlen_characters(vocab):
    assert len(encode_prompt("is", vocab, maxlen=10)) == 2
    long = "supposing that truth is a woman"
    assert vocab.decode(encode_prompt(long, vocab, maxlen=10)) == long[-10:]
    assert vocab.decode(encode_prompt(long, vocab, maxlen=len(long))) == long


def test_prompt_errors_are_bilingual_and_name_the_characters(vocab):
    with pytest.raises(ValueError) as err:
        encode_prompt("니체 said so", vocab, maxlen=60)
    assert _bilingual(str(err.value)) and "'니'" in str(err.value) and "'체'" in str(err.value)
    with pytest.raises(ValueError) as err:
        encode_prompt("", vocab, maxlen=60)
    assert _bilingual(str(err.value))
    with pytest.raises(TypeError):
        encode_prompt(["is"], vocab, maxlen=60)
    with pytest.raises(ValueError):
        encode_prompt("is", vocab, maxlen=0)


def test_characters_outside_the_used_window_do_not_matter(vocab):
    assert vocab.decode(encode_prompt("🙂 is there", vocab, maxlen=8)) == "is there"


# --- windows -------------------------------------------------------------------------------------


def test_the_books_counts():
    assert window_count(600_893, 60, 3) == 200_278


@pytest.mark.parametrize("n, maxlen, step", [(61, 60, 3), (63, 60, 3), (64, 60, 3), (100, 7, 1), (100, 7, 4),
                                             (200, 10, 7)])
def test_windows_match_the_books_loop(n, maxlen, step):
    text = "".join(chr(ord("a") + i % 26) for i in range(n))
    windows, targets = make_windows(text, maxlen, step)
    starts = list(range(0, len(text) - maxlen, step))
    assert windows == [text[i : i + maxlen] for i in starts]
    assert targets == [text[i + maxlen] for i in starts]
    assert len(windows) == window_count(n, maxlen, step)
    assert windows[0] == text[:maxlen] and targets[0] == text[maxlen]
    assert targets[-1] == text[starts[-1] + maxlen] and all(len(w) == maxlen for w in windows)


def test_bad_window_settings_are_clear_errors():
    for kwargs in ({"maxlen": 0, "step": 1}, {"maxlen": 3, "step": 0}, {"maxlen": 2.5, "step": 1}):
        with pytest.raises(ValueError) as err:
            make_windows("abcdef", **kwargs)
        assert _bilingual(str(err.value))
    with pytest.raises(ValueError) as err:
        make_windows("abc", 3, 1)
    assert _bilingual(str(err.value))


def _all_pairs(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
    return np.concatenate(xs), np.concatenate(ys)


def test_the_stream_yields_the_same_pairs_as_make_windows(vocab):
    ids = vocab.encode(TEXT)
    x, y = _all_pairs(charlstm.window_dataset(ids, maxlen=12, step=5, batch_size=4, shuffle=False))
    windows, targets = make_windows(TEXT, 12, 5)
    assert x.dtype == np.int32 and x.shape == (len(windows), 12) and y.shape == (len(windows),)
    assert [vocab.decode(row) for row in x] == windows
    assert vocab.decode(y) == "".join(targets)


def test_shuffling_is_seeded_and_keeps_every_pair(vocab):
    ids = vocab.encode(TEXT)
    stream = lambda seed: charlstm.window_dataset(ids, maxlen=12, step=5, batch_size=4, seed=seed)  # noqa: E731
    x1, y1 = _all_pairs(stream(7))
    x2, _ = _all_pairs(stream(7))
    x3, _ = _all_pairs(stream(8))
    ordered, _ = _all_pairs(charlstm.window_dataset(ids, maxlen=12, step=5, batch_size=4, shuffle=False))
    assert np.array_equal(x1, x2) and not np.array_equal(x1, x3) and not np.array_equal(x1, ordered)
    assert sorted(map(bytes, x1)) == sorted(map(bytes, ordered))


def test_the_stream_rejects_a_corpus_shorter_than_a_window():
    with pytest.raises(ValueError) as err:
        charlstm.window_dataset(np.arange(5), maxlen=5, step=1, batch_size=2)
    assert _bilingual(str(err.value))


# --- the model --------------------------------------------------------------------------------------


def test_the_model_has_the_books_size_and_settings():
    model = charlstm.build_model(vocab_size=57)
    assert model.count_params() == 102_585  # LSTM(128) on 57 one-hot inputs + Dense(57)
    assert type(model.optimizer).__name__ == "RMSprop"
    assert np.isclose(float(model.optimizer.learning_rate), 0.01)


def test_the_model_reads_integer_windows_of_any_length_and_outputs_distributions():
    model = charlstm.build_model(vocab_size=11, units=8)
    for length in (1, 7, 60):
        p = np.asarray(model(np.random.default_rng(0).integers(0, 11, size=(3, length)).astype("int32")))
        assert p.shape == (3, 11) and np.allclose(p.sum(axis=1), 1, atol=1e-5)


def test_the_model_saves_and_loads(tmp_path):
    import keras

    model = charlstm.build_model(vocab_size=11, units=8)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", compile=False)
    x = np.arange(10, dtype="int32")[None] % 11
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-7)
