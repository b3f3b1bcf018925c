"""Data loading shared by every lesson: one code path for full and smoke mode.

:func:`fetch` returns a local copy of a data file (or its extracted folder):

* **full** mode: the real file. First ``$TEXTGEN_DATA_DIR/<fname>`` when that
  variable is set (a classroom with pre-downloaded data, a Drive folder, an
  air-gapped lab), then Keras' cache, and only then a download from the real URL.
* **smoke** mode: a tiny file in the *same format*, written by the lesson's
  ``smoke_builder``, handed to the same ``keras.utils.get_file`` call through a
  ``file://`` origin, so extraction and parsing are exercised exactly as in full mode.

A missing or corrupt file raises :class:`DatasetError`, which names the file, the
URL and the ``TEXTGEN_DATA_DIR`` variable.

Each lesson's loader lives in its own submodule (``load_nietzsche`` in
``nietzsche.py`` and so on) and is importable from here.
"""

from __future__ import annotations

import hashlib
import importlib
import tempfile
from pathlib import Path
from typing import Callable

from textgen_utils.errors import CourseError
from textgen_utils.runtime import DATA_DIR_VARIABLE, data_dir, is_smoke

SMOKE_SUBDIR = "textgen-smoke"
FULL_SUBDIR = "datasets"
_MARKER = ".textgen-extracted"

_LOADERS = {
    "load_nietzsche": "nietzsche",
    "load_imdb": "imdb",
    "load_simplebooks": "simplebooks",
}


def __getattr__(name: str):
    if name in _LOADERS:
        module = importlib.import_module(f"{__name__}.{_LOADERS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class DatasetError(CourseError):
    """A data file is missing, unreachable or corrupt."""


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _problem(fname: str, origin: str, why_ko: str, why_en: str, cause: Exception | None = None) -> DatasetError:
    return DatasetError(
        f"데이터 파일 '{fname}'을(를) 쓸 수 없습니다: {why_ko}\n"
        f"  URL: {origin}\n"
        f"  인터넷이 없다면 위 URL의 파일을 받아 한 폴더에 두고 {DATA_DIR_VARIABLE}에 그 폴더를 지정하세요.",
        f"Cannot use the data file '{fname}': {why_en}\n"
        f"  URL: {origin}\n"
        f"  Without internet, download the file from that URL into a folder and point {DATA_DIR_VARIABLE} at it.",
        detail=f"({type(cause).__name__}: {cause})" if cause else "",
    )


def _check_file(path: Path, fname: str, origin: str, file_hash: str | None, size: int | None) -> None:
    if size is not None and path.stat().st_size != size:
        raise _problem(
            fname, origin,
            f"{path}의 크기가 {path.stat().st_size:,} 바이트입니다 (기대값 {size:,}). 파일이 손상되었거나 덜 받아졌습니다.",
            f"{path} is {path.stat().st_size:,} bytes, expected {size:,}: it is corrupt or incomplete.",
        )
    if file_hash is not None and sha256(path) != file_hash:
        raise _problem(
            fname, origin,
            f"{path}의 sha256이 기대값과 다릅니다. 파일이 손상되었습니다.",
            f"the sha256 of {path} does not match: the file is corrupt.",
        )


def _get_file(fname: str, origin: str, subdir: str, file_hash: str | None, extract: bool,
              shown_origin: str) -> Path:
    """``keras.utils.get_file`` with clear errors; an already extracted archive is reused."""
    import keras

    stem = fname[: fname.find(".")] if "." in fname else fname
    try:
        archive = Path(keras.utils.get_file(fname, origin=origin, file_hash=file_hash, cache_subdir=subdir))
    except Exception as exc:  # URL errors, hash mismatches, interrupted downloads
        raise _problem(fname, shown_origin, "내려받기에 실패했습니다.", "the download failed.", exc) from exc
    if not extract:
        return archive
    folder = archive.with_name(f"{stem}_extracted")
    stamp = f"{archive.stat().st_size}:{archive.stat().st_mtime_ns}"
    marker = folder / _MARKER
    if marker.is_file() and marker.read_text() == stamp:
        return folder
    try:
        folder = Path(keras.utils.get_file(fname, origin=origin, file_hash=file_hash, cache_subdir=subdir,
                                           extract=True))
    except Exception as exc:
        raise _problem(fname, shown_origin, "압축을 풀 수 없습니다.", "the archive cannot be extracted.", exc) from exc
    if not any(p.name != _MARKER for p in folder.iterdir()):
        raise _problem(fname, shown_origin, "압축 파일이 비어 있거나 형식이 다릅니다.",
                       "the archive is empty or not in the expected format.")
    marker.write_text(stamp)
    return folder


def fetch(
    fname: str,
    origin: str,
    *,
    smoke_builder: Callable[[Path], None],
    file_hash: str | None = None,
    size: int | None = None,
    extract: bool = False,
) -> Path:
    """Local path of ``fname`` (or of its extracted folder when ``extract=True``).

    ``smoke_builder(path)`` must write the tiny smoke-mode file at ``path`` in
    the same format as the real one. ``file_hash`` (sha256) and ``size`` check
    the real file when they are known.
    """
    if is_smoke():
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / fname
            smoke_builder(source)
            return _get_file(fname, source.as_uri(), SMOKE_SUBDIR, sha256(source), extract, origin)

    local_dir = data_dir()
    if local_dir is not None and (local_dir / fname).is_file():
        local = local_dir / fname
        _check_file(local, fname, origin, file_hash, size)
        return _get_file(fname, local.resolve().as_uri(), FULL_SUBDIR, file_hash, extract, origin)
    path = _get_file(fname, origin, FULL_SUBDIR, file_hash, extract, origin)
    if not extract:
        _check_file(path, fname, origin, file_hash, size)
    return path


def read_text(path: str | Path, fname: str, origin: str) -> str:
    """Read a UTF-8 text file; an undecodable byte is a clear error naming its position."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        context = data[max(0, exc.start - 20): exc.end + 20]
        raise _problem(
            fname, origin,
            f"{exc.start}번째 바이트가 올바른 UTF-8이 아닙니다 (주변: {context!r}). 손상된 사본입니다. "
            "원본 URL에서 다시 받으세요.",
            f"byte {exc.start} is not valid UTF-8 (around {context!r}): this copy is corrupt. "
            "Download it again from the original URL.",
        ) from exc
