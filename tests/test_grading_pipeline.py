"""The nbgrader pipeline, for every lesson in solutions/.

Through nbgrader's Python API (the `autograde` command exits 0 even when tests fail):
the committed release matches generation, leaks nothing, and fails the validator while
the source passes. (That the solution scores full marks and the blank release zero is
checked with the other fixture submissions in test_grade_command.py.)
"""

import nbformat
import pytest

from textgen_utils import course
from tests.grading import grade_ids

LESSONS = course.lessons()
IDS = [lesson.slug for lesson in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_committed_release_is_what_generation_produces(lesson):
    generated = course.generate_release(lesson)
    committed = lesson.release.read_bytes()
    assert committed == generated, (
        f"{lesson.release} differs from what nbgrader generates from {lesson.source}; "
        "run `make release` and commit notebooks/"
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_release_leaks_no_solution_or_hidden_test(lesson):
    text = lesson.release.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{lesson.release} contains {marker!r}"
    source = nbformat.read(lesson.source, as_version=4)
    for cell in source.cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            for line in hidden.strip().splitlines():
                if len(line.strip()) > 25:  # a distinctive line of a hidden test
                    assert line.strip() not in text, f"hidden test line leaked into {lesson.release}: {line!r}"


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_every_exercise_has_visible_and_hidden_tests(lesson):
    nb = nbformat.read(lesson.source, as_version=4)
    tests = grade_ids(nb, "tests")
    solutions = grade_ids(nb, "solution")
    assert solutions, f"{lesson.slug} has no exercises"
    for gid in solutions:
        stem = gid.removesuffix("_solution")
        assert f"{stem}_visible" in tests and f"{stem}_hidden" in tests, f"{gid}: needs {stem}_visible and {stem}_hidden"
    ids = grade_ids(nb)
    assert len(ids) == len(set(ids)), "grade_ids must be unique"


def test_grade_ids_are_unique_across_the_course():
    seen = {}
    for lesson in LESSONS:
        for gid in grade_ids(nbformat.read(lesson.source, as_version=4)):
            assert gid not in seen, f"grade_id {gid!r} is used in {seen.get(gid)} and {lesson.slug}"
            seen[gid] = lesson.slug


@pytest.mark.parametrize("lesson", LESSONS, ids=IDS)
def test_validator_passes_source_and_fails_release(lesson):
    source = course.validate(lesson.source)
    assert not source.get("failed") and not source.get("changed"), f"source fails validation: {source}"
    release = course.validate(lesson.release)
    assert release.get("failed"), "the unmodified release must fail nbgrader's validator"
