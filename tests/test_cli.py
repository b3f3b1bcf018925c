"""`textgen-course run`: executes lessons, prints a table, fails loudly with the failing cell."""

import shutil
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook


def make_course(root, notebooks):
    shutil.copy(__import__("tests.conftest").conftest.ROOT / "nbgrader_config.py", root)
    for slug, cells in notebooks.items():
        nb = new_notebook(cells=[new_code_cell(src) for src in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        (root / "solutions" / slug).mkdir(parents=True)
        nbformat.write(nb, root / "solutions" / slug / f"{slug}.ipynb")


def run_cli(cwd, *args):
    return subprocess.run([sys.executable, "-m", "textgen_utils", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_run_prints_a_table_with_headlines_and_fails_on_a_broken_lesson(tmp_path):
    make_course(tmp_path, {
        "01_fine": ["from textgen_utils import report, get_mode", "report('answer', 42 if get_mode() == 'smoke' else 0)"],
        "02_broken": ["x = 1", "def f():\n    return 1 / 0\nf()", "print('never runs')"],
    })
    result = run_cli(tmp_path, "run")
    assert result.returncode == 1
    out = result.stdout
    assert "01_fine" in out and "ok" in out and "answer = 42" in out, "smoke mode, headline in the table"
    assert "02_broken" in out and "FAILED" in out
    assert "1/2 lessons ok" in out
    assert "cell 1" in result.stderr and "ZeroDivisionError" in result.stderr and "return 1 / 0" in result.stderr
    assert (tmp_path / "build" / "01_fine.ipynb").is_file(), "executed copies are kept under build/"


def test_run_selects_lessons_and_rejects_unknown_ones(tmp_path):
    make_course(tmp_path, {"01_fine": ["print('hi')"], "02_other": ["print('hi')"]})
    ok = run_cli(tmp_path, "run", "01")
    assert ok.returncode == 0 and "01_fine" in ok.stdout and "02_other" not in ok.stdout
    bad = run_cli(tmp_path, "run", "07")
    assert bad.returncode == 2 and "07" in bad.stderr and "01_fine" in bad.stderr


def test_kernel_stderr_goes_to_a_log_and_a_dead_kernel_is_explained(tmp_path):
    write_fd2 = "import os; os.write(2, b'noisy C++ log line\\n')"
    make_course(tmp_path, {
        "01_noisy": [write_fd2, "print('fine')"],
        "02_dies": [write_fd2.replace("noisy C++ log line", "fatal: out of memory"), "import os; os._exit(1)"],
    })
    result = run_cli(tmp_path, "run")
    assert result.returncode == 1 and "1/2 lessons ok" in result.stdout
    assert "noisy C++ log line" not in result.stdout + result.stderr, "kernel stderr stays off the terminal"
    assert "noisy C++ log line" in (tmp_path / "build" / "01_noisy.log").read_text()
    assert "fatal: out of memory" in result.stderr, "a dead kernel's failure quotes the end of its log"
