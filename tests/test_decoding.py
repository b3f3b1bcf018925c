"""The decoding library on toy models: what a user relies on, and clear errors for bad input."""

import itertools

import numpy as np
import pytest

from textgen_utils import decoding
from textgen_utils.logits_processors import banned_ngram_tokens, log_softmax, processors, process

TOY = decoding.toy_next_logits(vocab_size=6, seed=3, max_length=40)


def _logprob_of(next_logits, ids, prompt_length):
    """Sequence log-probability by asking next_logits step by step."""
    return sum(log_softmax(next_logits(ids[None, :t])[0])[ids[t]] for t in range(prompt_length, len(ids)))


def _bilingual(excinfo):
    text = str(excinfo.value)
    assert any("\uac00" <= ch <= "\ud7a3" for ch in text), f"no Korean in: {text}"
    assert any(ch.isascii() and ch.isalpha() for ch in text), f"no English in: {text}"


# --- greedy ------------------------------------------------------------------------------


def test_greedy_appends_the_argmax_each_step():
    out = decoding.greedy_search(TOY, [1, 2], 10)
    assert out.shape == (12,) and out[:2].tolist() == [1, 2]
    for t in range(2, 12):
        assert out[t] == TOY(out[None, :t])[0].argmax()


def test_greedy_works_on_a_batch_and_stops_at_eos():
    prompts = np.array([[1, 2], [3, 4], [0, 5]])
    out = decoding.greedy_search(TOY, prompts, 8)
    assert out.shape == (3, 10)
    for row, prompt in zip(out, prompts):
        assert row.tolist() == decoding.greedy_search(TOY, prompt, 8).tolist()
    eos = int(out[0, 4])
    stopped = decoding.greedy_search(TOY, [1, 2], 8, eos_id=eos)
    assert stopped[-1] == eos and eos not in stopped[2:-1].tolist()


def test_zero_new_tokens_returns_the_prompt():
    assert decoding.greedy_search(TOY, [4, 1], 0).tolist() == [4, 1]
    assert decoding.beam_search(TOY, [4, 1], 3, 0)[0][0].tolist() == [4, 1]


# --- beam search ---------------------------------------------------------------------------


def test_beam_search_with_enough_beams_finds_the_best_sequence():
    prompt, steps = np.array([2]), 3
    best = max((np.array([2, *tail]) for tail in itertools.product(range(6), repeat=steps)),
               key=lambda ids: _logprob_of(TOY, ids, 1))
    (ids, score), *_ = decoding.beam_search(TOY, prompt, 6**steps, steps, length_penalty=0.0)
    assert ids.tolist() == best.tolist()
    assert score == pytest.approx(_logprob_of(TOY, best, 1))


def test_one_beam_is_greedy_and_scores_are_normalised_by_length():
    greedy = decoding.greedy_search(TOY, [1, 2], 12)
    (ids, score), = decoding.beam_search(TOY, [1, 2], 1, 12)
    assert ids.tolist() == greedy.tolist()
    assert score == pytest.approx(_logprob_of(TOY, greedy, 2) / 12)
    results = decoding.beam_search(TOY, [1, 2], 4, 12, length_penalty=2.0)
    assert len(results) == 4
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True), "best first"
    for ids, s in results:
        assert s == pytest.approx(_logprob_of(TOY, ids, 2) / 12**2)


def test_beam_search_beats_greedy_on_this_toy_model():
    toy = decoding.toy_next_logits(vocab_size=10, seed=1, scale=1.5)
    greedy = decoding.greedy_search(toy, [0], 10)
    (beam, _), *_ = decoding.beam_search(toy, [0], 5, 10)
    assert _logprob_of(toy, beam, 1) > _logprob_of(toy, greedy, 1) + 1.0


def test_beam_search_finishes_hypotheses_at_eos():
    results = decoding.beam_search(TOY, [1], 3, 15, eos_id=0)
    lengths = {len(ids) for ids, _ in results}
    for ids, score in results:
        assert 0 not in ids[1:-1].tolist(), "nothing after EOS"
        assert ids[-1] == 0 or len(ids) == 16
        assert score == pytest.approx(_logprob_of(TOY, ids, 1) / (len(ids) - 1))
    assert min(lengths) < 16, "this toy model reaches EOS early in some beam"


