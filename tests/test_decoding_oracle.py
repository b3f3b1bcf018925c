"""Oracle tests: our decoding library against Hugging Face ``transformers`` (PyTorch, CPU).

A tiny random GPT-2 is saved with ``save_pretrained`` and loaded into KerasHub through
``GPT2CausalLM.from_preset(local_dir)``; the same weights then run in both libraries.
Greedy and beam search must produce HF ``generate``'s tokens, our scores HF's scores, and
our filters HF's warpers. Skipped only when transformers or torch is not installed.
"""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="oracle needs torch (pip install -e '.[oracle]')")
transformers = pytest.importorskip("transformers", reason="oracle needs transformers (pip install -e '.[oracle]')")

from textgen_utils import decoding, gpt2  # noqa: E402
from textgen_utils.logits_processors import processors, process  # noqa: E402

PROMPTS = ["The old king saw", "In a shocking finding, the unicorns", "a cat"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """(HF torch model, KerasHub GPT2CausalLM, HF tokenizer) sharing one set of random weights."""
    import keras_hub

    folder = tmp_path_factory.mktemp("hf_gpt2")
    vocab, merges = gpt2.train_byte_bpe(gpt2.smoke_text(), 200)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tokenizer = transformers.GPT2Tokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    eos = vocab["<|endoftext|>"]
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=128, n_embd=32, n_layer=2, n_head=4,
                                     bos_token_id=eos, eos_token_id=eos, initializer_range=0.3)
    torch.manual_seed(0)
    hf = transformers.GPT2LMHeadModel(config).eval()
    hf.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    lm = keras_hub.models.GPT2CausalLM.from_preset(str(folder))
    return hf, lm, tokenizer


def _hf_generate(hf, ids, **settings):
    eos = settings.pop("eos_token_id", None)
    config = transformers.GenerationConfig(eos_token_id=eos, pad_token_id=0 if eos is None else eos,
                                           bos_token_id=None, **settings)
    x = torch.tensor(np.atleast_2d(ids))
    with torch.no_grad():
        return hf.generate(x, attention_mask=torch.ones_like(x), generation_config=config,
                           return_dict_in_generate=True, output_scores=True)


def _ids(tokenizer, text):
    return np.asarray(tokenizer(text)["input_ids"], dtype=np.int64)


def test_keras_hub_loads_the_transformers_checkpoint_and_the_logits_agree(models):
    hf, lm, tokenizer = models
    ids = _ids(tokenizer, PROMPTS[1])
    assert gpt2.encode(lm, PROMPTS[1]).tolist() == ids.tolist(), "same tokenizer in both libraries"
    with torch.no_grad():
        expected = hf(torch.tensor(ids[None])).logits.numpy()
    ours = decoding.model_logits(lm, ids)
    assert np.abs(expected).std() > 0.5, "the test model must not be trivially flat"
    np.testing.assert_allclose(ours, expected, atol=1e-4)
    # The cached adapter gives the same next-token logits, also after extending the sequence.
    cached = decoding.causal_lm_next_logits(lm)
    np.testing.assert_allclose(cached(ids[None, :-3]), expected[:, -4], atol=1e-4)
    np.testing.assert_allclose(cached(ids[None]), expected[:, -1], atol=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_search_equals_hf_generate(models, seed):
    hf, lm, tokenizer = models
    rng = np.random.default_rng(seed)
    prompt = rng.integers(0, lm.backbone.vocabulary_size, size=int(rng.integers(1, 8)))
    out = _hf_generate(hf, prompt, max_new_tokens=40, do_sample=False)
    ours = decoding.greedy_search(decoding.causal_lm_next_logits(lm), prompt, 40)
    assert ours.tolist() == out.sequences[0].tolist()


@pytest.mark.parametrize("num_beams,length_penalty,prompt", [(2, 1.0, 0), (3, 0.0, 1), (5, 1.0, 2), (4, 2.0, 1)])
def test_beam_search_equals_hf_generate(models, num_beams, length_penalty, prompt):
    hf, lm, tokenizer = models
    ids = _ids(tokenizer, PROMPTS[prompt])
    out = _hf_generate(hf, ids, max_new_tokens=25, num_beams=num_beams, num_return_sequences=num_beams,
                       length_penalty=length_penalty, do_sample=False)
    ours = decoding.beam_search(decoding.causal_lm_next_logits(lm), ids, num_beams, 25, length_penalty=length_penalty)
    assert [seq.tolist() for seq, _ in ours] == out.sequences.tolist()
    np.testing.assert_allclose([score for _, score in ours], out.sequences_scores.numpy(), rtol=1e-4, atol=1e-4)


def test_beam_search_with_eos_and_no_repeat_ngram_equals_hf_generate(models):
    hf, lm, tokenizer = models
    ids = _ids(tokenizer, PROMPTS[0])
    # A token the model likes as "EOS", so that beams finish at different lengths.
    greedy = decoding.greedy_search(decoding.causal_lm_next_logits(lm), ids, 30)
    eos = int(np.bincount(greedy[len(ids):]).argmax())
    for settings in [dict(eos_id=eos), dict(no_repeat_ngram_size=2), dict(eos_id=eos, no_repeat_ngram_size=2)]:
        out = _hf_generate(hf, ids, max_new_tokens=30, num_beams=4, num_return_sequences=4, do_sample=False,
                           eos_token_id=settings.get("eos_id"),
                           no_repeat_ngram_size=settings.get("no_repeat_ngram_size", 0))
        ours = decoding.beam_search(decoding.causal_lm_next_logits(lm), ids, 4, 30, **settings)
        for (seq, score), hf_seq, hf_score in zip(ours, out.sequences.tolist(), out.sequences_scores.tolist()):
            assert hf_seq[: len(seq)] == seq.tolist(), settings
            assert all(t == eos for t in hf_seq[len(seq):]), "HF pads shorter hypotheses with EOS"
            assert score == pytest.approx(hf_score, abs=1e-4), settings


def test_sequence_logprob_equals_hf_transition_scores(models):
    hf, lm, tokenizer = models
    ids = _ids(tokenizer, PROMPTS[1])
    out = _hf_generate(hf, ids, max_new_tokens=30, do_sample=False)
    hf_total = hf.compute_transition_scores(out.sequences, out.scores, normalize_logits=True).sum().item()
    seq = out.sequences[0].numpy()
    ours = decoding.sequence_logprob(decoding.model_logits(lm, seq)[0], seq, len(ids))
    assert ours == pytest.approx(hf_total, abs=1e-3)
    # Beam scores are the same sums divided by the generated length ** length_penalty.
    out = _hf_generate(hf, ids, max_new_tokens=30, num_beams=3, num_return_sequences=3, do_sample=False)
    for seq, score in zip(out.sequences.numpy(), out.sequences_scores.numpy()):
        assert decoding.sequence_logprob(decoding.model_logits(lm, seq)[0], seq, len(ids)) / 30 == pytest.approx(
            float(score), abs=1e-4)


def _random_logits(seed, ties):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, size=(16, 40)).astype(np.float32)
    return np.round(z) if ties else z  # rounding makes many exact ties


