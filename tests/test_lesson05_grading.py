"""Grading lesson 05: typical wrong answers to each exercise lose the hidden-test points
(and the visible ones where the visible tests can see the mistake)."""

import pytest

from textgen_utils import course
from tests.grading import submission

LESSON = course.lessons(only=["05"])[0]

# (a) labels packed like the features: nothing is shifted, the model would learn to copy
NO_SHIFT = """
def preprocess(inputs):
    tokens = start_packer(tokenizer(inputs))
    return tokens, tokens
"""

# (a) right on one string, but NumPy cannot run inside tf.data's map
NUMPY_PREPROCESS = """
def preprocess(inputs):
    labels = np.asarray(tokenizer(inputs))
    features = np.asarray(start_packer(labels))
    return features, labels
"""

# (b) runs the empty slot at `index` instead of the last known token at `index - 1`
WRONG_SLOT = """
def next_token_logits(prompt, cache, index):
    token = prompt[:, index : index + 1]
    logits, cache = gen.call_with_cache(model, token, cache, index)
    return logits[:, 0, :], None, cache
"""

# (b) right logits for one step, but hands the samplers the old cache
STALE_CACHE = """
def next_token_logits(prompt, cache, index):
    token = prompt[:, index - 1 : index]
    logits, _ = gen.call_with_cache(model, token, cache, index - 1)
    return logits[:, 0, :], None, cache
"""

# (c) the mean of per-token perplexities instead of exp of the mean cross-entropy
MEAN_OF_EXPS = """
def perplexity_from_logits(labels, logits, pad_id=0):
    ce = keras.ops.convert_to_numpy(keras.ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    keep = np.asarray(labels) != pad_id
    return float(np.mean(np.exp(ce[keep])))
"""

# (c) counts the [PAD] positions (smoke validation batches have none, so only hidden tests see it)
PADDING_COUNTED = """
def perplexity_from_logits(labels, logits, pad_id=0):
    ce = keras.ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return float(keras.ops.exp(keras.ops.mean(ce)))
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l05")
    subs = {
        "obvious": submission(LESSON, tmp / "a.ipynb", {
            "l05_a_preprocess_solution": NO_SHIFT,
            "l05_b_next_solution": WRONG_SLOT,
            "l05_c_perplexity_solution": MEAN_OF_EXPS,
        }),
        "subtle": submission(LESSON, tmp / "b.ipynb", {
            "l05_a_preprocess_solution": NUMPY_PREPROCESS,
            "l05_b_next_solution": STALE_CACHE,
            "l05_c_perplexity_solution": PADDING_COUNTED,
        }),
    }
    return course.autograde(LESSON, subs)


@pytest.mark.parametrize("exercise", ["a_preprocess", "b_next", "c_perplexity"])
def test_obvious_mistakes_lose_visible_and_hidden_points(graded, exercise):
    cells = graded["obvious"].cells
    assert cells[f"l05_{exercise}_visible"][0] == 0
    assert cells[f"l05_{exercise}_hidden"][0] == 0


@pytest.mark.parametrize("exercise", ["a_preprocess", "c_perplexity"])
def test_subtle_mistakes_pass_the_visible_tests_but_not_the_hidden_ones(graded, exercise):
    cells = graded["subtle"].cells
    assert cells[f"l05_{exercise}_visible"][0] == cells[f"l05_{exercise}_visible"][1] > 0
    assert cells[f"l05_{exercise}_hidden"][0] == 0


def test_a_stale_cache_loses_the_hidden_points(graded):
    assert graded["subtle"].cells["l05_b_next_hidden"][0] == 0
    assert graded["subtle"].score == 2, "only the two misleading visible tests score"
