"""`textgen-course grade`: every kind of bad submission gets a score or a clear error, the batch always
finishes, other students are unaffected, and a second run reuses the grades already made."""

import csv

import pytest

from textgen_utils import course, grading
from tests.grading import FIXTURE_KINDS, first_exercise, points, write_fixtures

LESSONS = course.lessons()
IDS = [lesson.slug for lesson in LESSONS]
CELL_TIMEOUT = 45  # every honest smoke-mode cell finishes well within this on a loaded 2-core machine


def other_lesson(lesson):
    return LESSONS[(LESSONS.index(lesson) + 1) % len(LESSONS)]


@pytest.fixture(scope="module", params=LESSONS, ids=IDS)
def graded(request, tmp_path_factory):
    lesson = request.param
    tmp = tmp_path_factory.mktemp(lesson.slug)
    write_fixtures(lesson, other_lesson(lesson), tmp / "submissions")
    results = grading.grade_folder(tmp / "submissions", lesson.slug, tmp / "out", jobs=2,
                                   cell_timeout=CELL_TIMEOUT, progress=False)
    return lesson, tmp, {r.student: r for r in results}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_submission_gets_a_row_in_a_sorted_csv(graded):
    lesson, tmp, results = graded
    rows = read_csv(tmp / "out" / "grades.csv")
    assert [r["student"] for r in rows] == sorted(FIXTURE_KINDS)
    header = list(rows[0])
    assert header[:5] == ["student", "assignment", "status", "score", "max_score"]
    assert header[-2:] == ["error", "notes"]
    exercise_columns = header[5:-2]
    assert exercise_columns and all(c.startswith(f"l{lesson.slug[:2]}_") for c in exercise_columns)
    assert all(r["assignment"] == lesson.slug for r in rows)


def test_scores_of_notebooks_that_run(graded):
    lesson, tmp, results = graded
    full = results["correct"].max_score
    assert full > 0 and results["correct"].score == full, results["correct"]
    blank = results["blank"]
    assert blank.status == "graded" and blank.max_score == full
    assert all(score == 0 for score, _ in blank.cells.values()), f"the blank release scored: {blank.cells}"
    wrong = results["wrong"]
    assert wrong.status == "graded" and wrong.score < full and points(wrong, "_hidden") == 0
    assert results["raises_at_import"].status == "graded"
    assert results["prints_megabytes"].status == "graded" and results["prints_megabytes"].score == full
    assert results["reordered_duplicated"].status == "graded" and results["reordered_duplicated"].score == full
    assert any("duplicate" in note for note in results["reordered_duplicated"].notes)


def test_a_loop_loses_only_its_exercise(graded):
    lesson, tmp, results = graded
    looped = results["loops_forever"]
    stem = first_exercise(lesson)
    assert looped.status == "graded"
    for gid, (score, maximum) in looped.cells.items():
        expected = 0 if gid.startswith(stem) else maximum
        assert score == expected, f"{gid}: {score} (the loop should cost only {stem})"


def test_edited_and_deleted_tests_are_restored(graded):
    lesson, tmp, results = graded
    edited, correct = results["edited_tests"], results["correct"]
    stem = first_exercise(lesson)
    assert set(edited.cells) == set(correct.cells), "deleted test cells are graded anyway"
    assert edited.cells[f"{stem}_visible"][0] == 0 and edited.cells[f"{stem}_hidden"][0] == 0


@pytest.mark.parametrize("kind, fragment", [
    ("wrong_lesson", "lesson"), ("corrupted_json", "corrupted JSON"), ("not_a_notebook", "Not a notebook"),
])
def test_unusable_files_get_a_clear_error(graded, kind, fragment):
    lesson, tmp, results = graded
    result = results[kind]
    assert result.status == "error" and fragment in result.error
    if kind == "wrong_lesson":
        assert other_lesson(lesson).slug[:2] in result.error
    assert result.max_score == results["correct"].max_score


def test_feedback_is_written_and_keeps_hidden_tests_hidden(graded):
    lesson, tmp, results = graded
    feedback = tmp / "out" / "feedback"
    graded_students = {s for s, r in results.items() if r.status == "graded"}
    assert {p.stem for p in feedback.glob("*.html")} == graded_students
    html = (feedback / "wrong.html").read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in html and "hidden tests" in html
    assert (feedback / "prints_megabytes.html").stat().st_size < 3_000_000, "output is truncated"


def test_a_second_run_reuses_every_grade(graded, monkeypatch):
    lesson, tmp, results = graded

    def must_not_run(*args, **kwargs):
        raise AssertionError("a submission was graded again")

    monkeypatch.setattr(grading, "_run_worker", must_not_run)
    again = grading.grade_folder(tmp / "submissions", lesson.slug, tmp / "out", cell_timeout=CELL_TIMEOUT,
                                 progress=False)
    assert {r.student: r.score for r in again} == {s: r.score for s, r in results.items()}