def _assert_top_p_matches(ours, hf, z, message):
    """Equal, except that where HF splits a group of tied logits at the cut-off we keep the whole group."""
    kept, hf_kept = np.isfinite(ours), np.isfinite(hf)
    assert (hf_kept <= kept).all(), message
    for row, extra in enumerate(kept & ~hf_kept):
        if extra.any():  # only ties with a token HF keeps
            assert np.isin(z[row, extra], z[row, hf_kept[row]]).all(), message
    np.testing.assert_array_equal(ours[hf_kept], hf[hf_kept], err_msg=message)


@pytest.mark.parametrize("ties", [False, True])
def test_filters_equal_hf_warpers(ties):
    from transformers.generation import logits_process as lp

    split_ties = 0
    for seed in range(4):
        z = _random_logits(seed, ties)
        t = torch.tensor(z)
        for k in [1, 2, 5, 13, 40, 100]:
            expected = lp.TopKLogitsWarper(k)(None, t).numpy()
            np.testing.assert_array_equal(decoding.top_k_filter(z, k), expected, err_msg=f"top-k {k}")
        for p in [0.05, 0.3, 0.5, 0.9, 0.95, 1.0]:
            for keep in [1, 3]:
                expected = lp.TopPLogitsWarper(p, min_tokens_to_keep=keep)(None, t).numpy()
                ours = decoding.top_p_filter(z, p, keep)
                if ties:
                    _assert_top_p_matches(ours, expected, z, f"top-p {p}")
                    split_ties += int((np.isfinite(ours) != np.isfinite(expected)).any())
                else:
                    np.testing.assert_array_equal(ours, expected, err_msg=f"top-p {p}")
        for m in [0.01, 0.1, 0.5, 1.0]:
            expected = lp.MinPLogitsWarper(m)(None, t).numpy()
            np.testing.assert_array_equal(decoding.min_p_filter(z, m), expected, err_msg=f"min-p {m}")
    if ties:
        assert split_ties > 0, "the tied case must exercise a cut-off inside a tie group"


def test_top_k_keeps_ties_at_the_kth_value_like_hf():
    z = np.array([[3.0, 2.0, 2.0, 2.0, 1.0]], dtype=np.float32)
    from transformers.generation import logits_process as lp

    expected = lp.TopKLogitsWarper(2)(None, torch.tensor(z)).numpy()
    assert np.isfinite(expected).sum() == 4
    np.testing.assert_array_equal(decoding.top_k_filter(z, 2), expected)


@pytest.mark.parametrize("settings", [
    dict(temperature=0.7, top_k=20, top_p=0.9),
    dict(temperature=1.5, top_p=0.8, repetition_penalty=1.3, no_repeat_ngram_size=2),
    dict(temperature=0.9, min_p=0.1, repetition_penalty=0.8),
])
def test_sampling_processors_equal_hf_scores_step_by_step(models, settings):
    """HF samples a sequence and records its processed scores; ours, on the same history, agree."""
    hf, lm, tokenizer = models
    ids = _ids(tokenizer, PROMPTS[2])
    hf_settings = {"top_k": 0, **settings}  # GenerationConfig's default top_k is 50
    torch.manual_seed(0)
    out = _hf_generate(hf, ids, max_new_tokens=20, do_sample=True, **hf_settings)
    seq = out.sequences[0].numpy()
    logits = decoding.model_logits(lm, seq)[0]
    chain = processors(**settings)
    for step, hf_scores in enumerate(out.scores):
        t = len(ids) + step
        ours = process(chain, seq[None, :t], logits[t - 1][None])
        expected = hf_scores.numpy()
        np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(expected), err_msg=f"step {step}")
        finite = np.isfinite(expected)
        np.testing.assert_allclose(ours[finite], expected[finite], atol=2e-4)
