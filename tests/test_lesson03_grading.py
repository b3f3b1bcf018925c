"""Grading lesson 03: typical wrong answers lose the hidden-test points of their exercise only."""

import pytest

from textgen_utils import course
from tests.grading import submission

LESSON = course.lessons(only=["03"])[0]

# (a) the causal + padding mask
UPPER_TRIANGLE = """
def causal_attention_mask(padding_mask):
    padding_mask = keras.ops.cast(padding_mask, "bool")
    length = keras.ops.shape(padding_mask)[1]
    i = keras.ops.expand_dims(keras.ops.arange(length), 1)
    j = keras.ops.expand_dims(keras.ops.arange(length), 0)
    return keras.ops.logical_and(keras.ops.expand_dims(i <= j, 0), keras.ops.expand_dims(padding_mask, 1))
"""

IGNORES_PADDING = """
def causal_attention_mask(padding_mask):
    batch, length = np.shape(padding_mask)
    return np.broadcast_to(np.tril(np.ones((length, length), dtype=bool)), (batch, length, length))
"""

FIRST_ROW_ONLY = """
def causal_attention_mask(padding_mask):
    padding_mask = np.asarray(padding_mask, dtype=bool)
    batch, length = padding_mask.shape
    causal = np.tril(np.ones((length, length), dtype=bool)) & padding_mask[0][None, :]
    return np.broadcast_to(causal, (batch, length, length))
"""

# (b) the input/target shift
SWAPPED = """
def prepare_lm_dataset(text_batch, vectorizer):
    sequences = vectorizer(text_batch)
    return sequences[:, 1:], sequences[:, :-1]
"""

# (c) the next word
TEXTBOOK_POSITION = """
def sample_next_word(model, token_ids, temperature, rng):
    logits = np.asarray(model(np.asarray(token_ids)[None]), dtype=float)[0, 0]
    p = sampling.softmax(logits, temperature)
    return int(rng.choice(len(p), p=p))
"""

LAST_ARRAY_POSITION = """
def sample_next_word(model, token_ids, temperature, rng):
    logits = np.asarray(model(np.asarray(token_ids)[None]), dtype=float)[0, -1]
    p = sampling.softmax(logits, temperature)
    return int(rng.choice(len(p), p=p))
"""

IGNORES_TEMPERATURE = """
def sample_next_word(model, token_ids, temperature, rng):
    token_ids = np.asarray(token_ids)
    logits = np.asarray(model(token_ids[None]), dtype=float)[0, np.count_nonzero(token_ids) - 1]
    p = sampling.softmax(logits)
    return int(rng.choice(len(p), p=p))
"""

EXERCISES = ("b_causal_mask", "a_lm_pairs", "c_next_word")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l03")
    subs = {
        # wrong answers for different exercises share a student, to keep grading cheap
        "upper_swapped_textbook": submission(LESSON, tmp / "a.ipynb", {
            "l03_b_causal_mask_solution": UPPER_TRIANGLE,
            "l03_a_lm_pairs_solution": SWAPPED,
            "l03_c_next_word_solution": TEXTBOOK_POSITION,
        }),
        "no_padding_no_temperature": submission(LESSON, tmp / "b.ipynb", {
            "l03_b_causal_mask_solution": IGNORES_PADDING,
            "l03_c_next_word_solution": IGNORES_TEMPERATURE,
        }),
        "first_row_last_position": submission(LESSON, tmp / "c.ipynb", {
            "l03_b_causal_mask_solution": FIRST_ROW_ONLY,
            "l03_c_next_word_solution": LAST_ARRAY_POSITION,
        }),
    }
    return course.autograde(LESSON, subs, Execute__timeout=120)


def hidden(result, exercise):
    return result.cells[f"l03_{exercise}_hidden"][0]


WRONG = {
    "upper_swapped_textbook": {"b_causal_mask", "a_lm_pairs", "c_next_word"},
    "no_padding_no_temperature": {"b_causal_mask", "c_next_word"},
    "first_row_last_position": {"b_causal_mask", "c_next_word"},
}


@pytest.mark.parametrize("student", sorted(WRONG))
def test_wrong_answers_lose_the_hidden_points_and_only_those(graded, student):
    result = graded[student]
    for exercise in EXERCISES:
        if exercise in WRONG[student]:
            assert hidden(result, exercise) == 0, f"{student}: {exercise} should lose its hidden points"
        else:
            assert hidden(result, exercise) == 2, f"{student}: {exercise} is right and keeps its points"


def test_wrong_answers_that_pass_the_visible_tests_are_caught_by_the_hidden_ones(graded):
    # a mask built from the first sequence only, and a sampler without temperature, look right on the
    # small visible examples (one sequence, temperature 1)
    result = graded["first_row_last_position"]
    assert result.cells["l03_b_causal_mask_visible"][0] == 1 and hidden(result, "b_causal_mask") == 0
    result = graded["no_padding_no_temperature"]
    assert result.cells["l03_c_next_word_visible"][0] == 1 and hidden(result, "c_next_word") == 0


def test_the_textbook_position_fails_already_in_the_visible_test(graded):
    result = graded["upper_swapped_textbook"]
    assert result.cells["l03_c_next_word_visible"][0] == 0
    assert result.cells["l03_a_lm_pairs_visible"][0] == 0
