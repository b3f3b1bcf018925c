"""Fixtures shared by the tests (the environment is set up by the root conftest.py)."""

from pathlib import Path

import pytest

# Notebooks under tests/fixtures are grading inputs, not notebooks for nbval to run.
collect_ignore_glob = ["fixtures/*"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
