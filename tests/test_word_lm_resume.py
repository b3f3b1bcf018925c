"""A Colab disconnect loses no training: lesson 03's model on the smoke IMDB data, trained with
`training.resumable`, interrupted and rerun, ends with the same weights as an uninterrupted run."""

import keras
import numpy as np
import pytest

from textgen_utils import training, wordlm
from textgen_utils.datasets import imdb
from textgen_utils.transformer import build_word_lm

EPOCHS = 3


class Disconnect(Exception):
    pass


class DisconnectAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise Disconnect()


@pytest.fixture(scope="module")
def data():
    texts = imdb.load_imdb(batch_size=64, shuffle=False, verbose=False)
    vectorizer = wordlm.make_vectorizer(texts, 200, 16, source=texts.review_dirs, progress=False)
    return wordlm.lm_dataset(texts, vectorizer), vectorizer.vocabulary_size()


def fresh_model(vocab_size, seed):
    keras.utils.set_random_seed(seed)  # as setup() does in a new Colab session
    return build_word_lm(vocab_size, 16, embed_dim=16, ff_dim=32, num_heads=2)


def test_a_resumed_run_ends_with_the_same_weights(data, tmp_path):
    dataset, vocab_size = data
    straight = fresh_model(vocab_size, 0)
    history = straight.fit(dataset, epochs=EPOCHS, verbose=0,
                           callbacks=training.resumable("l03", directory=tmp_path / "straight"))
    assert history.history["loss"][-1] < history.history["loss"][0], "training lowers the loss"

    backup = tmp_path / "interrupted"
    first = fresh_model(vocab_size, 0)
    with pytest.raises(Disconnect):
        first.fit(dataset, epochs=EPOCHS, verbose=0,
                  callbacks=[*training.resumable("l03", directory=backup), DisconnectAfter(2)])
    assert any(backup.iterdir()), "a backup was written before the disconnect"

    resumed = fresh_model(vocab_size, 99)  # a new session: other initial weights, overwritten by the backup
    rest = resumed.fit(dataset, epochs=EPOCHS, verbose=0, callbacks=training.resumable("l03", directory=backup))
    assert len(rest.history["loss"]) == 1, "only the missing epoch runs again"
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not backup.exists() or not any(backup.iterdir()), "the backup is deleted once training has finished"
