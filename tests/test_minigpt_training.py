"""Lesson 05 end to end in smoke mode: an interrupted training run resumes after its last
finished epoch, and training drives validation perplexity far below the unigram baseline."""

import keras
import numpy as np
import pytest

from textgen_utils import minigpt, training
from textgen_utils.datasets import load_simplebooks


class Disconnect(Exception):
    """Stands in for a Colab runtime that goes away mid-epoch."""


class DisconnectDuring(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch, self.current = epoch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == 2:
            raise Disconnect


def test_interrupted_training_resumes_and_beats_the_unigram_baseline(tmp_path):
    keras.utils.set_random_seed(0)
    s = minigpt.SMOKE_SETTINGS
    assert s.epochs >= 3
    books = load_simplebooks(s.batch_size, s.min_training_seq_len, seed=0)
    vocab = minigpt.wordpiece_vocabulary(books.train_file, s.vocab_size, s.min_training_seq_len)
    tokenizer = minigpt.make_tokenizer(vocab, s.seq_len)
    preprocess = minigpt.make_preprocess(tokenizer, minigpt.make_packer(tokenizer, s.seq_len))
    train, valid = minigpt.tokenized(books.train, preprocess), minigpt.tokenized(books.valid, preprocess)
    baseline = minigpt.unigram_perplexity(train, valid, len(vocab))

    model = minigpt.compile_model(minigpt.build_model(len(vocab), s))
    backup = tmp_path / "backup"
    seen, saved = [], {}
    epochs = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    keep = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: saved.setdefault(epoch, model.get_weights()))
    with pytest.raises(Disconnect):
        model.fit(train, validation_data=valid, epochs=s.epochs, verbose=0,
                  callbacks=training.resumable("l05", backup) + [epochs, keep, DisconnectDuring(epoch=1)])
    assert seen == [0, 1] and any(backup.iterdir()), "epoch 0 finished and was backed up"

    # a fresh runtime: a new model, the same training cell run again
    keras.utils.set_random_seed(1)
    model = minigpt.compile_model(minigpt.build_model(len(vocab), s))
    seen.clear()
    restored = []
    check = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: restored.append(
        all(np.array_equal(a, b) for a, b in zip(model.get_weights(), saved[0]))))
    history = model.fit(train, validation_data=valid, epochs=s.epochs, verbose=0,
                        callbacks=training.resumable("l05", backup) + [epochs, check])
    assert seen == list(range(1, s.epochs)), "resumes at the epoch that was interrupted"
    assert restored == [True], "with the weights of the last finished epoch"
    val = history.history["val_perplexity"]
    assert np.all(np.isfinite(val)) and val[-1] < val[0]
    assert val[-1] < 0.5 * baseline, f"validation perplexity {val[-1]:.1f} vs unigram baseline {baseline:.1f}"
    assert not backup.exists() or not any(backup.iterdir()), "the backup is removed once training finishes"
