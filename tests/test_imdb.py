"""The IMDB loader: the smoke archive goes through the real download/extract/load path,
and only the five review folders are read (the seed also read urls_*.txt and imdbEr.txt)."""

import tarfile
from pathlib import Path

import keras
import numpy as np
import pytest

from textgen_utils.datasets import DatasetError, imdb, sha256


@pytest.fixture(scope="module")
def reviews():
    dataset = imdb.load_imdb(batch_size=64, shuffle=False, verbose=False)
    return dataset, [t.decode("utf-8") for batch in dataset for t in batch.numpy()]


def test_smoke_archive_has_the_real_layout_and_the_non_review_files(tmp_path):
    path = tmp_path / imdb.FNAME
    imdb.build_smoke_archive(path)
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    for folder in imdb.REVIEW_DIRS:
        assert f"aclImdb/{folder}" in names
    for decoy in ("aclImdb/imdbEr.txt", "aclImdb/imdb.vocab", "aclImdb/train/urls_pos.txt", "aclImdb/test/urls_neg.txt"):
        assert decoy in names, "the smoke archive must contain the files the loader has to skip"


def test_smoke_archive_is_byte_identical_on_every_build(tmp_path):
    imdb.build_smoke_archive(tmp_path / "a.tar.gz")
    imdb.build_smoke_archive(tmp_path / "b.tar.gz")
    assert sha256(tmp_path / "a.tar.gz") == sha256(tmp_path / "b.tar.gz"), "a stable hash lets Keras reuse its copy"


def test_loads_every_review_and_nothing_else(reviews):
    dataset, texts = reviews
    assert len(texts) == dataset.num_reviews == sum(imdb.SMOKE_COUNTS.values()) == 300
    assert len(dataset) == int(np.ceil(300 / 64)), "the number of batches is known (progress bars)"
    joined = "\n".join(texts)
    for name, decoy in imdb.SMOKE_DECOYS.items():
        if name.endswith(".txt"):  # only .txt files could be mistaken for reviews
            assert decoy.strip() not in joined, f"a non-review file was read: {name}"
    assert "http://" not in joined and "0.0490972013402" not in joined


def test_the_seeds_whole_folder_call_would_read_the_non_review_files(reviews):
    dataset, _ = reviews
    root = dataset.review_dirs[0].parent.parent  # aclImdb/
    seed_style = keras.utils.text_dataset_from_directory(str(root), label_mode=None, batch_size=None, verbose=False)
    n_txt_decoys = sum(name.endswith(".txt") for name in imdb.SMOKE_DECOYS)
    assert int(seed_style.cardinality()) == 300 + n_txt_decoys == 306, "like the seed's 100,006 instead of 100,000"


def test_line_breaks_are_replaced_by_spaces(reviews):
    _, texts = reviews
    raw = [text for _, text in imdb.smoke_reviews("train/pos", 60, 0)]
    assert any("<br />" in t for t in raw), "the smoke reviews contain HTML line breaks, like the real ones"
    assert not any("<br" in t for t in texts)


def test_review_folders_follow_their_sentiment():
    for folder, words in (("train/pos", ("worst", "waste", "awful")), ("test/neg", ("best", "wonderful", "loved"))):
        for _, text in imdb.smoke_reviews(folder, 40, 3):
            assert not any(w in text.split() for w in words), f"{folder}: {text}"


def test_unshuffled_order_is_the_same_in_every_epoch(reviews):
    dataset, texts = reviews
    again = [t.decode("utf-8") for batch in dataset for t in batch.numpy()]
    assert again == texts


def test_missing_review_folder_is_a_clear_error(monkeypatch, tmp_path):
    for folder in imdb.REVIEW_DIRS[:-1]:
        (tmp_path / "aclImdb" / folder).mkdir(parents=True)
    monkeypatch.setattr(imdb, "fetch", lambda *a, **k: tmp_path)
    with pytest.raises(DatasetError) as err:
        imdb.imdb_folder()
    message = str(err.value)
    assert "test/neg" in message and "리뷰 폴더" in message and "review folders" in message


def test_review_dirs_are_the_five_folders(reviews):
    dataset, _ = reviews
    assert [Path(*d.parts[-2:]).as_posix() for d in dataset.review_dirs] == list(imdb.REVIEW_DIRS)
