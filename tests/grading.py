"""Helpers for grading tests: build student submissions from a lesson's release notebook."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from textgen_utils.course import Lesson

_SOLUTION_BLOCK = re.compile(r"[ \t]*### BEGIN SOLUTION\n(.*?)[ \t]*### END SOLUTION\n?", re.S)


def grade_ids(nb, kind: str | None = None) -> list[str]:
    """grade_ids of the nbgrader cells; kind: 'solution', 'tests' or None for all."""
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if "grade_id" not in meta:
            continue
        if kind == "solution" and not meta.get("solution"):
            continue
        if kind == "tests" and not (meta.get("grade") and not meta.get("solution")):
            continue
        out.append(meta["grade_id"])
    return out


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
        cell_by_id(nb, gid).source = answers.get(gid, solved_source(lesson, gid))
    if edit is not None:
        edit(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def points(result, suffix: str) -> float:
    """Total points of the graded cells whose grade_id ends with ``suffix`` ('_hidden', '_visible')."""
    return sum(score for gid, (score, _) in result.cells.items() if gid.endswith(suffix))
