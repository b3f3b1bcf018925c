"""GPT-2 through KerasHub: the smoke preset, the next_logits adapters, and KerasHub's own samplers.

The claims the notebook makes about KerasHub (``generate`` prepends ``<|endoftext|>``,
``BeamSampler`` scores by the plain sum and does not finish beams at EOS, ``TopKSampler``
cuts ties) are checked here against the installed version.
"""

import shutil
import socket

import keras
import keras_hub
import numpy as np
import pytest

from textgen_utils import decoding, gpt2
from textgen_utils.errors import CourseError
from textgen_utils.logits_processors import log_softmax


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="module")
def lm():
    return gpt2.load_gpt2()


# --- the smoke preset and loading -----------------------------------------------------------------


def test_byte_bpe_round_trips_any_text_through_keras_hubs_tokenizer():
    vocab, merges = gpt2.train_byte_bpe("the cat sat on the mat. the cat ran.", 20)
    assert len(vocab) == 256 + len(merges) + 1 and vocab["<|endoftext|>"] == len(vocab) - 1
    assert "Ġ c" in merges or "Ġc at" in merges or any(m.startswith("Ġ") for m in merges)
    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=vocab, merges=merges)
    for text in ["the cat sat", "Unicorns spoke perfect English.\n\n", "한국어도 됩니다 ✓"]:
        ids = tokenizer(text)
        assert tokenizer.detokenize(ids) == text
    assert len(tokenizer("the cat")) < len("the cat"), "merges shorten frequent words"


