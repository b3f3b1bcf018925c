"""The parts of `textgen-course grade` that run before nbgrader: finding and preparing submissions."""

import copy

import nbformat
import pytest

from textgen_utils import course, grading
from tests.grading import grade_ids, submission

LESSON = course.lessons(only=["01"])[0]
SOURCE_IDS = set(grade_ids(nbformat.read(LESSON.source, as_version=4)))


def test_find_submissions_in_a_flat_folder_and_in_nbgrader_layout(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("kim.ipynb", "lee.ipynb", "park.docx", ".DS_Store"):
        (flat / name).write_text("{}")
    assert set(grading.find_submissions(flat, "01_sampling")) == {"kim", "lee", "park"}

    course_dir = tmp_path / "course"
    for student in ("choi", "jung"):
        folder = course_dir / "submitted" / student / "01_sampling"
        folder.mkdir(parents=True)
        (folder / "01_sampling.ipynb").write_text("{}")
    (course_dir / "submitted" / "han" / "02_char_lstm").mkdir(parents=True)  # another assignment only
    for where in (course_dir, course_dir / "submitted"):
        found = grading.find_submissions(where, "01_sampling")
        assert found == {s: course_dir / "submitted" / s / "01_sampling" / "01_sampling.ipynb" for s in ("choi", "jung")}


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(course.CourseError, match="No such submissions folder"):
        grading.find_submissions(tmp_path / "nope", "01_sampling")


def test_prepare_rejects_unusable_files_with_bilingual_errors(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [')
    with pytest.raises(ValueError, match="corrupted JSON") as info:
        grading.prepare(bad, LESSON, SOURCE_IDS)
    assert "손상" in str(info.value)
    with pytest.raises(ValueError, match="Not a notebook"):
        grading.prepare(tmp_path / "essay.pdf", LESSON, SOURCE_IDS)
    other = nbformat.read(LESSON.release, as_version=4)
    for cell in other.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader.grade_id = cell.metadata.nbgrader.grade_id.replace("l01_", "l03_")
    nbformat.write(other, tmp_path / "other.ipynb")
    with pytest.raises(ValueError, match="lesson 03"):
        grading.prepare(tmp_path / "other.ipynb", LESSON, SOURCE_IDS)


def test_duplicated_cells_keep_only_the_first_graded_copy(tmp_path):
    def duplicate(nb):
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id"))
        nb.cells.insert(index + 1, copy.deepcopy(nb.cells[index]))

    path = submission(LESSON, tmp_path / "dup.ipynb", edit=duplicate)
    nb, notes = grading.prepare(path, LESSON, SOURCE_IDS)
    ids = grade_ids(nb)
    assert len(ids) == len(set(ids)) == len(SOURCE_IDS)
    assert len({c["id"] for c in nb.cells}) == len(nb.cells), "cell ids are unique again"
    assert notes and "duplicate" in notes[0]


def test_metadata_dropped_by_an_editor_is_restored(tmp_path):
    def strip(nb):
        for cell in nb.cells:
            cell.metadata.pop("nbgrader", None)

    path = submission(LESSON, tmp_path / "stripped.ipynb", edit=strip)
    nb, notes = grading.prepare(path, LESSON, SOURCE_IDS)
    assert set(grade_ids(nb)) == SOURCE_IDS
    solution = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "l01_a_reweight_solution")
    assert "def reweight_distribution" in solution.source and "NotImplementedError" not in solution.source
    assert any("restored" in n for n in notes)


def test_exercise_points_sum_visible_and_hidden():
    cells = {"l01_a_x_visible": [1, 1], "l01_a_x_hidden": [2, 2], "l01_b_y_visible": [0, 1]}
    assert grading.exercises(cells) == {"l01_a_x": 3, "l01_b_y": 0}
    assert grading.max_points(LESSON) == 8
