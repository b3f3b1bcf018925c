"""Logits processors: small pieces that reshape next-token logits before a token is chosen.

Each piece takes ``logits`` of shape ``(vocab,)`` or ``(batch, vocab)`` (and, where it needs
the history, the ``ids`` generated so far, shape ``(batch, seq)``) and returns new logits of the
same shape. A removed token gets ``-inf``: its probability after the softmax is exactly 0.
They follow Hugging Face's ``LogitsProcessor``/``LogitsWarper`` classes of the same names, which
the oracle tests (``tests/test_decoding_oracle.py``) check them against:

* :func:`apply_repetition_penalty`, :func:`no_repeat_ngram` look at the history;
* :func:`apply_temperature` divides by T;
* :func:`top_k_filter`, :func:`top_p_filter`, :func:`min_p_filter` cut the tail.

:func:`processors` strings them together in Hugging Face's order.
"""

from __future__ import annotations

import numpy as np

from textgen_utils import sampling
from textgen_utils.errors import bilingual, check_int

NEG_INF = -np.inf


# --- input checks ----------------------------------------------------------------------


def _logits(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim not in (1, 2) or z.shape[-1] == 0:
        raise ValueError(bilingual(
            f"로짓은 (어휘,) 또는 (배치, 어휘) 모양이어야 합니다. 받은 모양: {z.shape}",
            f"logits must have shape (vocab,) or (batch, vocab); got {z.shape}."))
    return z


def check_k(k) -> int:
    return check_int("top-k k", k, minimum=1)


def check_p(p, name: str = "p") -> float:
    try:
        value = float(p)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise ValueError(bilingual(
            f"{name}는 0보다 크고 1 이하인 수여야 합니다 (0 < {name} <= 1). 받은 값: {p!r}",
            f"{name} must be in (0, 1]; got {p!r}."))
    return value


def check_temperature(temperature) -> float:
    return sampling.check_temperature(temperature, "탐욕적 선택을 원하면 greedy_search를 쓰세요.",
                                      "For greedy choice, use greedy_search.")


# --- the processors --------------------------------------------------------------------


def log_softmax(logits) -> np.ndarray:
    """Log-probabilities along the last axis; ``-inf`` logits stay ``-inf``."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """``logits / T``: T < 1 sharpens the distribution, T > 1 flattens it."""
    return _logits(logits) / check_temperature(temperature)


def top_k_filter(logits, k: int) -> np.ndarray:
    """Keep the ``k`` largest logits, *and every logit tied with the k-th*; the rest become -inf."""
    z = _logits(logits)
    k = min(check_k(k), z.shape[-1])
    kth = -np.sort(-z, axis=-1)[..., k - 1:k]  # the k-th largest value
    return np.where(z < kth, NEG_INF, z)


def top_p_filter(logits, p: float, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Nucleus filter: keep the most likely tokens until their probability reaches ``p``.

    As Hugging Face does: sort ascending and drop the tokens whose cumulative probability
    is at most ``1 - p`` (the unlikely tail), but always keep ``min_tokens_to_keep``.
    Tokens tied with a kept token are kept too (as in :func:`top_k_filter`); Hugging Face
    leaves a tie at the cut-off to the order of PyTorch's unstable sort.
    """
    z = _logits(logits)
    p = check_p(p)
    rows = np.atleast_2d(z)
    drop = np.zeros(rows.shape, dtype=bool)
    for row, out in zip(rows, drop):
        order = np.argsort(row, kind="stable")  # ascending
        sorted_z = row[order]
        cumulative = np.cumsum(np.exp(log_softmax(sorted_z)))
        group_end = np.searchsorted(sorted_z, sorted_z, side="right") - 1  # last member of each tie group
        out[order] = cumulative[group_end] <= 1.0 - p
    keep = min(max(int(min_tokens_to_keep), 1), rows.shape[-1])
    drop &= rows < -np.sort(-rows, axis=-1)[:, keep - 1:keep]
    return np.where(drop, NEG_INF, rows).reshape(z.shape)


def min_p_filter(logits, min_p: float, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Drop tokens whose probability is below ``min_p`` times the top token's probability."""
    z = _logits(logits)
    min_p = check_p(min_p, "min_p")
    log_p = log_softmax(z)
    drop = log_p < np.log(min_p) + log_p.max(axis=-1, keepdims=True)
    if min_tokens_to_keep > 1:  # the top token always survives (min_p <= 1), so only more need keeping
        keep = np.argsort(-z, axis=-1, kind="stable")[..., :min_tokens_to_keep]
        np.put_along_axis(drop, keep, False, axis=-1)
    return np.where(drop, NEG_INF, z)


def apply_repetition_penalty(logits, ids, penalty: float) -> np.ndarray:
    """Make every token already in ``ids`` less likely (CTRL's penalty, as Hugging Face applies it).

    A positive logit is divided by ``penalty``, a negative one multiplied by it.
    """
    z = _logits(logits).copy()
    rows = np.atleast_2d(z)
    for row, history in zip(rows, np.atleast_2d(ids)):
        seen = np.unique(history)
        row[seen] = np.where(row[seen] < 0, row[seen] * penalty, row[seen] / penalty)
    return rows.reshape(z.shape)


def banned_ngram_tokens(history, n: int) -> list[int]:
    """Tokens that would repeat an ``n``-gram already in ``history`` (a 1-D sequence of ids)."""
    history = [int(t) for t in history]
    if n < 1 or len(history) < n:
        return []
    prefix = tuple(history[len(history) - n + 1:])
    return [history[i + n - 1] for i in range(len(history) - n + 1) if tuple(history[i:i + n - 1]) == prefix]


def no_repeat_ngram(logits, ids, n: int) -> np.ndarray:
    """Forbid (-inf) every token that would complete an ``n``-gram seen before in ``ids``."""
    z = _logits(logits).copy()
    rows = np.atleast_2d(z)
    for row, history in zip(rows, np.atleast_2d(ids)):
        row[banned_ngram_tokens(history, n)] = NEG_INF
    return rows.reshape(z.shape)


def processors(temperature=1.0, top_k=None, top_p=None, min_p=None, repetition_penalty=1.0,
               no_repeat_ngram_size=0):
    """The processors for these settings, in Hugging Face's order, as ``f(ids, logits) -> logits``.

    History first (repetition penalty, no-repeat n-gram), then temperature, then the
    filters top-k, top-p and min-p. Settings that change nothing are left out.
    """
    chain = []
    if repetition_penalty != 1.0:
        if not float(repetition_penalty) > 0:
            raise ValueError(bilingual(
                f"repetition_penalty는 0보다 커야 합니다. 받은 값: {repetition_penalty!r}",
                f"repetition_penalty must be > 0; got {repetition_penalty!r}."))
        chain.append(lambda ids, z, r=float(repetition_penalty): apply_repetition_penalty(z, ids, r))
    if no_repeat_ngram_size:
        chain.append(lambda ids, z: no_repeat_ngram(z, ids, int(no_repeat_ngram_size)))
    if check_temperature(temperature) != 1.0:
        chain.append(lambda ids, z: apply_temperature(z, temperature))
    if top_k is not None:
        chain.append(lambda ids, z, k=check_k(top_k): top_k_filter(z, k))
    if top_p is not None and check_p(top_p, "top_p") < 1.0:
        chain.append(lambda ids, z: top_p_filter(z, top_p))
    if min_p is not None:
        chain.append(lambda ids, z, m=check_p(min_p, "min_p"): min_p_filter(z, m))
    return chain


def process(chain, ids, logits) -> np.ndarray:
    """Run ``logits`` through every processor of ``chain`` in order."""
    z = _logits(logits)
    for step in chain:
        z = step(ids, z)
    return z


__all__ = [
    "log_softmax", "apply_temperature", "top_k_filter", "top_p_filter", "min_p_filter",
    "apply_repetition_penalty", "no_repeat_ngram", "banned_ngram_tokens", "processors", "process",
    "check_k", "check_p", "check_temperature",
]
