"""Grading lesson 01: typical wrong answers lose the hidden-test points.

(A looping submission, and edited or deleted test cells, are graded for every
lesson with the other fixture submissions in test_grade_command.py.)"""

import pytest

from textgen_utils import course
from tests.grading import submission

LESSON = course.lessons(only=["01"])[0]

DIVIDES_BY_T = """
def reweight_distribution(distribution, temperature=0.5):
    p = np.asarray(distribution, dtype=float) / temperature
    return p / p.sum()
"""

NOT_RENORMALISED = """
def reweight_distribution(distribution, temperature=0.5):
    p = np.asarray(distribution, dtype=float)
    with np.errstate(divide="ignore"):
        return np.exp(np.log(p) / temperature)
"""

SEED_VERSION = """
def reweight_distribution(distribution, temperature=0.5):
    distribution = np.log(distribution) / temperature
    distribution = np.exp(distribution)
    return distribution / np.sum(distribution)
"""

IGNORES_TEMPERATURE = """
def sample_token(distribution, temperature, rng):
    p = np.asarray(distribution, dtype=float)
    return int(rng.choice(len(p), p=p))
"""

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l01")
    wrong_a = {"l01_a_reweight_solution": DIVIDES_BY_T}
    subs = {
        # one wrong answer per exercise where they do not interfere, to keep grading cheap
        "divides_by_t": submission(LESSON, tmp / "a.ipynb", {**wrong_a, "l01_c_sampler_solution": IGNORES_TEMPERATURE}),
        "not_renormalised": submission(LESSON, tmp / "b.ipynb", {"l01_a_reweight_solution": NOT_RENORMALISED}),
        "seed_version": submission(LESSON, tmp / "c.ipynb", {"l01_a_reweight_solution": SEED_VERSION}),
    }
    return course.autograde(LESSON, subs)


def _hidden(result, exercise):
    return result.cells[f"l01_{exercise}_hidden"][0]


@pytest.mark.parametrize("student", ["divides_by_t", "not_renormalised"])
def test_typical_wrong_reweighting_loses_the_hidden_points(graded, student):
    result = graded[student]
    assert _hidden(result, "a_reweight") == 0
    assert _hidden(result, "b_entropy") == 1, "the other exercises are unaffected"


def test_the_seeds_naive_version_fails_only_the_hidden_tests(graded):
    result = graded["seed_version"]
    assert result.cells["l01_a_reweight_visible"][0] == 1, "the naive version is right on small inputs"
    assert _hidden(result, "a_reweight") == 0, "zeros/tiny temperatures/large arrays must catch it"


def test_a_sampler_that_ignores_temperature_fails(graded):
    result = graded["divides_by_t"]
    assert result.cells["l01_c_sampler_visible"][0] == 0 and _hidden(result, "c_sampler") == 0
    assert graded["not_renormalised"].cells["l01_c_sampler_hidden"][0] == 2, "a correct sampler keeps its points"
