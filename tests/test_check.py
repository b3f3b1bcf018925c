"""`textgen-course check`: clean on the repository, and each kind of defect is caught and located."""

import shutil
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from textgen_utils import checks, course

ROOT = course.find_root()


def test_the_course_is_clean():
    findings = checks.run_checks(ROOT, validate=False)  # the validator runs per lesson in test_grading_pipeline
    assert findings == [], "\n".join(map(str, findings))


def tiny_lesson(prefix="l01", markdown=None, hidden=True, answer="2 * v", weak_tests=False):
    def graded(cell, gid, **meta):
        cell.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, "task": False, **meta}
        return cell

    body = f"    ### BEGIN SOLUTION\n    return {answer}\n    ### END SOLUTION"
    visible = "assert True, 'tests nothing'" if weak_tests else "assert double(2) == 4, '두 배 / double'"
    hidden_check = "assert True  # tests nothing at all, not even a little" if weak_tests else \
        "assert double(21) == 42, 'the distinctive hidden line'"
    cells = [
        new_markdown_cell(markdown or "## 두 배 / Double\n\n값을 두 배로 만드는 함수를 씁니다.\n\n> Write a function that doubles its input."),
        graded(new_code_cell(f"def double(v):\n{body}"), f"{prefix}_a_double_solution",
               solution=True, grade=False, locked=False),
        graded(new_code_cell(visible), f"{prefix}_a_double_visible",
               solution=False, grade=True, locked=True, points=1),
    ]
    if hidden:
        cells.append(graded(new_code_cell(
            f"# hidden tests\n### BEGIN HIDDEN TESTS\n{hidden_check}\n### END HIDDEN TESTS"), f"{prefix}_a_double_hidden", solution=False, grade=True, locked=True, points=1))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def make_course(tmp_path, lessons):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copy(ROOT / "GLOSSARY.md", tmp_path)
    for slug, nb in lessons.items():
        (tmp_path / "solutions" / slug).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "solutions" / slug / f"{slug}.ipynb")
        course.release(course.Lesson(slug, tmp_path))
    return tmp_path


def findings_for(root, **kwargs):
    return [str(f) for f in checks.run_checks(root, **kwargs)]


def test_a_clean_tiny_course_passes_every_check_including_the_validator(tmp_path):
    root = make_course(tmp_path, {"01_tiny": tiny_lesson()})
    assert findings_for(root) == []


def test_drift_and_leaks_are_caught(tmp_path):
    root = make_course(tmp_path, {"01_tiny": tiny_lesson()})
    release = root / "notebooks" / "01_tiny" / "01_tiny.ipynb"
    nb = nbformat.read(release, as_version=4)
    nb.cells[1].source += "\n### BEGIN SOLUTION\nassert double(21) == 42, 'the distinctive hidden line'"
    nbformat.write(nb, release)
    found = findings_for(root, validate=False)
    assert any("differs from what nbgrader generates" in f for f in found)
    assert any(f.startswith("01_tiny cell 1 (l01_a_double_solution)") and "BEGIN SOLUTION" in f for f in found)
    assert any("hidden test leaked" in f and "cell 1" in f for f in found)


def test_duplicate_grade_ids_across_lessons(tmp_path):
    root = make_course(tmp_path, {"01_tiny": tiny_lesson(), "02_copy": tiny_lesson()})
    found = findings_for(root, validate=False)
    assert any(f.startswith("02_copy cell 1 (l01_a_double_solution)") and "also used in 01_tiny" in f for f in found)


def test_an_exercise_without_hidden_tests(tmp_path):
    root = make_course(tmp_path, {"01_tiny": tiny_lesson(hidden=False)})
    assert findings_for(root, validate=False) == [
        "01_tiny cell 1 (l01_a_double_solution): exercise has no hidden test cell l01_a_double_hidden"]


def test_validator_failures(tmp_path):
    root = make_course(tmp_path, {"01_wrong": tiny_lesson(answer="3 * v"),
                                  "02_weak": tiny_lesson(prefix="l02", weak_tests=True)})
    found = findings_for(root)
    assert any(f.startswith("01_wrong source: a test fails on the solution") for f in found)
    assert "02_weak release: the unmodified student notebook passes the validator" in found


@pytest.mark.parametrize("markdown, message", [
    ("## 두 배\n\n한국어로만 쓴 설명입니다. 영어 번역이 빠졌습니다. 이런 셀은 안 됩니다. 학습자 절반이 못 읽습니다.", "no (or too little) English"),
    ("## Double\n\n> Only English here, which half of the learners would miss.", "no Korean"),
])
def test_markdown_must_carry_both_languages(tmp_path, markdown, message):
    root = make_course(tmp_path, {"01_tiny": tiny_lesson(markdown=markdown)})
    assert findings_for(root, validate=False) == [f"01_tiny cell 0: markdown has {message}"]


def test_glossary_spellings(tmp_path):
    md = "## 에폭 / Epoch\n\n한 에폭은 데이터를 한 번 도는 것입니다.\n\n> One epoch is one pass over the data."
    root = make_course(tmp_path, {"01_tiny": tiny_lesson(markdown=md)})
    assert findings_for(root, validate=False) == ["01_tiny cell 0: uses '에폭'; the glossary term is '에포크'"]


def test_check_command_exit_codes(tmp_path):
    root = make_course(tmp_path, {"01_tiny": tiny_lesson(hidden=False)})
    run = subprocess.run([sys.executable, "-m", "textgen_utils", "check", "--no-validate"], cwd=root,
                         capture_output=True, text=True)
    assert run.returncode == 1 and "01_tiny cell 1" in run.stdout and "1 finding(s)" in run.stdout
