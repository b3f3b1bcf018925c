"""Every command shown in INSTRUCTORS.md runs, in a copy of the repository with a few submissions."""

import os
import re
import shlex
import shutil
import subprocess

import pytest

from tests.conftest import ROOT
from tests.grading import submission
from textgen_utils import course

GUIDE = (ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8")
COMMANDS = [line.strip() for block in re.findall(r"```bash\n(.*?)```", GUIDE, re.S)
            for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    work = tmp_path_factory.mktemp("guide") / "repo"
    ignore = shutil.ignore_patterns(".venv", "build", "graded", ".git", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT, work, ignore=ignore)
    os.symlink(ROOT / ".venv", work / ".venv")
    lesson = course.Lesson("01_sampling", ROOT)
    flat = work / "submissions" / "01_sampling"
    submission(lesson, flat / "kim_minji.ipynb")
    (flat / "lee_jun.ipynb").write_bytes(lesson.release.read_bytes())
    submission(lesson, work / "course" / "submitted" / "choi" / "01_sampling" / "01_sampling.ipynb")
    return work, tmp_path_factory.mktemp("exchange")


def test_the_guide_shows_the_workflow():
    joined = "\n".join(COMMANDS)
    for step in ("make release", "textgen-course check", "textgen-course grade", "grades.csv", "nbgrader collect"):
        assert step in joined


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_the_guide_runs(workspace, command):
    work, exchange = workspace
    line = command.replace("/srv/nbgrader/exchange", str(exchange))
    if line.startswith("make "):  # reuse the installed environment instead of reinstalling it
        line = line.replace("make ", "make -o .venv/.installed ", 1)
    result = subprocess.run(shlex.split(line), cwd=work, capture_output=True, text=True, timeout=900,
                            env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    if "grade submissions/01_sampling" in command:
        csv = (work / "graded" / "01_sampling" / "grades.csv").read_text()
        assert "kim_minji,01_sampling,graded,8.0,8.0" in csv and "lee_jun,01_sampling,graded,0.0,8.0" in csv
        assert (work / "graded" / "01_sampling" / "feedback" / "kim_minji.html").is_file()
    if "course/submitted" in command:
        assert "choi,01_sampling,graded,8.0" in (work / "graded" / "01_sampling" / "grades.csv").read_text()
