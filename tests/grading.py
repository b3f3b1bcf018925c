"""Helpers for grading tests: build student submissions from a lesson's release notebook."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from textgen_utils.course import Lesson, grade_ids  # noqa: F401 (re-exported for the tests)

_SOLUTION_BLOCK = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


def cell_by_id(nb, grade_id: str):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    raise KeyError(grade_id)


def solved_source(lesson: Lesson, grade_id: str) -> str:
    """The instructor's solution cell with the nbgrader markers removed (what a correct student writes)."""
    source = cell_by_id(nbformat.read(lesson.source, as_version=4), grade_id).source
    return _SOLUTION_BLOCK.sub(lambda m: m.group(1), source)


def submission(lesson: Lesson, path: Path, answers: dict[str, str] | None = None, edit=None) -> Path:
    """Write a student's notebook: the release with ``answers`` (grade_id -> source) filled in.

    Solution cells not in ``answers`` get the instructor's solution. ``edit(nb)``
    may change the notebook further (delete or edit cells, append cells).
    """
    nb = nbformat.read(lesson.release, as_version=4)
    answers = answers or {}
    for gid in grade_ids(nb, "solution"):
        cell_by_id(nb, gid).source = answers[gid] if gid in answers else solved_source(lesson, gid)
    if edit is not None:
        edit(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def points(result, suffix: str) -> float:
    """Total points of the graded cells whose grade_id ends with ``suffix`` ('_hidden', '_visible')."""
    return sum(score for gid, (score, _) in result.cells.items() if gid.endswith(suffix))


# --- one fixture submission of each kind (issue: submissions that must not break grading) ---

FIXTURE_KINDS = [
    "correct", "blank", "wrong", "raises_at_import", "loops_forever", "prints_megabytes",
    "edited_tests", "reordered_duplicated", "wrong_lesson", "corrupted_json", "not_a_notebook",
]


def wrong_source(lesson: Lesson, grade_id: str) -> str:
    """A plausible wrong answer: the solution block replaced by `return None` (or `pass` at top level)."""
    source = cell_by_id(nbformat.read(lesson.source, as_version=4), grade_id).source

    def body(match):
        indent = re.match(r"[ \t]*", match.group(0)).group(0)
        return f"{indent}return None\n" if indent else "pass\n"

    return _SOLUTION_BLOCK.sub(body, source)


def first_exercise(lesson: Lesson) -> str:
    """The stem (``lNN_x_name``) of the first exercise in the notebook."""
    return grade_ids(nbformat.read(lesson.release, as_version=4), "solution")[0].removesuffix("_solution")


def write_fixtures(lesson: Lesson, other: Lesson, folder: Path) -> dict[str, Path]:
    """Write one submission per kind into ``folder`` (``<kind>.ipynb``, plus a .docx)."""
    folder.mkdir(parents=True, exist_ok=True)
    release = nbformat.read(lesson.release, as_version=4)
    solutions = grade_ids(release, "solution")
    first = solutions[0]
    paths = {}

    def nb_path(kind):
        return folder / f"{kind}.ipynb"

    paths["correct"] = submission(lesson, nb_path("correct"))
    blank = nb_path("blank")
    blank.write_bytes(lesson.release.read_bytes())
    paths["blank"] = blank
    paths["wrong"] = submission(lesson, nb_path("wrong"), {gid: wrong_source(lesson, gid) for gid in solutions})

    def raise_in_setup(nb):
        setup = next(c for c in nb.cells if c.cell_type == "code")
        setup.source = "import textgen_utils_that_does_not_exist  # a typo in the first cell\n" + setup.source

    paths["raises_at_import"] = submission(lesson, nb_path("raises_at_import"), edit=raise_in_setup)
    loop = "\nimport time\nwhile True:  # an endless loop\n    time.sleep(0.2)\n"
    paths["loops_forever"] = submission(lesson, nb_path("loops_forever"), {first: wrong_source(lesson, first) + loop})
    noisy = solved_source(lesson, first) + "\nprint('x' * 4_000_000)\nfor i in range(20_000):\n    print(i)\n"
    paths["prints_megabytes"] = submission(lesson, nb_path("prints_megabytes"), {first: noisy})

    def edit_tests(nb):
        stem = first.removesuffix("_solution")
        cell_by_id(nb, f"{stem}_visible").source = "pass  # the student deleted the asserts"
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != f"{stem}_hidden"]

    paths["edited_tests"] = submission(lesson, nb_path("edited_tests"), {first: wrong_source(lesson, first)},
                                       edit=edit_tests)

    def reorder_and_duplicate(nb):
        import copy

        marks = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
        a, b = marks[1], marks[2]
        nb.cells[a], nb.cells[b] = nb.cells[b], nb.cells[a]
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == first)
        nb.cells.insert(index + 1, copy.deepcopy(nb.cells[index]))  # same grade_id twice, same cell id too

    paths["reordered_duplicated"] = submission(lesson, nb_path("reordered_duplicated"), edit=reorder_and_duplicate)
    paths["wrong_lesson"] = submission(other, nb_path("wrong_lesson"))
    corrupt = nb_path("corrupted_json")
    corrupt.write_text(paths["correct"].read_text(encoding="utf-8")[:5000], encoding="utf-8")
    paths["corrupted_json"] = corrupt
    essay = folder / "not_a_notebook.docx"
    essay.write_bytes(b"PK\x03\x04 my essay about temperature")
    paths["not_a_notebook"] = essay
    assert set(paths) == set(FIXTURE_KINDS)
    return paths
