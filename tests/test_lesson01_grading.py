"""Grading lesson 01: typical wrong answers lose the hidden-test points; a looping
submission is stopped by the cell timeout while the rest still grades; edited or
deleted test cells are graded against the original tests."""

import nbformat
import pytest

from textgen_utils import course
from tests.grading import cell_by_id, points, submission

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

LOOPS_FOREVER = """
def reweight_distribution(distribution, temperature=0.5):
    while True:
        pass

reweight_distribution([0.5, 0.5])
"""


def _edit_and_delete_tests(nb):
    cell_by_id(nb, "l01_a_reweight_visible").source = "assert True  # tests edited by the student"
    cell_by_id(nb, "l01_c_sampler_hidden").source = "pass"
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in
                {"l01_a_reweight_hidden", "l01_b_entropy_visible"}]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l01")
    wrong_a = {"l01_a_reweight_solution": DIVIDES_BY_T}
    subs = {
        # one wrong answer per exercise where they do not interfere, to keep grading cheap
        "divides_by_t": submission(LESSON, tmp / "a.ipynb", {**wrong_a, "l01_c_sampler_solution": IGNORES_TEMPERATURE}),
        "not_renormalised": submission(LESSON, tmp / "b.ipynb", {"l01_a_reweight_solution": NOT_RENORMALISED}),
        "seed_version": submission(LESSON, tmp / "c.ipynb", {"l01_a_reweight_solution": SEED_VERSION}),
        "loops_forever": submission(LESSON, tmp / "e.ipynb", {"l01_a_reweight_solution": LOOPS_FOREVER}),
        "edited_and_deleted_tests": submission(LESSON, tmp / "f.ipynb", wrong_a, edit=_edit_and_delete_tests),
    }
    # A short cell timeout keeps the looping submission cheap; every honest cell of
    # lesson 01 runs in well under a second in smoke mode.
    return course.autograde(LESSON, subs, Execute__timeout=20)


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


def test_a_looping_submission_is_stopped_and_the_rest_still_grades(graded):
    result = graded["loops_forever"]
    assert _hidden(result, "a_reweight") == 0
    assert result.cells["l01_b_entropy_visible"][0] == 1 and _hidden(result, "c_sampler") == 2


def test_edited_or_deleted_test_cells_are_graded_with_the_original_tests(graded):
    result = graded["edited_and_deleted_tests"]
    assert set(result.cells) == set(graded["divides_by_t"].cells), "every test cell is graded"
    assert result.cells["l01_a_reweight_visible"][0] == 0
    assert _hidden(result, "a_reweight") == 0
    assert result.cells["l01_b_entropy_visible"][0] == 1
    assert _hidden(result, "c_sampler") == 2
    assert points(result, "_hidden") == 1 + 2, "only (b) and (c) hidden points: (a) is wrong"
