"""Grading lesson 04: typical wrong answers lose the hidden-test points of their exercise only.

Two students keep grading cheap (each submission runs the whole notebook): one gets the
step table and the off-by-one wrong, the other the beam step and the filters.
"""

import pytest

from textgen_utils import course
from tests.grading import submission

LESSON = course.lessons(only=["04"])[0]

UNNORMALISED_TABLE = """
def greedy_step_table(next_logits, prompt_ids, n_steps, top=5, decode=decode):
    ids = np.asarray(prompt_ids)[None, :]
    rows = []
    for _ in range(n_steps):
        p = np.exp(np.asarray(next_logits(ids)[0], dtype=float))  # forgot to normalise
        order = np.argsort(-p)[:top]
        row = {"Input": decode(ids[0].tolist())}
        for rank, token in enumerate(order, start=1):
            row[f"Choice {rank}"] = f"{decode([int(token)])} ({100 * p[token]:.2f}%)"
        rows.append(row)
        ids = np.concatenate([ids, [[order[0]]]], axis=1)
    return pd.DataFrame(rows)
"""

OFF_BY_ONE = """
def my_sequence_logprob(logits, token_ids, prompt_length):
    log_probs = log_softmax(np.asarray(logits, dtype=float))
    return float(sum(log_probs[t, token_ids[t]] for t in range(prompt_length, len(token_ids))))
"""

FORGETS_BEAM_SCORES = """
def my_beam_step(beam_ids, beam_scores, log_probs, num_beams):
    flat = np.asarray(log_probs).ravel()  # ranks by the new token only
    best = np.argsort(-flat)[:num_beams]
    beams, tokens = best // log_probs.shape[1], best % log_probs.shape[1]
    new_ids = np.concatenate([np.asarray(beam_ids)[beams], tokens[:, None]], axis=1)
    return new_ids, np.asarray(beam_scores)[beams] + flat[best]
"""

CUTS_TIES_AND_THE_NUCLEUS = """
def my_top_k_filter(logits, k):
    z = np.asarray(logits, dtype=float)
    out = np.full_like(z, -np.inf)
    keep = np.argsort(-z)[:k]  # exactly k: cuts ties at the k-th value
    out[keep] = z[keep]
    return out


def my_top_p_filter(logits, p):
    z = np.asarray(logits, dtype=float)
    probs = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    order = np.argsort(-probs)
    keep = order[np.cumsum(probs[order]) <= p]  # drops the token that reaches p
    out = np.full_like(z, -np.inf)
    out[keep] = z[keep]
    out[order[0]] = z[order[0]]
    return out
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l04")
    subs = {
        "table_and_offset": submission(LESSON, tmp / "a.ipynb", {
            "l04_a_step_table_solution": UNNORMALISED_TABLE, "l04_b_logprob_solution": OFF_BY_ONE}),
        "beam_and_filters": submission(LESSON, tmp / "b.ipynb", {
            "l04_c_beam_step_solution": FORGETS_BEAM_SCORES, "l04_d_filters_solution": CUTS_TIES_AND_THE_NUCLEUS}),
    }
    return course.autograde(LESSON, subs)


def _hidden(result, exercise):
    return result.cells[f"l04_{exercise}_hidden"][0]


def test_an_unnormalised_step_table_and_the_off_by_one_lose_their_points(graded):
    result = graded["table_and_offset"]
    assert _hidden(result, "a_step_table") == 0 and result.cells["l04_a_step_table_visible"][0] == 0
    assert _hidden(result, "b_logprob") == 0 and result.cells["l04_b_logprob_visible"][0] == 0
    assert _hidden(result, "c_beam_step") == 2 and _hidden(result, "d_filters") == 2, "the other exercises are unaffected"


def test_a_beam_step_without_beam_scores_and_tie_cutting_filters_lose_their_points(graded):
    result = graded["beam_and_filters"]
    assert _hidden(result, "c_beam_step") == 0
    assert _hidden(result, "d_filters") == 0
    assert _hidden(result, "a_step_table") == 2 and _hidden(result, "b_logprob") == 2, "the other exercises are unaffected"
    assert result.score == 1 + 2 + 1 + 2, "only (a) and (b), visible and hidden"