def test_smoke_mode_loads_a_local_preset_without_any_network(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    preset = gpt2.preset_for("gpt2_large_en")
    assert preset.startswith(str(tmp_path)), "smoke mode uses the local tiny preset for every size"
    model = gpt2.load_gpt2("gpt2_large_en")
    assert isinstance(model, keras_hub.models.GPT2CausalLM)
    assert model.backbone.num_layers == gpt2.SMOKE_SIZES["num_layers"]
    text = "Transformers are the"
    assert gpt2.decode(model, gpt2.encode(model, text)) == text


def test_full_mode_uses_a_preset_folder_in_the_data_dir(offline, lm, tmp_path, monkeypatch):
    shutil.copytree(gpt2.smoke_preset(), tmp_path / "gpt2_medium_en")
    monkeypatch.setenv("TEXTGEN_MODE", "full")
    monkeypatch.setenv("TEXTGEN_DATA_DIR", str(tmp_path))
    assert gpt2.preset_for("gpt2_medium_en") == str(tmp_path / "gpt2_medium_en")
    assert gpt2.preset_for("gpt2_base_en") == "gpt2_base_en", "no local copy: the KerasHub preset name"
    assert gpt2.load_gpt2("gpt2_medium_en").backbone.num_layers == lm.backbone.num_layers


def test_a_failed_download_names_the_preset_and_the_data_dir(tmp_path, monkeypatch):
    def no_download(*args, **kwargs):
        raise OSError("no internet here")

    monkeypatch.setenv("TEXTGEN_MODE", "full")
    monkeypatch.setattr(keras_hub.models.GPT2CausalLM, "from_preset", no_download)
    with pytest.raises(CourseError, match="TEXTGEN_DATA_DIR/gpt2_base_en") as excinfo:
        gpt2.load_gpt2("gpt2_base_en")
    assert "불러오지 못했습니다" in str(excinfo.value) and "no internet here" in str(excinfo.value)


def test_unknown_size_is_a_bilingual_error():
    with pytest.raises(ValueError, match="gpt2_extra_large_en") as excinfo:
        gpt2.preset_for("gpt2_huge")
    assert "알 수 없는" in str(excinfo.value)


def test_the_smoke_model_has_peaked_context_dependent_distributions(lm):
    ids = gpt2.encode(lm, gpt2.UNICORN_PROMPT)
    logits = decoding.model_logits(lm, ids)[0]
    p = np.exp(log_softmax(logits))
    entropy = -(p * np.log(p)).sum(axis=-1)
    assert 1.0 < entropy.mean() < 0.8 * np.log(lm.backbone.vocabulary_size), "neither flat nor one-hot"
    greedy = decoding.greedy_search(decoding.causal_lm_next_logits(lm), ids, 30)
    assert len(set(greedy[len(ids):].tolist())) > 10, "does not just repeat one token"


# --- adapters ------------------------------------------------------------------------------


@pytest.mark.parametrize("keras_hub_cache", [False, True], ids=["compact_gpt2_step", "keras_hub_call_with_cache"])
def test_cached_adapter_equals_rerunning_the_whole_sequence(lm, keras_hub_cache):
    ids = gpt2.encode(lm, gpt2.UNICORN_PROMPT)
    cached = decoding.CachedCausalLM(lm, keras_hub_cache=keras_hub_cache)
    assert cached.kind == ("keras_hub" if keras_hub_cache else "gpt2"), "GPT-2 gets the compact step by default"
    cached.chunk = 16  # KerasHub's preallocated cache grows several times within this test
    plain = decoding.causal_lm_next_logits(lm, use_cache=False)
    assert plain.max_length == cached.max_length == lm.backbone.max_sequence_length
    a = decoding.greedy_search(cached, ids, 40)
    assert a.tolist() == decoding.greedy_search(plain, ids, 40).tolist()
    beams_a = decoding.beam_search(cached, ids, 3, 20, no_repeat_ngram_size=2)
    beams_b = decoding.beam_search(plain, ids, 3, 20, no_repeat_ngram_size=2)
    assert [x.tolist() for x, _ in beams_a] == [x.tolist() for x, _ in beams_b]
    np.testing.assert_allclose([s for _, s in beams_a], [s for _, s in beams_b], atol=1e-4)
    # An unrelated, shorter or reordered batch is handled too.
    batch = np.stack([a[:30], a[:25].tolist() + a[31:36].tolist()])
    np.testing.assert_allclose(cached(batch), plain(batch), atol=1e-4)
    np.testing.assert_allclose(cached(batch[::-1, :12]), plain(batch[::-1, :12]), atol=1e-4)


def test_keras_next_logits_works_with_a_plain_keras_model():
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(7, 7),
                              keras.layers.Dense(7)])
    next_logits = decoding.keras_next_logits(model, max_length=12)
    ids = np.array([[1, 2, 3]])
    np.testing.assert_allclose(next_logits(ids), np.asarray(model(ids))[:, -1], atol=1e-6)
    assert decoding.greedy_search(next_logits, [1, 2], 10).shape == (12,)
    with pytest.raises(ValueError, match="context of 12"):
        decoding.greedy_search(next_logits, [1, 2], 11)
    probs = keras.Sequential([model, keras.layers.Softmax()])
    from_probs = decoding.keras_next_logits(probs, from_probabilities=True)
    np.testing.assert_allclose(log_softmax(from_probs(ids)), log_softmax(next_logits(ids)), atol=1e-5)


def test_cached_adapter_refuses_other_models():
    with pytest.raises(TypeError, match="keras_next_logits"):
        decoding.CachedCausalLM(keras.Sequential([keras.layers.Dense(2)]))


# --- KerasHub's generate and samplers -----------------------------------------------------------


def test_keras_hub_generate_prepends_endoftext(lm):
    packed = lm.preprocessor.generate_preprocess(gpt2.TRANSFORMERS_PROMPT, sequence_length=20)
    ids = gpt2.encode(lm, gpt2.TRANSFORMERS_PROMPT)
    eos = lm.preprocessor.tokenizer.end_token_id
    n = len(ids) + 1
    assert np.asarray(packed["token_ids"])[:n].tolist() == [eos, *ids.tolist()]


