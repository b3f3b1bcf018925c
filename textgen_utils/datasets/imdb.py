"""The IMDB movie-review data set (Maas et al., 2011) as a ``tf.data`` dataset of review strings.

The archive ``aclImdb_v1.tar.gz`` holds 100,000 reviews, one per ``.txt`` file, in
five folders: ``train/pos``, ``train/neg``, ``train/unsup``, ``test/pos`` and
``test/neg``. Next to them lie files that are *not* reviews (``imdbEr.txt``,
``imdb.vocab``, ``urls_*.txt``, bag-of-words ``.feat`` files). Pointing Keras'
``text_dataset_from_directory`` at the whole ``aclImdb`` folder would read the
``.txt`` ones among them as six extra "reviews"; :func:`load_imdb` reads the five
review folders only.

In smoke mode the same code reads a tiny archive of the same shape, written by
:func:`build_smoke_archive` from a seeded grammar of positive and negative reviews.
"""

from __future__ import annotations

import gzip
import io
import random
import tarfile
from pathlib import Path

from textgen_utils.datasets import DatasetError, fetch
from textgen_utils.smoke import Grammar, tidy

FNAME = "aclImdb_v1.tar.gz"
ORIGIN = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
SIZE = 84_125_825
#: The folders that hold reviews, relative to ``aclImdb/``.
REVIEW_DIRS = ("train/pos", "train/neg", "train/unsup", "test/pos", "test/neg")
#: Number of reviews in the real archive.
NUM_REVIEWS = 100_000


def imdb_folder() -> Path:
    """The extracted ``aclImdb`` folder (downloaded once, or the smoke archive in smoke mode)."""
    root = fetch(FNAME, ORIGIN, smoke_builder=build_smoke_archive, size=SIZE, extract=True)
    folder = root / "aclImdb" if (root / "aclImdb").is_dir() else root
    missing = [d for d in REVIEW_DIRS if not (folder / d).is_dir()]
    if missing:
        raise DatasetError(
            f"'{FNAME}'을(를) 풀었지만 리뷰 폴더 {', '.join(missing)}이(가) 없습니다 ({folder}). "
            "파일이 손상되었을 수 있으니 지우고 다시 받으세요.",
            f"'{FNAME}' was extracted but the review folders {', '.join(missing)} are missing ({folder}). "
            "The file may be corrupt: delete it and download it again.",
        )
    return folder


def review_dirs(folder: Path | None = None) -> list[Path]:
    """The five review folders of an extracted ``aclImdb`` folder."""
    folder = imdb_folder() if folder is None else Path(folder)
    return [folder / d for d in REVIEW_DIRS]


