"""The course's repository address, and everything built from it.

One setting, ``[tool.textgen-course] repository`` in ``pyproject.toml``, names the
public repository. Each notebook's first cell installs the package from it on
Colab, and the README's "Open in Colab" badges point into it. ``textgen-course
relink`` rewrites both after the setting changes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from textgen_utils.course import find_root, lessons

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_INSTALL = re.compile(r'(%pip install -q "textgen-utils @ git\+)([^"]+)(")')
_COLAB = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"']+?/blob/[^/)\s\"']+/")


def settings(root: Path | None = None) -> dict:
    root = root or find_root()
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["textgen-course"]


def repository(root: Path | None = None) -> str:
    """The configured repository address, e.g. ``https://github.com/org/repo``."""
    return settings(root)["repository"].rstrip("/")


def install_line(repo: str) -> str:
    """The pip line that a notebook's first cell runs on Colab."""
    return f'%pip install -q "textgen-utils @ git+{repo}"'


def colab_url(repo: str, branch: str, notebook_path: str) -> str:
    """"Open in Colab" address of a notebook in a GitHub repository."""
    slug = repo.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{notebook_path}"


def relink(root: Path | None = None) -> list[Path]:
    """Rewrite the install lines in ``solutions/`` and the badges in README.md; return changed files."""
    root = root or find_root()
    conf = settings(root)
    repo, branch = conf["repository"].rstrip("/"), conf.get("branch", "main")
    changed = []
    for lesson in lessons(root):
        nb = json.loads(lesson.source.read_text(encoding="utf-8"))
        dirty = False
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            src = "".join(cell["source"])
            new = _INSTALL.sub(lambda m: m.group(1) + repo + m.group(3), src)
            if new != src:
                cell["source"] = new.splitlines(keepends=True)
                dirty = True
        if dirty:
            lesson.source.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(lesson.source)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    slug = repo.removeprefix("https://github.com/")
    new = _COLAB.sub(f"https://colab.research.google.com/github/{slug}/blob/{branch}/", text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        changed.append(readme)
    return changed
