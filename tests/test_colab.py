"""Colab readiness: each notebook's setup cell, run with a stand-in `google.colab`, installs this package
from the configured repository (captured, not run) and nothing Jupyter- or nbgrader-related; and nothing
else in the notebook imports a package that this install (plus Colab's own kernel) does not provide."""

import ast
import importlib.metadata as md
import re
import sys
import types

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from textgen_utils import course, links

LESSONS = course.lessons()
NOTEBOOKS = [p for lesson in LESSONS for p in (lesson.source, lesson.release)]
COLAB_KERNEL = {"IPython", "google", "ipykernel"}  # what any Colab kernel has before our install


def python_source(cell_source: str) -> str:
    return TransformerManager().transform_cell(cell_source)


def provided_by_install() -> set[str]:
    """Import names of textgen-utils and everything its runtime dependencies pull in (no extras)."""
    by_dist = {}
    for module, dists in md.packages_distributions().items():
        for dist in dists:
            by_dist.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    seen, todo, modules = set(), ["textgen-utils"], set()
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        modules |= by_dist.get(name, set())
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for req in requires:
            if "extra ==" in req:
                continue
            todo.append(re.split(r"[\s;<>=!~\[(]", req, maxsplit=1)[0])
    return modules | {"textgen_utils"}


class FakeShell:
    def __init__(self):
        self.magics = []

    def run_line_magic(self, name, line, *args, **kwargs):
        self.magics.append((name, line))

    def system(self, cmd):
        self.magics.append(("system", cmd))

    def run_cell_magic(self, name, line, cell):
        self.magics.append((name, line))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_setup_cell_installs_only_this_package_on_colab(path, monkeypatch, capsys):
    nb = nbformat.read(path, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    shell = FakeShell()
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    namespace = {"get_ipython": lambda: shell, "__name__": "__main__"}
    exec(compile(python_source(setup.source), str(path), "exec"), namespace)  # noqa: S102
    assert shell.magics == [("pip", links.install_line(links.repository()).removeprefix("%pip "))]
    command = shell.magics[0][1]
    for forbidden in ("nbgrader", "jupyter", "notebook", "nbval", "nbclient", "[dev", "torch", "transformers"):
        assert forbidden not in command
    assert namespace["info"].mode == "smoke" and "Mode" in capsys.readouterr().out


def test_setup_cell_does_not_install_outside_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    shell = FakeShell()
    setup = next(c for c in nbformat.read(LESSONS[0].release, as_version=4).cells if c.cell_type == "code")
    exec(compile(python_source(setup.source), "setup", "exec"), {"get_ipython": lambda: shell})  # noqa: S102
    assert shell.magics == []


def imports(tree):
    """(module, optional) for every import; optional when guarded by `except ImportError`."""
    guarded = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers
        ):
            for inner in node.body:
                guarded |= {id(n) for n in ast.walk(inner)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], id(node) in guarded
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0], id(node) in guarded


@pytest.mark.parametrize("lesson", LESSONS, ids=[les.slug for les in LESSONS])
def test_every_import_is_provided_by_the_install(lesson):
    allowed = provided_by_install() | set(sys.stdlib_module_names) | COLAB_KERNEL
    assert {"tensorflow", "keras", "keras_hub", "numpy", "pandas", "matplotlib", "tqdm"} <= allowed
    nb = nbformat.read(lesson.release, as_version=4)
    missing = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for module, optional in imports(ast.parse(python_source(cell.source))):
            if module not in allowed and not optional:
                missing.add(module)
    assert not missing, f"{lesson.slug} imports {sorted(missing)}, which the Colab install does not provide"


def test_the_install_excludes_grading_and_test_tools():
    provided = provided_by_install()
    for tool in ("nbgrader", "nbval", "pytest", "torch", "transformers"):
        assert tool not in provided, f"{tool} must not be a runtime dependency"
