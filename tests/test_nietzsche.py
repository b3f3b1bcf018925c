"""The Nietzsche loader: smoke corpus through the real loading code, the real file from
TEXTGEN_DATA_DIR, and clear bilingual errors for corrupt copies (wrong size, wrong hash,
bytes that are not UTF-8)."""

import os
import re
from pathlib import Path

import pytest

from textgen_utils.datasets import DatasetError, load_nietzsche, nietzsche, sha256

HANGUL = re.compile("[가-힣]")


def test_the_smoke_corpus_is_lowercased_and_has_the_expected_counts():
    text = load_nietzsche()
    expected = nietzsche.EXPECTED["smoke"]
    assert isinstance(text, str) and text == text.lower()
    assert len(text) == expected["characters"] and len(set(text)) == expected["distinct"]
    assert load_nietzsche() == text, "the smoke corpus is deterministic"


def test_the_smoke_file_has_the_real_files_format(tmp_path):
    path = tmp_path / "nietzsche.txt"
    nietzsche.write_smoke_corpus(path)
    raw = path.read_bytes().decode("utf-8")
    assert raw.startswith("PREFACE\n") and raw != raw.lower(), "mixed case, like the real file"
    assert max(len(line) for line in raw.splitlines()) <= 70 and "\n\n" in raw
    assert 10_000 < len(raw) < 40_000


@pytest.fixture
def full_mode(monkeypatch, tmp_path):
    """Full mode with TEXTGEN_DATA_DIR pointing at an empty folder and no cached copy."""
    monkeypatch.setenv("TEXTGEN_MODE", "full")
    monkeypatch.setenv("TEXTGEN_DATA_DIR", str(tmp_path))
    cached = Path(os.environ["KERAS_HOME"]) / "datasets" / nietzsche.FNAME
    cached.unlink(missing_ok=True)
    yield tmp_path
    cached.unlink(missing_ok=True)


def _message(err) -> str:
    message = str(err.value)
    assert HANGUL.search(message), "Korean sentence"
    assert nietzsche.URL in message and "TEXTGEN_DATA_DIR" in message and "nietzsche.txt" in message
    return message


def test_the_real_file_is_read_from_the_data_dir(full_mode, monkeypatch):
    data = ("PREFACE\n\n\nSUPPOSING that Truth is a woman--what then? Übermensch, naïveté.\n" * 50).encode()
    (full_mode / "nietzsche.txt").write_bytes(data)
    # the loader checks the real file's size and sha256; give it this file's
    monkeypatch.setattr(nietzsche, "SIZE", len(data))
    monkeypatch.setattr(nietzsche, "SHA256", sha256(full_mode / "nietzsche.txt"))
    text = load_nietzsche()
    assert text == data.decode("utf-8").lower() and "übermensch" in text


def test_a_copy_of_the_wrong_size_is_a_clear_error(full_mode):
    (full_mode / "nietzsche.txt").write_text("SUPPOSING that Truth is a woman\n")
    with pytest.raises(DatasetError) as err:
        load_nietzsche()
    assert "600,901" in _message(err)


def test_a_corrupt_copy_of_the_right_size_is_a_clear_error(full_mode):
    good = b"supposing that truth is a woman--what then?\n"
    data = (good * (nietzsche.SIZE // len(good) + 1))[: nietzsche.SIZE - 1] + b"\xff"  # one invalid byte
    (full_mode / "nietzsche.txt").write_bytes(data)
    with pytest.raises(DatasetError) as err:
        load_nietzsche()
    assert "sha256" in _message(err)


def test_bytes_that_are_not_utf8_are_a_clear_error(full_mode, monkeypatch):
    # Even without size and hash checks (e.g. a different edition), the learner gets a clear message.
    monkeypatch.setattr(nietzsche, "SIZE", None)
    monkeypatch.setattr(nietzsche, "SHA256", None)
    (full_mode / "nietzsche.txt").write_bytes(b"SUPPOSING that Truth is a woman\n" * 3 + b"\xe9t\xe9 " + b"x" * 50)
    with pytest.raises(DatasetError) as err:
        load_nietzsche()
    message = _message(err)
    assert "byte 96" in message and "UTF-8" in message


def test_the_count_check_accepts_the_corpus_and_rejects_another_text():
    nietzsche.check_counts(load_nietzsche())
    with pytest.raises(ValueError) as err:
        nietzsche.check_counts("supposing that truth is a woman")
    assert HANGUL.search(str(err.value)) and "expected 15,287" in str(err.value)
