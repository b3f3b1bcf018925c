"""`textgen-course check`: course-wide consistency, each finding naming the lesson and the cell.

* the release in ``notebooks/`` has not drifted from what nbgrader generates;
* no solution or hidden test leaked into a release;
* every ``grade_id`` is unique across the course;
* every exercise has a visible and a hidden test cell;
* nbgrader's validator passes each source and fails each release (executes the notebooks);
* every markdown cell carries Korean and English;
* Korean terms follow GLOSSARY.md (no spelling it lists under "avoid").
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from textgen_utils import course

HANGUL = re.compile(r"[\uac00-\ud7a3]")
LATIN = re.compile(r"[A-Za-z]")
_NOISE = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|https?://\S+|<[^>]+>|\[[^\]]*\]\([^)]*\)", re.S)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@dataclasses.dataclass(frozen=True)
class Finding:
    lesson: str
    cell: str  # "cell 12" or "cell 12 (l01_a_reweight_hidden)" or "-" for the whole notebook
    message: str

    def __str__(self) -> str:
        return f"{self.lesson} {self.cell}: {self.message}"


def _cell_name(index: int, cell) -> str:
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index}" + (f" ({gid})" if gid else "")


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def check_release(lesson: course.Lesson) -> list[Finding]:
    findings = []
    if not lesson.release.is_file():
        return [Finding(lesson.slug, "-", "no student notebook in notebooks/; run `make release`")]
    if lesson.release.read_bytes() != course.generate_release(lesson):
        findings.append(Finding(lesson.slug, "-", "notebooks/ differs from what nbgrader generates; run `make release`"))
    release = _read(lesson.release)
    hidden_lines = set()
    for cell in _read(lesson.source).cells:
        if "### BEGIN HIDDEN TESTS" in cell.source:
            block = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            hidden_lines |= {line.strip() for line in block.splitlines() if len(line.strip()) > 25}
    for index, cell in enumerate(release.cells):
        for marker in MARKERS:
            if marker in cell.source:
                findings.append(Finding(lesson.slug, _cell_name(index, cell), f"release contains '{marker}'"))
        for line in cell.source.splitlines():
            if line.strip() in hidden_lines:
                findings.append(Finding(lesson.slug, _cell_name(index, cell), f"hidden test leaked: {line.strip()[:60]}"))
    return findings


def check_exercises(lesson: course.Lesson, seen: dict[str, str]) -> list[Finding]:
    findings = []
    nb = _read(lesson.source)
    tests = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if not gid:
            continue
        if gid in seen:
            findings.append(Finding(lesson.slug, _cell_name(index, cell), f"grade_id also used in {seen[gid]}"))
        seen[gid] = f"{lesson.slug} cell {index}"
        if meta.get("grade") and not meta.get("solution"):
            tests[gid] = cell
    for index, cell in enumerate(nb.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if not cell.metadata.get("nbgrader", {}).get("solution") or cell.cell_type != "code":
            continue
        stem = gid.removesuffix("_solution")
        visible, hidden = tests.get(f"{stem}_visible"), tests.get(f"{stem}_hidden")
        if visible is None or "assert" not in visible.source:
            findings.append(Finding(lesson.slug, _cell_name(index, cell), f"exercise has no visible test cell {stem}_visible"))
        if hidden is None or "### BEGIN HIDDEN TESTS" not in hidden.source:
            findings.append(Finding(lesson.slug, _cell_name(index, cell), f"exercise has no hidden test cell {stem}_hidden"))
    return findings


def check_validator(lesson: course.Lesson) -> list[Finding]:
    findings = []
    source = course.validate(lesson.source, lesson.root)
    for failed in source.get("failed", []):
        findings.append(Finding(lesson.slug, "source", f"a test fails on the solution: {failed.get('source', '')[:80]!r}"))
    if lesson.release.is_file() and not course.validate(lesson.release, lesson.root).get("failed"):
        findings.append(Finding(lesson.slug, "release", "the unmodified student notebook passes the validator"))
    return findings


def check_bilingual(lesson: course.Lesson) -> list[Finding]:
    """Every markdown cell has Korean and English, in comparable amounts."""
    findings = []
    for index, cell in enumerate(_read(lesson.source).cells):
        if cell.cell_type != "markdown":
            continue
        text = _NOISE.sub(" ", cell.source)
        korean, latin = len(HANGUL.findall(text)), len(LATIN.findall(text))
        if korean == 0:
            findings.append(Finding(lesson.slug, f"cell {index}", "markdown has no Korean"))
        elif latin < 3 or (korean > 40 and latin < korean):
            findings.append(Finding(lesson.slug, f"cell {index}", "markdown has no (or too little) English"))
    return findings


def glossary_variants(root: Path) -> dict[str, str]:
    """Spellings to avoid -> the glossary's Korean term, from GLOSSARY.md's 'avoid' column."""
    variants = {}
    for line in (root / "GLOSSARY.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and HANGUL.search(cells[0]) and cells[2] not in ("", "-"):
            for variant in cells[2].split(","):
                if variant.strip():
                    variants[variant.strip()] = cells[0]
    return variants


def check_glossary(lesson: course.Lesson, variants: dict[str, str]) -> list[Finding]:
    findings = []
    for index, cell in enumerate(_read(lesson.source).cells):
        if cell.cell_type != "markdown":
            continue
        for variant, term in variants.items():
            if variant in cell.source:
                findings.append(Finding(lesson.slug, f"cell {index}", f"uses '{variant}'; the glossary term is '{term}'"))
    return findings


def run_checks(root: Path | None = None, validate: bool = True, only: list[str] | None = None) -> list[Finding]:
    root = root or course.find_root()
    findings: list[Finding] = []
    seen: dict[str, str] = {}
    variants = glossary_variants(root)
    for lesson in course.lessons(root, only):
        findings += check_release(lesson)
        findings += check_exercises(lesson, seen)
        findings += check_bilingual(lesson)
        findings += check_glossary(lesson, variants)
        if validate:
            findings += check_validator(lesson)
    return findings