def test_no_repeat_ngram_size_forbids_repeated_bigrams():
    for ids in [decoding.beam_search(TOY, [1, 2], 3, 20, no_repeat_ngram_size=2)[0][0],
                decoding.sample(TOY, [1, 2], 20, no_repeat_ngram_size=2, seed=0)]:
        bigrams = list(zip(ids, ids[1:]))
        assert len(bigrams) == len(set(bigrams))


def test_beam_step_keeps_the_best_expansions_over_all_beams():
    ids = np.array([[0, 1], [0, 2]])
    scores = np.array([-1.0, -0.5])
    log_probs = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]))
    new_ids, new_scores = decoding.beam_step(ids, scores, log_probs, 3)
    expected = sorted(((s + lp, b, t) for b, s in enumerate(scores) for t, lp in enumerate(log_probs[b])), reverse=True)
    assert new_scores.tolist() == pytest.approx([e[0] for e in expected[:3]])
    assert new_ids.tolist() == [[*ids[b], t] for _, b, t in expected[:3]]


# --- sampling ---------------------------------------------------------------------------------


def test_sampling_is_reproducible_and_seeded():
    a = decoding.sample(TOY, [1, 2], 20, temperature=1.3, seed=7)
    assert a.tolist() == decoding.sample(TOY, [1, 2], 20, temperature=1.3, seed=7).tolist()
    assert a.tolist() != decoding.sample(TOY, [1, 2], 20, temperature=1.3, seed=8).tolist()


def test_sampling_limits_are_greedy():
    greedy = decoding.greedy_search(TOY, [1, 2], 15)
    assert decoding.sample(TOY, [1, 2], 15, top_k=1, seed=0).tolist() == greedy.tolist()
    assert decoding.sample(TOY, [1, 2], 15, temperature=1e-4, seed=1).tolist() == greedy.tolist()


@pytest.mark.parametrize("settings", [dict(), dict(temperature=0.5), dict(temperature=2.0, top_k=3),
                                      dict(top_p=0.8), dict(min_p=0.2, repetition_penalty=1.5)])
def test_sample_frequencies_follow_the_processed_distribution(settings):
    prompt = np.tile([[1, 2, 1]], (20000, 1))
    drawn = decoding.sample(TOY, prompt, 1, seed=0, **settings)[:, -1]
    logits = process(processors(**settings), prompt[:1], TOY(prompt[:1]))
    p = np.exp(log_softmax(logits))[0]
    freq = np.bincount(drawn, minlength=6) / len(drawn)
    assert np.all(freq[p == 0] == 0), "filtered tokens are never drawn"
    np.testing.assert_allclose(freq, p, atol=0.015)


# --- filters and processors ------------------------------------------------------------------------


def test_top_k_keeps_ties_and_top_p_keeps_the_nucleus():
    z = np.array([3.0, 2.0, 2.0, 2.0, 1.0, 0.0])
    assert np.isfinite(decoding.top_k_filter(z, 2)).tolist() == [True, True, True, True, False, False]
    assert np.isfinite(decoding.top_k_filter(z, 10)).all()
    p = np.exp(log_softmax(np.array([2.0, 1.0, 0.0, -1.0])))  # 0.64, 0.24, 0.09, 0.03
    z = np.log(p)
    assert np.isfinite(decoding.top_p_filter(z, 0.5)).tolist() == [True, False, False, False]
    assert np.isfinite(decoding.top_p_filter(z, 0.7)).tolist() == [True, True, False, False]
    assert np.isfinite(decoding.top_p_filter(z, 1.0)).all()
    assert np.isfinite(decoding.top_p_filter(z, 0.5, min_tokens_to_keep=3)).sum() == 3
    assert np.isfinite(decoding.min_p_filter(z, 0.3)).tolist() == [True, True, False, False]


def test_filters_keep_shape_and_values_of_kept_tokens():
    z = np.random.default_rng(0).normal(size=(4, 9))
    for out in [decoding.top_k_filter(z, 3), decoding.top_p_filter(z, 0.6), decoding.min_p_filter(z, 0.1)]:
        assert out.shape == z.shape
        kept = np.isfinite(out)
        assert kept.any(axis=1).all() and np.array_equal(out[kept], z[kept])
        assert np.all(np.isneginf(out[~kept]))
    assert decoding.top_k_filter(z[0], 2).shape == (9,)


