"""The course on disk: lessons, the nbgrader release, validation and autograding.

Lessons are discovered from ``solutions/NN_slug/NN_slug.ipynb`` (the nbgrader
source notebooks); ``notebooks/`` holds the student versions that
:func:`release` generates. Everything here drives nbgrader through its Python
API, with the settings of the repository's ``nbgrader_config.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
from pathlib import Path

from textgen_utils.errors import CourseError

SOURCE_DIR = "solutions"
RELEASE_DIR = "notebooks"
CONFIG_FILE = "nbgrader_config.py"
_SLUG = re.compile(r"^\d\d_[a-z0-9_]+$")


@dataclasses.dataclass(frozen=True)
class Lesson:
    slug: str  # "01_sampling"
    root: Path  # the course root

    @property
    def number(self) -> int:
        return int(self.slug[:2])

    @property
    def source(self) -> Path:
        return self.root / SOURCE_DIR / self.slug / f"{self.slug}.ipynb"

    @property
    def release(self) -> Path:
        return self.root / RELEASE_DIR / self.slug / f"{self.slug}.ipynb"


def find_root(start: str | os.PathLike | None = None) -> Path:
    """The course root: the nearest folder upwards holding ``nbgrader_config.py`` and ``solutions/``."""
    here = Path(start or Path.cwd()).resolve()
    candidates = [here, *here.parents, Path(__file__).resolve().parent.parent]
    for folder in candidates:
        if (folder / CONFIG_FILE).is_file() and (folder / SOURCE_DIR).is_dir():
            return folder
    raise CourseError(
        f"강의 저장소를 찾지 못했습니다 ({CONFIG_FILE}와 {SOURCE_DIR}/가 있는 폴더). 저장소 안에서 실행하세요.",
        f"Cannot find the course repository (a folder with {CONFIG_FILE} and {SOURCE_DIR}/). "
        "Run this inside the repository.",
    )


def lessons(root: Path | None = None, only: list[str] | None = None) -> list[Lesson]:
    """All lessons in ``solutions/``, in order; ``only`` picks some by slug or number."""
    root = root or find_root()
    found = [
        Lesson(p.name, root)
        for p in sorted((root / SOURCE_DIR).iterdir())
        if p.is_dir() and _SLUG.match(p.name) and (p / f"{p.name}.ipynb").is_file()
    ]
    if not only:
        return found
    chosen = []
    for name in only:
        match = [les for les in found if les.slug == name or les.slug.startswith(f"{name.zfill(2)}_")]
        if not match:
            known = ", ".join(les.slug for les in found)
            raise CourseError(
                f"'{name}' 라는 레슨이 없습니다. 있는 레슨: {known}",
                f"There is no lesson '{name}'. Lessons: {known}",
            )
        chosen.extend(m for m in match if m not in chosen)
    return chosen


# --- nbgrader plumbing -----------------------------------------------------------------


def _venv_on_path() -> None:
    """nbgrader runs `alembic` from PATH: make sure this interpreter's scripts folder is there."""
    import sys

    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def nbgrader_config(course_root: Path, repo_root: Path | None = None, **overrides):
    """The repository's nbgrader settings, pointed at ``course_root`` with a private gradebook."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    repo_root = repo_root or find_root()
    config = PyFileConfigLoader(CONFIG_FILE, path=str(repo_root)).load_config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.db_url = f"sqlite:///{course_root / 'gradebook.db'}"
    for dotted, value in overrides.items():  # e.g. Execute__timeout=10
        section, key = dotted.split("__")
        config[section][key] = value
    return Config(config)


def _api(config):
    from nbgrader.apps import NbGraderAPI

    _venv_on_path()
    return NbGraderAPI(config=config)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        detail = (result.get("error") or "") + "\n" + (result.get("log") or "")
        raise CourseError(f"nbgrader {what} 실패:", f"nbgrader {what} failed:", detail.strip())


@contextlib.contextmanager
def temporary_course(lesson: Lesson, **overrides):
    """A throw-away nbgrader course holding one lesson's source, already generated."""
    with tempfile.TemporaryDirectory(prefix="textgen-course-") as tmp:
        course = Path(tmp)
        shutil.copytree(lesson.source.parent, course / SOURCE_DIR / lesson.slug)
        config = nbgrader_config(course, lesson.root, **overrides)
        api = _api(config)
        _check(api.generate_assignment(lesson.slug, force=True), f"generate_assignment {lesson.slug}")
        yield course, api


def generate_release(lesson: Lesson) -> bytes:
    """The student notebook that nbgrader generates from the lesson's source, as bytes."""
    with temporary_course(lesson) as (course, _):
        return (course / RELEASE_DIR / lesson.slug / f"{lesson.slug}.ipynb").read_bytes()


def release(lesson: Lesson) -> Path:
    """Regenerate ``notebooks/NN_slug/`` from ``solutions/NN_slug/``."""
    data = generate_release(lesson)
    lesson.release.parent.mkdir(parents=True, exist_ok=True)
    lesson.release.write_bytes(data)
    return lesson.release


def validate(notebook: Path, root: Path | None = None) -> dict:
    """nbgrader's validator on one notebook: a dict with 'passed'/'failed'/'changed' lists."""
    from nbgrader.validator import Validator

    _venv_on_path()
    root = root or find_root()
    with tempfile.TemporaryDirectory() as tmp:
        config = nbgrader_config(Path(tmp), root)
        return Validator(config=config).validate(str(notebook))


def grade_ids(nb, kind: str | None = None) -> list[str]:
    """grade_ids of a notebook's nbgrader cells; kind: 'solution', 'tests' or None for all."""
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


@dataclasses.dataclass
class GradeResult:
    student: str
    score: float
    max_score: float
    cells: dict  # grade_id -> (score, max_score)
    autograded: Path | None = None


def autograde(lesson: Lesson, submissions: dict[str, Path], **overrides) -> dict[str, GradeResult]:
    """Autograde each student's notebook against the lesson's source.

    ``submissions`` maps a student id to a notebook file. ``overrides`` set
    nbgrader options, e.g. ``Execute__timeout=10``.
    """
    results = {}
    with temporary_course(lesson, **overrides) as (course, api):
        for student, path in submissions.items():
            target = course / "submitted" / student / lesson.slug / f"{lesson.slug}.ipynb"
            target.parent.mkdir(parents=True)
            shutil.copyfile(path, target)
            _check(api.autograde(lesson.slug, student, force=True, create=True), f"autograde {student}")
        for student in submissions:
            results[student] = read_grades(course, lesson.slug, student)
    return results


def read_grades(course_dir: Path, slug: str, student: str) -> GradeResult:
    """A student's autograded scores, per cell and in total, from the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        sub = gb.find_submission(slug, student)
        cells = {grade.name: (float(grade.score), float(grade.max_score))
                 for nb in sub.notebooks for grade in nb.grades}
        return GradeResult(student, float(sub.score), float(sub.max_score), cells)
