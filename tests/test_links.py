"""One configured repository address: every notebook's install line and every README badge use it."""

import re

import nbformat
import pytest

from textgen_utils import course, links

REPO = links.repository()
LESSONS = course.lessons()


def first_code_cell(path):
    nb = nbformat.read(path, as_version=4)
    return next(c for c in nb.cells if c.cell_type == "code").source


@pytest.mark.parametrize("path", [p for les in LESSONS for p in (les.source, les.release)], ids=str)
def test_every_notebook_installs_from_the_configured_repository(path):
    source = first_code_cell(path)
    assert links.install_line(REPO) in source
    assert 'if "google.colab" in sys.modules' in source, "installs only on Colab"
    assert "from textgen_utils import setup" in source and "setup()" in source
    assert len(source.splitlines()) <= 10
    for forbidden in ("nbgrader", "jupyter", "nbval", "[dev"):
        assert forbidden not in source, f"never install {forbidden} on Colab"


def test_readme_badges_point_at_every_lesson_in_the_configured_repository(root):
    readme = (root / "README.md").read_text(encoding="utf-8")
    urls = re.findall(r"\((https://colab\.research\.google\.com/github/[^)]+)\)", readme)
    branch = links.settings()["branch"]
    expected = {links.colab_url(REPO, branch, f"notebooks/{les.slug}/{les.slug}.ipynb") for les in LESSONS}
    assert expected <= set(urls), "a lesson is missing from the README's table"
    for url in urls:
        assert url.startswith(links.colab_url(REPO, branch, "")), f"badge points elsewhere: {url}"
        assert (root / url.split(f"/blob/{branch}/")[1]).is_file(), f"badge points at a missing notebook: {url}"
    assert f"git clone {REPO}" in readme


def test_relink_rewrites_install_lines_and_badges(tmp_path, root):
    import shutil

    shutil.copy(root / "nbgrader_config.py", tmp_path)
    shutil.copy(root / "README.md", tmp_path)
    text = (root / "pyproject.toml").read_text().replace(REPO, "https://github.com/someone/fork")
    (tmp_path / "pyproject.toml").write_text(text)
    shutil.copytree(root / "solutions" / LESSONS[0].slug, tmp_path / "solutions" / LESSONS[0].slug)
    changed = links.relink(tmp_path)
    assert {p.name for p in changed} == {f"{LESSONS[0].slug}.ipynb", "README.md"}
    copy = tmp_path / "solutions" / LESSONS[0].slug / f"{LESSONS[0].slug}.ipynb"
    assert links.install_line("https://github.com/someone/fork") in first_code_cell(copy)
    assert "colab.research.google.com/github/someone/fork/blob/main/notebooks/" in (tmp_path / "README.md").read_text()
    assert links.relink(tmp_path) == [], "a second run changes nothing"