def test_keras_hub_greedy_and_beam_samplers_agree_with_ours(lm):
    ids = np.concatenate([[lm.preprocessor.tokenizer.end_token_id], gpt2.encode(lm, gpt2.TRANSFORMERS_PROMPT)])
    cached = decoding.causal_lm_next_logits(lm)
    theirs = decoding.keras_hub_generate(lm, ids, 15, "greedy", jit_compile=False)
    assert theirs.tolist() == decoding.greedy_search(cached, ids, 15).tolist()
    theirs = decoding.keras_hub_generate(lm, ids, 15, keras_hub.samplers.BeamSampler(num_beams=4), jit_compile=False)
    assert theirs.tolist() == decoding.beam_search(cached, ids, 4, 15)[0][0].tolist()


def _toy_next_for_keras_hub(vocab=8, length=16, seed=0):
    """A toy model in the shape KerasHub's samplers call, next(prompt, cache, index), and as next_logits.

    Its logits depend on the position and the last token (a bigram alone would give many exact ties).
    """
    table = np.random.default_rng(seed).normal(0, 1.5, (length, vocab, vocab)).astype("float32")
    flat = keras.ops.convert_to_tensor(table.reshape(length * vocab, vocab))

    def next_fn(prompt, cache, index):
        last = keras.ops.take(prompt, index - 1, axis=1)
        return keras.ops.take(flat, (index - 1) * vocab + last, axis=0), None, cache

    def ours(ids):
        return table[ids.shape[1] - 1, ids[:, -1]]

    return next_fn, ours


def test_keras_hub_beam_sampler_sums_log_probs_and_does_not_finish_beams_at_eos():
    next_fn, ours = _toy_next_for_keras_hub()
    prompt = np.zeros((1, 9), dtype="int32")
    prompt[0, 0] = 3
    mask = np.arange(9)[None] < 1
    sampler = keras_hub.samplers.BeamSampler(num_beams=3, return_all_beams=True)
    beams, scores = sampler(next_fn, prompt, index=1, mask=mask)
    beams, scores = np.asarray(beams)[0], np.asarray(scores)[0]
    expected = decoding.beam_search(ours, [3], 3, 8, length_penalty=0.0)
    assert beams.tolist() == [ids.tolist() for ids, _ in expected]
    np.testing.assert_allclose(scores, [s for _, s in expected], atol=1e-4), "the plain sum: length_penalty=0"
    # With a stop token, KerasHub's beams run on past it; ours finish there.
    eos = int(expected[0][0][2])
    beams, _ = sampler(next_fn, prompt, index=1, mask=mask, stop_token_ids=[eos])
    runs_past_eos = [b for b in np.asarray(beams)[0].tolist() if eos in b[1:-1]]
    assert runs_past_eos, "some KerasHub beam continues after EOS"
    for ids, _ in decoding.beam_search(ours, [3], 3, 8, eos_id=eos):
        assert eos not in ids[1:-1].tolist()


def test_keras_hub_top_k_sampler_cuts_ties_while_ours_keeps_them():
    logits = np.array([3.0, 2.0, 2.0, 2.0, 1.0, 0.0], dtype="float32")
    probs = np.tile(np.exp(log_softmax(logits)), (4000, 1)).astype("float32")
    drawn = set(np.asarray(keras_hub.samplers.TopKSampler(k=2, seed=0).get_next_token(probs)).tolist())
    assert len(drawn) == 2, "KerasHub draws from exactly k tokens"
    assert np.isfinite(decoding.top_k_filter(logits, 2)).sum() == 4, "we keep all three tied at the 2nd value"


@pytest.mark.parametrize("seed", [0, 1])
def test_keras_hub_top_k_and_top_p_samplers_draw_from_our_filtered_support(seed):
    logits = np.random.default_rng(seed).normal(0, 1.0, size=12).astype("float32")
    probs = np.tile(np.exp(log_softmax(logits)), (6000, 1)).astype("float32")
    for sampler, ours in [(keras_hub.samplers.TopKSampler(k=5, seed=seed), decoding.top_k_filter(logits, 5)),
                          (keras_hub.samplers.TopPSampler(p=0.7, seed=seed), decoding.top_p_filter(logits, 0.7))]:
        drawn = set(np.asarray(sampler.get_next_token(probs)).tolist())
        assert drawn == set(np.flatnonzero(np.isfinite(ours)).tolist()), type(sampler).__name__
