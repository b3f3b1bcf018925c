"""textgen_utils.datasets.fetch: one code path for smoke and full mode, clear errors."""

import io
import tarfile
import zipfile

import pytest

from textgen_utils import datasets

URL = "https://example.invalid/data/corpus.txt"


def write_text(path):
    path.write_text("tiny smoke corpus\n", encoding="utf-8")


def write_tar(path):
    with tarfile.open(path, "w:gz") as tar:
        data = b"hello review"
        info = tarfile.TarInfo("corpus/train/pos/0_9.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def write_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("books/raw/train.txt", "line one\nline two\n")


def test_smoke_mode_builds_the_file_and_loads_it_through_get_file():
    path = datasets.fetch("corpus.txt", URL, smoke_builder=write_text)
    assert path.read_text() == "tiny smoke corpus\n"
    assert datasets.SMOKE_SUBDIR in path.parts, "smoke files never land where real downloads go"


@pytest.mark.parametrize("fname, builder, member", [
    ("corpus.tar.gz", write_tar, "corpus/train/pos/0_9.txt"),
    ("books.zip", write_zip, "books/raw/train.txt"),
])
def test_archives_are_extracted_once_and_reused(fname, builder, member):
    folder = datasets.fetch(fname, URL, smoke_builder=builder, extract=True)
    target = folder / member
    assert target.is_file()
    target.write_text("touched")  # a second fetch must not re-extract over it
    again = datasets.fetch(fname, URL, smoke_builder=builder, extract=True)
    assert again == folder and target.read_text() == "touched"


def test_full_mode_prefers_textgen_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXTGEN_MODE", "full")
    local = tmp_path / "classroom"
    local.mkdir()
    monkeypatch.setenv("TEXTGEN_DATA_DIR", str(local))
    write_text(local / "corpus.txt")
    digest = datasets.sha256(local / "corpus.txt")
    path = datasets.fetch("corpus.txt", URL, smoke_builder=write_text, file_hash=digest, size=18)
    assert path.read_text() == "tiny smoke corpus\n"


def test_a_corrupt_local_file_names_the_file_the_url_and_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXTGEN_MODE", "full")
    monkeypatch.setenv("TEXTGEN_DATA_DIR", str(tmp_path))
    (tmp_path / "corpus.txt").write_text("truncated")
    with pytest.raises(datasets.DatasetError) as info:
        datasets.fetch("corpus.txt", URL, smoke_builder=write_text, size=18)
    message = str(info.value)
    assert "corpus.txt" in message and URL in message and "TEXTGEN_DATA_DIR" in message
    assert "손상" in message and "corrupt" in message


def test_an_unreachable_download_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXTGEN_MODE", "full")
    monkeypatch.delenv("TEXTGEN_DATA_DIR", raising=False)
    missing = (tmp_path / "nowhere" / "unreachable.txt").as_uri()  # offline stand-in for a dead URL
    with pytest.raises(datasets.DatasetError) as info:
        datasets.fetch("unreachable.txt", missing, smoke_builder=write_text)
    message = str(info.value)
    assert "unreachable.txt" in message and missing in message and "TEXTGEN_DATA_DIR" in message


def test_read_text_reports_the_bad_byte(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("good text ".encode() + b"\xff" + " more".encode())
    with pytest.raises(datasets.DatasetError) as info:
        datasets.read_text(bad, "bad.txt", URL)
    assert "10" in str(info.value) and "UTF-8" in str(info.value)


def test_unknown_loader_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        datasets.load_nothing  # noqa: B018
