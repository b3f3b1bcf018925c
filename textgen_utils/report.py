"""Headline figures: one number per lesson that `textgen-course run` shows in its table."""

from __future__ import annotations

import json
import os

REPORT_VARIABLE = "TEXTGEN_REPORT_FILE"


def report(name: str, value: float, fmt: str = ".4g") -> None:
    """Print a lesson's headline figure and hand it to `textgen-course run`.

    The runner sets ``TEXTGEN_REPORT_FILE``; each call appends one JSON line there.
    """
    text = f"{name} = {value:{fmt}}"
    print(text)
    path = os.environ.get(REPORT_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"name": name, "value": float(value), "text": text}) + "\n")


def read_reports(path: str | os.PathLike) -> list[dict]:
    """All headline figures written to ``path`` (an empty list when there are none)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
