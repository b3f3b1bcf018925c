"""A small on-disk cache for slow, deterministic results (vocabularies).

Entries are JSON files under ``$KERAS_HOME/textgen-cache`` (``~/.keras`` by
default), named by a fingerprint of everything the result depends on: the data
files (by size, modification time and path) and the settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from textgen_utils.runtime import get_mode


def cache_dir() -> Path:
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "textgen-cache" / get_mode()


def fingerprint(*parts) -> str:
    """A short hash of ``parts``; a ``Path`` contributes its resolved name, size and mtime."""

    def describe(part):
        if isinstance(part, Path):
            files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            return [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        return part

    blob = json.dumps([describe(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cache_path(name: str, key: str) -> Path:
    """The file that holds the cached value for (name, key)."""
    return cache_dir() / f"{name}-{key}.json"


def cached_json(name: str, key: str, build: Callable[[], object]):
    """Return the cached value for (name, key), building and storing it on a miss."""
    path = cache_path(name, key)
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            path.unlink()  # a half-written file from an interrupted run: rebuild it
    value = build()
    write_json_atomic(path, value)
    return value


def write_json_atomic(path: Path, value) -> None:
    """Write ``value`` as JSON to ``path`` atomically: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8", suffix=".tmp") as f:
        json.dump(value, f, ensure_ascii=False)
    os.replace(f.name, path)
