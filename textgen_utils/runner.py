"""Execute lesson notebooks with nbclient (the course's main job, `textgen-course run`)."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from pathlib import Path

from textgen_utils.course import Lesson
from textgen_utils.report import REPORT_VARIABLE, read_reports


@dataclasses.dataclass
class RunResult:
    lesson: str
    ok: bool
    seconds: float
    headline: str = ""
    error: str = ""  # the failing cell and its error, when not ok
    output: Path | None = None


def _error_text(nb, limit: int = 2000) -> str:
    """Describe the first cell whose outputs hold an error: its index, source and traceback."""
    from textgen_utils.errors import bilingual

    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                source = "".join(cell.source)[:400]
                trace = "\n".join(out.get("traceback", []))
                text = f"cell {index}:\n{source}\n---\n{out.get('ename')}: {out.get('evalue')}\n{_strip_ansi(trace)}"
                return text[-limit:]
    return bilingual("알 수 없는 오류", "unknown error")


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def execute_notebook(
    source: Path,
    output: Path | None = None,
    mode: str = "smoke",
    timeout: int = 600,
    progress: bool = True,
    extra_env: dict | None = None,
):
    """Run a notebook top to bottom in ``mode``; return (executed notebook, headline reports, error text).

    The kernel starts in the notebook's folder with ``TEXTGEN_MODE`` set. Execution
    stops at the first error, whose cell and traceback are returned. The kernel's own
    stderr (TensorFlow's C++ logs) goes to ``<output>.log`` instead of the terminal;
    if the kernel dies, the end of that log is part of the error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from tqdm.auto import tqdm

    nb = nbformat.read(source, as_version=4)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    with tempfile.TemporaryDirectory() as tmp:
        report_file = Path(tmp) / "report.jsonl"
        env = {**os.environ, "TEXTGEN_MODE": mode, REPORT_VARIABLE: str(report_file), **(extra_env or {})}
        if mode == "smoke" and "TEXTGEN_CHECKPOINT_DIR" not in os.environ:
            # a smoke run never resumes from a backup left by an earlier, interrupted run
            env["TEXTGEN_CHECKPOINT_DIR"] = str(Path(tmp) / "checkpoints")
        env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        bar = tqdm(total=code_cells, desc=source.stem, unit="cell", leave=False, disable=not progress)

        def on_cell_executed(cell, **_):
            if cell.cell_type == "code":
                bar.update(1)

        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(source.parent)}},
            on_cell_executed=on_cell_executed,
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        error = ""
        log_path = output.with_suffix(".log") if output is not None else Path(tmp) / "kernel.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(log_path, "wb") as log:
                _run_with_env(client, env, stderr=log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            error = _error_text(nb) if not isinstance(exc, (CellTimeoutError, DeadKernelError)) else str(exc)
            if isinstance(exc, DeadKernelError):
                error += "\n--- kernel log (end) ---\n" + log_path.read_text(errors="replace")[-1500:]
        finally:
            bar.close()
        reports = read_reports(report_file)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, output)
    return nb, reports, error


def _run_with_env(client, env: dict, stderr=None) -> None:
    """Execute with the kernel started under ``env`` (nbclient passes kwargs on to the kernel's Popen)."""
    client.execute(env=env, stderr=stderr)


def run_lessons(lessons: list[Lesson], build_dir: Path, mode: str = "smoke", store: bool = False,
                progress: bool = True) -> list[RunResult]:
    """Execute each lesson's source notebook; write executed copies under ``build_dir``.

    With ``store=True`` the outputs are also written back into ``solutions/``
    (the stored outputs that nbval compares against).
    """
    from tqdm.auto import tqdm

    results = []
    outer = tqdm(lessons, desc="lessons", unit="lesson", disable=not progress)
    for lesson in outer:
        outer.set_postfix_str(lesson.slug)
        start = time.perf_counter()
        out = build_dir / f"{lesson.slug}.ipynb"
        nb, reports, error = execute_notebook(lesson.source, out, mode=mode, progress=progress)
        seconds = time.perf_counter() - start
        if store and not error:
            import nbformat

            nbformat.write(nb, lesson.source)
        headline = reports[-1]["text"] if reports else ""
        results.append(RunResult(lesson.slug, not error, seconds, headline, error, out))
    return results


def format_table(results: list[RunResult]) -> str:
    """A plain-text table: lesson, status, seconds, headline."""
    rows = [("lesson", "status", "seconds", "headline")]
    rows += [(r.lesson, "ok" if r.ok else "FAILED", f"{r.seconds:.1f}", r.headline) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
