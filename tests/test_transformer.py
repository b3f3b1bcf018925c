"""The hand-written decoder-only Transformer: masks, causality, padding, saving, the KV cache."""

import keras
import numpy as np
import pytest

from textgen_utils import wordlm
from textgen_utils.transformer import DecoderBlock, PositionalEmbedding, build_word_lm, causal_attention_mask

VOCAB, WINDOW = 40, 12


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    m = build_word_lm(VOCAB, WINDOW, embed_dim=16, ff_dim=32, num_heads=2)
    rng = np.random.default_rng(0)
    x = rng.integers(1, VOCAB, size=(16, WINDOW - 1))
    m.fit(x, np.roll(x, -1, axis=1), epochs=2, batch_size=8, verbose=0)  # trained weights and optimizer state
    return m


def logits(m, ids):
    return keras.ops.convert_to_numpy(m(np.asarray(ids)[None]))[0]


def test_causal_attention_mask_values():
    mask = keras.ops.convert_to_numpy(causal_attention_mask(np.array([[True, True, True, False]])))
    expected = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 0]], dtype=bool)
    assert mask.shape == (1, 4, 4) and mask.dtype == bool
    np.testing.assert_array_equal(mask[0], expected)


def test_causal_attention_mask_never_masks_a_whole_row_of_a_real_sequence():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 9, size=20)
    padding = np.arange(9)[None] < lengths[:, None]
    mask = keras.ops.convert_to_numpy(causal_attention_mask(padding))
    assert mask.any(axis=-1).all()
    assert not mask[np.broadcast_to(~padding[:, None, :], mask.shape)].any(), "padding is never attended to"


def test_an_output_does_not_depend_on_later_tokens(model):
    a = logits(model, [5, 6, 7, 8, 9, 10])
    b = logits(model, [5, 6, 7, 30, 31, 32])
    np.testing.assert_allclose(a[:3], b[:3], atol=1e-5)
    assert not np.allclose(a[3:], b[3:], atol=1e-3), "later positions do see the changed tokens"


def test_appending_padding_does_not_change_the_next_word_distribution(model):
    prompt = [4, 9, 2, 17]
    reference = keras.ops.convert_to_numpy(keras.ops.softmax(logits(model, prompt)[-1]))
    for extra in (1, 3, WINDOW - len(prompt)):
        padded = logits(model, prompt + [0] * extra)
        p = keras.ops.convert_to_numpy(keras.ops.softmax(padded[len(prompt) - 1]))
        np.testing.assert_allclose(p, reference, atol=1e-6)


def test_save_and_reload_gives_the_same_outputs(model, tmp_path):
    path = tmp_path / "lm.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded.get_layer("embedding"), PositionalEmbedding)
    assert isinstance(reloaded.get_layer("decoder"), DecoderBlock)
    ids = np.array([[3, 8, 1, 22, 0, 0], [7, 7, 7, 7, 7, 7]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(ids)),
                               keras.ops.convert_to_numpy(model(ids)), atol=1e-6)
    # the reloaded model still generates with the cache
    gen = wordlm.WordGenerator(reloaded)
    assert wordlm.WordGenerator(model).ids([3, 8], 5, 0.7, seed=4) == gen.ids([3, 8], 5, 0.7, seed=4)


def test_layers_round_trip_through_their_config():
    block = DecoderBlock(16, 32, 4, name="b")
    again = DecoderBlock.from_config(block.get_config())
    assert (again.embed_dim, again.ff_dim, again.num_heads, again.name) == (16, 32, 4, "b")
    emb = PositionalEmbedding.from_config(PositionalEmbedding(10, 50, 8).get_config())
    assert (emb.sequence_length, emb.vocab_size, emb.embed_dim) == (10, 50, 8)


def test_cached_and_uncached_logits_agree(model):
    gen = wordlm.WordGenerator(model)
    ids = [5, 9, 12, 7, 33, 2, 41 % VOCAB, 11, 3, 19, 8, 27]
    full = logits(model, ids)
    for prompt_length in (1, 3, 7):
        cached = gen.cached_logits(ids, prompt_length)
        assert cached.shape == (len(ids) - prompt_length + 1, VOCAB)
        np.testing.assert_allclose(cached, full[prompt_length - 1:], atol=1e-4)


def test_the_block_refuses_heads_that_do_not_divide_the_embedding():
    with pytest.raises(ValueError, match="나누어떨어져야") as err:
        DecoderBlock(10, 32, 3)
    assert "divisible" in str(err.value)


def test_parameter_count_of_the_lessons_full_size_model():
    v, t, e, f = 15_000, 100, 256, 2048
    expected = (v * e + t * e) + 4 * (e * e + e) + (e * f + f) + (f * e + e) + 2 * 2 * e + (e * v + v)
    assert build_word_lm(v, t, e, f, 2).count_params() == expected == 9_035_672


def test_the_loss_skips_padded_positions():
    keras.utils.set_random_seed(0)
    m = build_word_lm(VOCAB, WINDOW, 8, 16, 2)
    x = np.array([[5, 6, 7, 0, 0, 0]])
    y = np.array([[6, 7, 9, 3, 3, 3]])
    reported = m.evaluate(x, y, verbose=0)
    per_position = keras.ops.convert_to_numpy(
        keras.losses.sparse_categorical_crossentropy(y, m(x), from_logits=True))[0]
    assert reported == pytest.approx(per_position[:3].mean(), rel=1e-5)