def test_repetition_penalty_and_banned_ngrams():
    z = np.array([[2.0, -2.0, 1.0]])
    out = decoding.apply_repetition_penalty(z, np.array([[0, 1, 1]]), 2.0)
    assert out.tolist() == [[1.0, -4.0, 1.0]]
    assert banned_ngram_tokens([5, 6, 7, 5, 6], 3) == [7]
    assert banned_ngram_tokens([5, 6, 5], 2) == [6]
    assert banned_ngram_tokens([5], 2) == []


# --- scoring and tables -----------------------------------------------------------------------------


def test_sequence_logprob_uses_the_logits_of_the_previous_position():
    ids = np.array([0, 1, 2])
    logits = np.log(np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [1 / 3, 1 / 3, 1 / 3]]))
    assert decoding.sequence_logprob(logits, ids, 1) == pytest.approx(np.log(0.8) + np.log(0.6))
    assert decoding.sequence_logprob(logits, ids, 2) == pytest.approx(np.log(0.6))
    assert decoding.sequence_logprob(logits, ids, 3) == 0.0
    assert decoding.sequence_logprob(logits[None], ids[None], 1) == pytest.approx(np.log(0.48))


def test_step_table_follows_the_greedy_path():
    table = decoding.step_table(TOY, [1, 2], 5, top=3)
    assert list(table.columns) == ["Input", "Choice 1", "Choice 2", "Choice 3"]
    greedy = decoding.greedy_search(TOY, [1, 2], 5)
    assert table["Input"].iloc[-1] == " ".join(map(str, greedy[:-1]))
    p = np.exp(log_softmax(TOY(np.array([[1, 2]]))[0]))
    assert table["Choice 1"].iloc[0] == f"{p.argmax()} ({100 * p.max():.2f}%)"
    words = decoding.step_table(TOY, [1, 2], 2, top=2, decode=lambda ids: "".join("abcdef"[i] for i in ids))
    assert words["Input"].tolist()[0] == "bc"


# --- errors ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda: decoding.beam_search(TOY, [1], 0, 5),
    lambda: decoding.beam_step(np.array([[1]]), np.zeros(1), np.zeros((1, 6)), 0),
    lambda: decoding.top_k_filter(np.zeros(5), 0),
    lambda: decoding.sample(TOY, [1], 5, top_k=0),
    lambda: decoding.top_p_filter(np.zeros(5), 0.0),
    lambda: decoding.top_p_filter(np.zeros(5), 1.5),
    lambda: decoding.sample(TOY, [1], 5, top_p=-0.1),
    lambda: decoding.min_p_filter(np.zeros(5), 2),
    lambda: decoding.sample(TOY, [1], 5, temperature=0),
    lambda: decoding.sample(TOY, [1], 5, temperature=-1.0),
    lambda: decoding.greedy_search(TOY, [1], -1),
    lambda: decoding.sample(TOY, [1], -3),
    lambda: decoding.greedy_search(TOY, [], 5),
    lambda: decoding.beam_search(TOY, np.zeros((1, 0), int), 2, 5),
    lambda: decoding.step_table(TOY, [], 3),
    lambda: decoding.greedy_search(TOY, [1, 2, 3], 38),
    lambda: decoding.beam_search(TOY, [1] * 30, 2, 11),
    lambda: decoding.sequence_logprob(np.zeros((3, 4)), [1, 2], 1),
    lambda: decoding.sequence_logprob(np.zeros((3, 4)), [1, 2, 3], 0),
])
def test_bad_input_gets_a_bilingual_error(call):
    with pytest.raises(ValueError) as excinfo:
        call()
    _bilingual(excinfo)


def test_the_context_error_says_what_to_do():
    with pytest.raises(ValueError, match="exceed the model's context of 40"):
        decoding.greedy_search(TOY, [1, 2, 3], 38)
    assert decoding.greedy_search(TOY, [1, 2, 3], 37).shape == (40,), "exactly the context is fine"


def test_sampling_without_a_seed_follows_numpys_global_generator():
    np.random.seed(3)
    a = decoding.sample(TOY, [1, 2], 15)
    np.random.seed(3)
    assert decoding.sample(TOY, [1, 2], 15).tolist() == a.tolist(), "setup() seeds numpy, so notebooks repeat"
