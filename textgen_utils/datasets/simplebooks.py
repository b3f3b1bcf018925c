"""SimpleBooks-92 (lesson 05): books in plain English, one paragraph per line.

The archive ``simplebooks.zip`` holds ``simplebooks/simplebooks-92-raw/{train,valid,test}.txt``
(and the smaller ``simplebooks-2-raw``). Each file is a stream of books: title lines,
blank lines, chapter headings and paragraphs, one paragraph per line.

:func:`load_simplebooks` keeps only the paragraphs longer than ``min_length``
characters (titles and short lines carry little to learn from), then batches,
shuffles and prefetches them with ``tf.data``. In smoke mode the same code reads a
tiny ``simplebooks``-shaped zip built by :func:`build_smoke_zip`.
"""

from __future__ import annotations

import dataclasses
import random
import re
import zipfile
from pathlib import Path

from textgen_utils.datasets import DatasetError, fetch
from textgen_utils.errors import bilingual
from textgen_utils.smoke import STORY_RULES, Grammar, tidy

FNAME = "simplebooks.zip"
ORIGIN = "https://dldata-public.s3.us-east-2.amazonaws.com/simplebooks.zip"
VARIANT = "simplebooks-92-raw"
MIN_TRAINING_SEQ_LEN = 450


# --- smoke data -----------------------------------------------------------------------

# Dialogue and narration on top of the course's story grammar, so paragraphs read like a book.
_BOOK_RULES = {
    **STORY_RULES,
    "LINE": [(4, "{S}"), (1, '" {SAY} , " said {NAME} .'), (1, '{NAME} said , " {SAY} . "')],
    "SAY": ["come with me", "look at the {N}", "i saw the {N} {PP}", "where is the {N}",
            "the {N} is {ADJ}", "we must help the {N}"],
    "TITLE": ["the {ADJ} {N}", "the {N} and the {N}", "{NAME} and the {ADJ} {N}", "a {N} {PP}"],
    "AUTHOR": ["ellen {NAME}", "mary {NAME}", "john {NAME}"],
}
_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]


def _sentence(text: str) -> str:
    """Tidy a generated sentence: no spaces inside quotes, capitalised names."""
    parts = tidy(text).split('"')
    text = '"'.join(p.strip().capitalize() if i % 2 else p for i, p in enumerate(parts))
    text = re.sub(r"\bi\b", "I", text)
    for name in STORY_RULES["NAME"]:
        text = re.sub(rf"\b{name}\b", name.capitalize(), text)
    return text[:1].upper() + text[1:]


def _title(text: str) -> str:
    return " ".join(w.capitalize() for w in tidy(text).split())


def smoke_book(rng: random.Random, chapters: int, paragraphs: int) -> list[str]:
    """One generated book as lines: title, author, chapters of one-line paragraphs.

    Most paragraphs are longer than 450 characters; short ones (a line of dialogue,
    a title, a blank line) are what the length filter must drop.
    """
    grammar = Grammar(_BOOK_RULES)
    lines = [_title(grammar.expand("TITLE", rng)), "", "By", "", _title(grammar.expand("AUTHOR", rng)), "", "", ""]
    for chapter in range(chapters):
        lines += [_ROMAN[chapter % len(_ROMAN)], "", _title(grammar.expand("TITLE", rng)), "", ""]
        for _ in range(paragraphs):
            n = rng.choice([2, 3]) if rng.random() < 0.2 else rng.randint(14, 22)
            lines += [" ".join(_sentence(grammar.expand("LINE", rng)) for _ in range(n)), ""]
        lines.append("")
    return lines


def smoke_split(seed: int, books: int = 3, chapters: int = 2, paragraphs: int = 40) -> str:
    """A split file's text: several generated books, as in SimpleBooks."""
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(books):
        lines += smoke_book(rng, chapters, paragraphs) + ["", ""]
    return "\n".join(lines) + "\n"


#: Books, chapters per book and paragraphs per chapter of each smoke split.
SMOKE_SIZES = {
    "train": dict(books=4, chapters=2, paragraphs=45),
    "valid": dict(books=1, chapters=1, paragraphs=40),
    "test": dict(books=1, chapters=1, paragraphs=40),
}


def build_smoke_zip(path: Path) -> None:
    """Write a tiny ``simplebooks.zip`` with the real archive's folder layout."""
    def add(zf: zipfile.ZipFile, name: str, text: str) -> None:
        # a fixed timestamp makes the archive byte-identical on every build, so its hash
        # matches the copy in Keras' cache and the extracted folder is reused
        zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)

    with zipfile.ZipFile(path, "w") as zf:
        for seed, (split, size) in enumerate(SMOKE_SIZES.items()):
            text = smoke_split(seed, **size)
            add(zf, f"simplebooks/{VARIANT}/{split}.txt", text)
            add(zf, f"simplebooks/simplebooks-2-raw/{split}.txt", text[: len(text) // 4])


# --- loading --------------------------------------------------------------------------


@dataclasses.dataclass
class SimpleBooks:
    """The raw text pipelines (batches of paragraphs) and where the files are."""

    train: object  # tf.data.Dataset of string batches
    valid: object
    train_file: Path
    valid_file: Path


def simplebooks_folder() -> Path:
    """The extracted ``simplebooks-92-raw`` folder (downloaded on first use)."""
    root = fetch(FNAME, ORIGIN, smoke_builder=build_smoke_zip, extract=True)
    found = sorted(root.rglob(f"{VARIANT}/train.txt"))
    if not found:
        raise DatasetError(
            f"'{FNAME}'을(를) 풀었지만 {VARIANT}/train.txt가 없습니다 ({root}). 파일이 손상되었을 수 있으니 "
            "그 폴더를 지우고 다시 실행하세요.",
            f"'{FNAME}' was extracted but has no {VARIANT}/train.txt ({root}). The file may be corrupt: "
            "delete that folder and run again.",
        )
    return found[0].parent


def text_lines(path: Path, min_length: int):
    """``tf.data`` lines of ``path`` longer than ``min_length`` characters."""
    import tensorflow as tf

    return tf.data.TextLineDataset(str(path)).filter(
        lambda line: tf.strings.length(line, unit="UTF8_CHAR") > min_length
    )


def load_simplebooks(
    batch_size: int = 64,
    min_length: int = MIN_TRAINING_SEQ_LEN,
    shuffle_buffer: int = 16_384,
    seed: int | None = None,
) -> SimpleBooks:
    """Batches of SimpleBooks-92 paragraphs longer than ``min_length`` characters.

    The training lines are shuffled (within a buffer of ``shuffle_buffer`` lines)
    before batching, so that one batch mixes paragraphs of many books; the
    validation lines keep their order. Both pipelines prefetch.
    """
    import tensorflow as tf

    if int(batch_size) < 1 or int(min_length) < 0:
        raise ValueError(
            bilingual(
                f"batch_size는 1 이상, min_length는 0 이상이어야 합니다 (받은 값: {batch_size}, {min_length}).",
                f"batch_size must be at least 1 and min_length at least 0 (got {batch_size}, {min_length}).",
            )
        )
    folder = simplebooks_folder()
    train_file, valid_file = folder / "train.txt", folder / "valid.txt"
    train = (
        text_lines(train_file, min_length)
        .shuffle(shuffle_buffer, seed=seed)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    valid = text_lines(valid_file, min_length).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return SimpleBooks(train=train, valid=valid, train_file=train_file, valid_file=valid_file)
