"""`textgen-course grade`: autograde a folder of submissions without babysitting nbgrader.

Every student is graded in a subprocess of their own, in a private copy of a
prepared nbgrader course, with a per-cell timeout and a wall-clock limit. A
broken submission (not a notebook, corrupt JSON, another lesson's notebook,
endless loops, megabytes of output, edited or duplicated cells) gets a score or
a clear error in its row; it never stops the batch. Results are kept per
student, so a second run skips work already done.

Output (in ``out``): ``grades.csv`` and ``feedback/<student>.html``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from textgen_utils import course
from textgen_utils.errors import bilingual

STATE_DIR = ".state"
DEFAULT_CELL_TIMEOUT = 120
DEFAULT_STUDENT_TIMEOUT = 900


@dataclasses.dataclass
class StudentResult:
    student: str
    assignment: str
    status: str  # "graded" or "error"
    score: float = 0.0
    max_score: float = 0.0
    cells: dict = dataclasses.field(default_factory=dict)  # grade_id -> [score, max_score]
    error: str = ""
    key: str = ""  # what the result depends on; a second run reuses it when unchanged
    notes: list = dataclasses.field(default_factory=list)


# --- finding submissions ---------------------------------------------------------------


def find_submissions(folder: Path, assignment: str) -> dict[str, Path]:
    """Map student -> submitted file.

    Accepts a folder of ``<student>.<ext>`` files, or nbgrader's
    ``submitted/<student>/<assignment>/*.ipynb`` layout (pointing at the course
    folder, at ``submitted/`` or at the folder of student folders).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise course.CourseError(f"제출물 폴더가 없습니다: {folder}", f"No such submissions folder: {folder}")
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            target = entry / assignment
            if not target.is_dir():
                continue
            notebooks = sorted(target.glob("*.ipynb"))
            preferred = target / f"{assignment}.ipynb"
            files = [preferred] if preferred.is_file() else notebooks or sorted(p for p in target.iterdir() if p.is_file())
            if files:
                found[entry.name] = files[0]
        elif entry.is_file():
            found[entry.stem] = entry
    return found


# --- checks before nbgrader sees a submission -----------------------------------------------


def _lesson_of(ids: set[str]) -> str | None:
    prefixes = {gid.split("_")[0] for gid in ids if gid[:1] == "l" and gid[1:3].isdigit()}
    return sorted(prefixes)[0][1:3] if len(prefixes) == 1 else None


def prepare(path: Path, lesson: course.Lesson, source_ids: set[str]):
    """Read a submission and make it safe for nbgrader; return (notebook, notes) or raise ValueError."""
    import nbformat

    if path.suffix != ".ipynb":
        raise ValueError(bilingual(
            f"노트북(.ipynb)이 아닙니다: {path.name}", f"Not a notebook (.ipynb): {path.name}"))
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the student's file, not ours
        raise ValueError(bilingual(
            f"노트북 파일을 읽을 수 없습니다 (JSON이 손상됨): {path.name}",
            f"Cannot read the notebook (corrupted JSON): {path.name}") + f" ({type(exc).__name__}: {exc})"[:300])
    notes = []
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    present = {gid for gid in ids if gid}
    if not present and lesson.release.is_file():
        restored = restore_metadata(nb, nbformat.read(lesson.release, as_version=4))
        if restored:
            present = set(restored)
            notes.append("nbgrader metadata was missing (re-saved by another editor?) and was restored")
    if present and not present & source_ids:
        other = _lesson_of(present)
        which = f"레슨 {other}" if other else "다른 과제"
        which_en = f"lesson {other}" if other else "another assignment"
        raise ValueError(bilingual(
            f"{lesson.slug} 과제가 아니라 {which}의 노트북입니다.",
            f"This is {which_en}'s notebook, not {lesson.slug}."))
    seen, cell_ids = set(), set()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid and gid in seen:  # duplicated cell: the first copy is graded, later ones run as plain code
            del cell.metadata["nbgrader"]
            notes.append(f"duplicate cell {gid}: only the first copy is graded")
        elif gid:
            seen.add(gid)
        if cell.get("id") in cell_ids or not cell.get("id"):
            cell["id"] = f"dedup-{len(cell_ids)}"
        cell_ids.add(cell["id"])
    return nb, notes


def restore_metadata(nb, release) -> list[str]:
    """Re-attach nbgrader metadata that an editor dropped, by matching cells to the release.

    Test cells are matched by their unchanged source; each solution cell is the
    nearest code cell above its exercise's first test cell. Returns the restored ids.
    """
    import copy

    restored = []
    position = 0  # match test cells in order: two test cells may have the same visible source
    for rcell in release.cells:
        meta = rcell.metadata.get("nbgrader", {})
        if not meta.get("grade_id") or meta.get("solution"):
            continue
        for index in range(position, len(nb.cells)):
            cell = nb.cells[index]
            if "nbgrader" not in cell.metadata and cell.source.strip() == rcell.source.strip():
                cell.metadata["nbgrader"] = copy.deepcopy(meta)
                restored.append(meta["grade_id"])
                position = index + 1
                break
    for rcell in release.cells:
        meta = rcell.metadata.get("nbgrader", {})
        if not meta.get("solution") or rcell.cell_type != "code":
            continue
        stem = meta["grade_id"].removesuffix("_solution")
        test_index = next((i for i, c in enumerate(nb.cells)
                           if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith(stem + "_")), None)
        if test_index is None:
            continue
        for cell in reversed(nb.cells[:test_index]):
            if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
                cell.metadata["nbgrader"] = copy.deepcopy(meta)
                restored.append(meta["grade_id"])
                break
    return restored


# --- one student ---------------------------------------------------------------------------


def _key(path: Path, lesson: course.Lesson, settings: dict) -> str:
    digest = hashlib.sha256()
    digest.update(path.read_bytes() if path.is_file() else b"")
    digest.update(lesson.source.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:20]


def _hide_hidden_tests(html_nb):
    """Feedback shows the test cell's result but never the hidden test code (nor its traceback)."""
    for cell in html_nb.cells:
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
            continue
        head = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
        cell.source = head + "\n# (숨겨진 테스트 / hidden tests)"
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [f"{out.get('ename')}: {out.get('evalue')}"]


MAX_OUTPUT_CHARS = 20_000


def _truncate_outputs(nb) -> None:
    """Keep feedback readable: long outputs (one huge line included) are cut with a notice."""
    notice = "\n... (출력이 너무 길어 잘랐습니다 / output truncated)\n"
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and len(out.get("text", "")) > MAX_OUTPUT_CHARS:
                out["text"] = out["text"][:MAX_OUTPUT_CHARS] + notice
            for key, value in list(out.get("data", {}).items()):
                if key.startswith("text/") and isinstance(value, str) and len(value) > MAX_OUTPUT_CHARS:
                    out["data"][key] = value[:MAX_OUTPUT_CHARS] + notice


def _write_feedback(autograded: Path, html: Path, result: StudentResult) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(autograded, as_version=4)
    _hide_hidden_tests(nb)
    _truncate_outputs(nb)
    body, _ = HTMLExporter().from_notebook_node(nb)
    rows = "".join(f"<tr><td>{gid}</td><td>{s:g} / {m:g}</td></tr>" for gid, (s, m) in sorted(result.cells.items()))
    summary = (
        "<div style='font-family:sans-serif;padding:1em;border-bottom:1px solid #ccc'>"
        f"<h2>{result.student} &middot; {result.assignment}: {result.score:g} / {result.max_score:g}</h2>"
        f"<table>{rows}</table></div>"
    )
    start = body.find("<body")
    cut = body.find(">", start) + 1 if start >= 0 else 0
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(body[:cut] + summary + body[cut:], encoding="utf-8")


def grade_one(template: Path, lesson: course.Lesson, student: str, path: Path, out: Path,
              cell_timeout: int, key: str) -> StudentResult:
    """Grade one submission inside a private copy of the prepared course ``template``."""
    import nbformat

    result = StudentResult(student, lesson.slug, "error", key=key)
    source_ids = set(course.grade_ids(nbformat.read(lesson.source, as_version=4)))
    try:
        nb, result.notes = prepare(path, lesson, source_ids)
    except ValueError as exc:
        result.error = str(exc)
        return result
    with tempfile.TemporaryDirectory(prefix="textgen-grade-") as tmp:
        work = Path(tmp) / "course"
        shutil.copytree(template, work)
        target = work / "submitted" / student / lesson.slug / f"{lesson.slug}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
        config = course.nbgrader_config(work, lesson.root, Execute__timeout=cell_timeout)
        outcome = course._api(config).autograde(lesson.slug, student, force=True, create=True)
        if not outcome.get("success"):
            log = (outcome.get("log") or "") + (outcome.get("error") or "")
            result.error = bilingual("nbgrader가 이 제출물을 채점하지 못했습니다.", "nbgrader could not grade this submission.") \
                + "\n" + log.strip()[-1500:]
            return result
        grades = course.read_grades(work, lesson.slug, student)
        result.score, result.max_score = grades.score, grades.max_score
        result.cells = {gid: list(points) for gid, points in grades.cells.items()}
        result.status = "graded"
        autograded = work / "autograded" / student / lesson.slug / f"{lesson.slug}.ipynb"
        _write_feedback(autograded, out / "feedback" / f"{student}.html", result)
    return result


# --- the batch -----------------------------------------------------------------------------


def _safe_name(name: str, taken: set[str]) -> str:
    import re

    safe = re.sub(r"[^\w.-]", "_", name) or "student"
    candidate, n = safe, 1
    while candidate in taken:
        n += 1
        candidate = f"{safe}_{n}"
    taken.add(candidate)
    return candidate


def _run_worker(template: Path, lesson: course.Lesson, student: str, path: Path, out: Path,
                cell_timeout: int, student_timeout: int, key: str) -> StudentResult:
    """Grade one student in a subprocess: a crash or a runaway kernel cannot take the batch down."""
    with tempfile.TemporaryDirectory() as tmp:
        result_file = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "textgen_utils.grading", str(template), str(lesson.root), lesson.slug,
               student, str(path), str(out), str(cell_timeout), key, str(result_file)]
        # Private caches: students graded at once never write the same smoke data or checkpoint files.
        env = {**os.environ, "TEXTGEN_MODE": "smoke", "KERAS_HOME": str(Path(tmp) / "keras"),
               "TEXTGEN_CHECKPOINT_DIR": str(Path(tmp) / "checkpoints")}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=student_timeout, env=env)
        except subprocess.TimeoutExpired:
            return StudentResult(student, lesson.slug, "error", key=key, error=bilingual(
                f"채점이 {student_timeout}초 안에 끝나지 않아 중단했습니다.",
                f"Grading did not finish within {student_timeout} s and was stopped."))
        if result_file.is_file():
            return StudentResult(**json.loads(result_file.read_text()))
        tail = (proc.stderr or proc.stdout or "").strip()[-1500:]
        return StudentResult(student, lesson.slug, "error", key=key, error=bilingual(
            "채점 도중 오류가 났습니다.", "Grading failed with an internal error.") + "\n" + tail)


def grade_folder(folder: Path, assignment: str, out: Path, jobs: int | None = None,
                 cell_timeout: int = DEFAULT_CELL_TIMEOUT, student_timeout: int = DEFAULT_STUDENT_TIMEOUT,
                 progress: bool = True) -> list[StudentResult]:
    """Grade every submission in ``folder``; write ``grades.csv`` and feedback into ``out``.

    Results are saved per student as soon as they are known; a second run reuses
    them when neither the submission, the lesson nor the settings changed.
    """
    from tqdm.auto import tqdm

    lesson = course.lessons(only=[assignment])[0]
    out = Path(out)
    state = out / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    submissions = find_submissions(Path(folder), lesson.slug)
    taken: set[str] = set()
    named = {_safe_name(student, taken): path for student, path in submissions.items()}
    settings = {"cell_timeout": cell_timeout}
    results: dict[str, StudentResult] = {}
    todo = []
    for student, path in named.items():
        key = _key(path, lesson, settings)
        saved = state / f"{student}.json"
        if saved.is_file():
            old = StudentResult(**json.loads(saved.read_text()))
            if old.key == key:
                results[student] = old
                continue
        todo.append((student, path, key))
    skipped = len(results)
    if todo:
        jobs = jobs or max(1, min(len(todo), os.cpu_count() or 1))
        # each student is graded in a private copy of this course, assignment already generated
        with course.temporary_course(lesson) as (template, _):
            with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                futures = {
                    pool.submit(_run_worker, template, lesson, student, path, out, cell_timeout, student_timeout, key):
                        student for student, path, key in todo
                }
                bar = tqdm(total=len(todo), desc=f"grading {lesson.slug}", unit="student", disable=not progress)
                for future in concurrent.futures.as_completed(futures):
                    result = future.result()
                    results[result.student] = result
                    (state / f"{result.student}.json").write_text(json.dumps(dataclasses.asdict(result)))
                    bar.set_postfix_str(result.student)
                    bar.update(1)
                bar.close()
    total = max_points(lesson)
    for result in results.values():
        result.max_score = result.max_score or total
    ordered = [results[s] for s in sorted(results)]
    write_csv(ordered, out / "grades.csv")
    if progress:
        print(summary(ordered, skipped))
    return ordered


def max_points(lesson: course.Lesson) -> float:
    """Total points of the lesson's graded cells."""
    import nbformat

    nb = nbformat.read(lesson.source, as_version=4)
    return float(sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells
                     if c.metadata.get("nbgrader", {}).get("grade")))


def exercises(cells: dict) -> dict[str, float]:
    """Points per exercise: the visible and hidden test cells of ``lNN_x_name`` summed."""
    points: dict[str, float] = {}
    for gid, (score, _) in cells.items():
        stem = gid.rsplit("_", 1)[0] if gid.endswith(("_visible", "_hidden")) else gid
        points[stem] = points.get(stem, 0.0) + score
    return points


def write_csv(results: list[StudentResult], path: Path) -> None:
    """grades.csv: student, assignment, status, score, max_score, one column per exercise, error, notes."""
    import pandas as pd

    rows = []
    for r in results:
        row = {"student": r.student, "assignment": r.assignment, "status": r.status,
               "score": r.score, "max_score": r.max_score}
        row.update(exercises(r.cells))
        row["error"] = r.error.replace("\n", " | ")
        row["notes"] = "; ".join(r.notes)
        rows.append(row)
    frame = pd.DataFrame(rows)
    if len(frame):
        fixed = ["student", "assignment", "status", "score", "max_score"]
        per_exercise = sorted(c for c in frame.columns if c not in fixed + ["error", "notes"])
        frame = frame[fixed + per_exercise + ["error", "notes"]].sort_values("student")
    frame.to_csv(path, index=False)


def summary(results: list[StudentResult], skipped: int = 0) -> str:
    graded = [r for r in results if r.status == "graded"]
    errors = [r for r in results if r.status != "graded"]
    lines = [f"{len(results)} submission(s): {len(graded)} graded, {len(errors)} with errors"
             + (f", {skipped} reused from an earlier run" if skipped else "")]
    if graded:
        mean = sum(r.score for r in graded) / len(graded)
        lines.append(f"mean score {mean:.2f} / {graded[0].max_score:g}")
    for r in errors:
        lines.append(f"  {r.student}: {r.error.splitlines()[0] if r.error else 'error'}")
    return "\n".join(lines)


def _worker_main(argv: list[str]) -> None:
    template, root, slug, student, path, out, cell_timeout, key, result_file = argv
    lesson = course.Lesson(slug, Path(root))
    try:
        result = grade_one(Path(template), lesson, student, Path(path), Path(out), int(cell_timeout), key)
    except Exception as exc:  # noqa: BLE001 - one student's failure becomes one row's error
        result = StudentResult(student, slug, "error", key=key, error=bilingual(
            "채점 도중 오류가 났습니다.", "Grading failed.") + f" ({type(exc).__name__}: {exc})"[:500])
    Path(result_file).write_text(json.dumps(dataclasses.asdict(result)))


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
