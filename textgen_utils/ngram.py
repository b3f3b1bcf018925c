"""A tiny next-character model (counts of n-grams) for lesson 01, and two text statistics.

It is not a neural network, but it is a language model in exactly the sense the
course uses: given the characters so far, it returns a probability distribution
over the next character. That is all sampling needs.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from textgen_utils.errors import bilingual
from textgen_utils.sampling import sample_next


def cat_story() -> str:
    """The short story about a cat on a mat that lesson 01's model learns from."""
    return resources.files("textgen_utils").joinpath("data/cat_story.txt").read_text(encoding="utf-8")


class CharNGramModel:
    """Next-character distributions from counts, backing off to shorter contexts.

    ``order=4`` looks at the last 3 characters; an unseen context falls back to
    the last 2, then 1, then none. ``smoothing`` is added to every count, so any
    character can follow any context, just very rarely.
    """

    def __init__(self, text: str, order: int = 4, smoothing: float = 0.01):
        if order < 1 or not text:
            raise ValueError(bilingual("order ≥ 1, 비어 있지 않은 텍스트가 필요합니다.", "Need order >= 1 and a non-empty text."))
        self.order = order
        self.smoothing = smoothing
        self.vocab = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.vocab)}
        self.counts: dict[str, np.ndarray] = {}
        for n in range(order):  # n = context length
            for i in range(n, len(text)):
                row = self.counts.setdefault(text[i - n : i], np.zeros(len(self.vocab)))
                row[self.index[text[i]]] += 1

    def check_text(self, text: str) -> None:
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(
                bilingual(
                    f"모델이 모르는 글자가 있습니다: {unknown}. 사용할 수 있는 글자: {''.join(self.vocab)!r}",
                    f"The model does not know these characters: {unknown}. Known: {''.join(self.vocab)!r}",
                )
            )

    def next_distribution(self, context: str) -> np.ndarray:
        """P(next character | the last order-1 characters of ``context``)."""
        self.check_text(context)
        for n in range(min(self.order - 1, len(context)), -1, -1):
            counts = self.counts.get(context[len(context) - n :])
            if counts is not None:
                break
        p = counts + self.smoothing
        return p / p.sum()

    def generate(self, prompt: str, length: int, temperature: float = 1.0, greedy: bool = False, rng=None) -> str:
        """Extend ``prompt`` by ``length`` characters, greedily or by sampling at ``temperature``."""
        text = prompt
        for _ in range(length):
            p = self.next_distribution(text)
            i = int(np.argmax(p)) if greedy else sample_next(p, temperature, rng)
            text += self.vocab[i]
        return text


def distinct_ngram_ratio(text: str, n: int = 4) -> float:
    """Distinct n-grams / all n-grams of a text (or any sequence, e.g. token ids): low means it repeats itself."""
    grams = [text[i : i + n] for i in range(len(text) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def novel_word_ratio(text: str, reference: str) -> float:
    """Share of the words in ``text`` that never occur in ``reference`` (invented words)."""
    def words(s: str) -> list[str]:
        return "".join(ch if ch.isalpha() else " " for ch in s).split()

    known = set(words(reference))
    found = words(text)
    return sum(w not in known for w in found) / len(found) if found else 0.0