def load_imdb(batch_size: int = 256, shuffle: bool = True, seed: int = 1337, verbose: bool = True):
    """All reviews as a batched ``tf.data.Dataset`` of strings, ``<br />`` replaced by spaces.

    Each review folder is read with ``keras.utils.text_dataset_from_directory(...,
    label_mode=None)``; the five are mixed in proportion to their sizes. With
    ``shuffle=False`` the order is fixed (the same in every epoch). The dataset
    carries ``review_dirs`` (the folders read) and ``num_reviews``.
    """
    import keras
    import tensorflow as tf

    dirs = review_dirs()
    parts, counts = [], []
    for d in dirs:
        part = keras.utils.text_dataset_from_directory(
            str(d), label_mode=None, batch_size=None, shuffle=shuffle, seed=seed, verbose=False
        )
        parts.append(part)
        counts.append(int(part.cardinality()))  # one element per file
    total = sum(counts)
    if verbose:
        detail = ", ".join(f"{d}: {n:,}" for d, n in zip(REVIEW_DIRS, counts))
        print(f"리뷰 {total:,}개 / {total:,} reviews ({detail})")
    mixed = tf.data.Dataset.sample_from_datasets(parts, weights=[n / total for n in counts], seed=seed)
    mixed = mixed.apply(tf.data.experimental.assert_cardinality(total))  # known length: progress bars know the end
    dataset = (
        mixed.batch(batch_size)
        .map(lambda texts: tf.strings.regex_replace(texts, "<br />", " "), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    dataset.review_dirs = dirs
    dataset.num_reviews = total
    return dataset


# --- smoke mode ------------------------------------------------------------------------

#: Positive and negative reviews share their frame; the adjectives and verdicts agree
#: with the sentiment, so a model can learn which words go together.
REVIEW_RULES: dict[str, list] = {
    "POS": [(3, "this movie was {GOOD} . {PBODY} {PEND}"), (2, "this film is {GOOD} . {PBODY} {PEND}"),
            (1, "i {LIKED} this movie . {PBODY} {PEND}")],
    "NEG": [(3, "this movie was {BAD} . {NBODY} {NEND}"), (2, "this film is {BAD} . {NBODY} {NEND}"),
            (1, "i {HATED} this movie . {NBODY} {NEND}")],
    "PBODY": [(2, "{PSENT} {PSENT}"), (1, "{PSENT} <br /><br /> {PSENT} {PSENT}"), (1, "{PSENT}")],
    "NBODY": [(2, "{NSENT} {NSENT}"), (1, "{NSENT} <br /><br /> {NSENT} {NSENT}"), (1, "{NSENT}")],
    "PSENT": ["the {PART} was {GOOD} .", "the {PART} was {GOOD} and the {PART} was {GOOD} .",
              "{NAME} plays the {ROLE} and is {GOOD} .", "i {LIKED} the {PART} ."],
    "NSENT": ["the {PART} was {BAD} .", "the {PART} was {BAD} and the {PART} was {BAD} .",
              "{NAME} plays the {ROLE} and is {BAD} .", "i {HATED} the {PART} ."],
    "PEND": ["{ten} out of 10 .", "highly recommended .", "see it !", "one of the best movies i have seen ."],
    "NEND": ["{one} out of 10 .", "avoid it .", "a waste of time .", "one of the worst movies i have seen ."],
    "GOOD": ["great", "wonderful", "excellent", "beautiful", "funny", "very good", "really great", "brilliant"],
    "BAD": ["bad", "boring", "awful", "terrible", "stupid", "very bad", "really boring", "dull"],
    "LIKED": ["loved", "liked", "enjoyed", "really liked"],
    "HATED": ["hated", "disliked", "could not stand", "did not like"],
    "PART": ["story", "acting", "music", "ending", "plot", "script", "camera work", "cast", "dialogue"],
    "ROLE": ["hero", "villain", "mother", "detective", "young girl", "old man"],
    "NAME": ["john", "mary", "the actor", "the lead actress", "tom", "anna"],
    "ten": ["7", "8", "9", "10"],
    "one": ["1", "2", "3", "4"],
}

#: Reviews per folder in the smoke archive (300 in all).
SMOKE_COUNTS = {"train/pos": 60, "train/neg": 60, "train/unsup": 100, "test/pos": 40, "test/neg": 40}
#: Files in the smoke archive that are not reviews; the loader must skip them.
SMOKE_DECOYS = {
    "README": "Large Movie Review Dataset v1.0 (smoke copy)\n",
    "imdb.vocab": "the\nand\na\nof\n",
    "imdbEr.txt": "0.0490972013402\n0.201363575849\n",
    "train/urls_pos.txt": "http://www.imdb.com/title/tt0000001/usercomments\n",
    "train/urls_neg.txt": "http://www.imdb.com/title/tt0000002/usercomments\n",
    "train/urls_unsup.txt": "http://www.imdb.com/title/tt0000003/usercomments\n",
    "train/labeledBow.feat": "9 0:9 1:1\n",
    "test/urls_pos.txt": "http://www.imdb.com/title/tt0000004/usercomments\n",
    "test/urls_neg.txt": "http://www.imdb.com/title/tt0000005/usercomments\n",
}


def smoke_reviews(folder: str, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (file name, review) pairs for a review folder, from :data:`REVIEW_RULES`."""
    grammar = Grammar(REVIEW_RULES)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        positive = folder.endswith("pos") or (folder.endswith("unsup") and rng.random() < 0.5)
        text = grammar.expand("POS" if positive else "NEG", rng)
        text = ". ".join(s[:1].upper() + s[1:] for s in tidy(text).split(". "))
        rating = 0 if folder.endswith("unsup") else rng.randint(7, 10) if positive else rng.randint(1, 4)
        out.append((f"{i}_{rating}.txt", text))
    return out


def _add(tar: tarfile.TarFile, name: str, data: bytes | None) -> None:
    info = tarfile.TarInfo(name)
    info.mtime = 1_300_000_000  # fixed: the archive (and its hash) is the same on every build
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))


def build_smoke_archive(path: Path) -> None:
    """Write an ``aclImdb``-shaped ``.tar.gz`` with 300 generated reviews and the non-review files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add(tar, "aclImdb", None)
        for split in ("train", "test"):
            _add(tar, f"aclImdb/{split}", None)
        for seed, (folder, n) in enumerate(SMOKE_COUNTS.items()):
            _add(tar, f"aclImdb/{folder}", None)
            for name, text in smoke_reviews(folder, n, seed):
                _add(tar, f"aclImdb/{folder}/{name}", text.encode("utf-8"))
        for name, text in SMOKE_DECOYS.items():
            _add(tar, f"aclImdb/{name}", text.encode("utf-8"))
    with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())
