"""Softmax temperature, entropy and sampling, computed in log space.

Every function accepts one distribution (shape ``(vocab,)``) or a batch of them
(shape ``(batch, vocab)``); the last axis is the vocabulary.

* Zero-probability entries stay exactly zero, with no runtime warnings.
* Results stay finite and normalised for temperatures from 1e-3 to 1e3.
* T -> 0 tends to the argmax; T -> infinity tends to uniform over the support
  (the entries whose probability was not zero).
* Bad input raises ``ValueError`` with a Korean and an English sentence.
"""

from __future__ import annotations

import numpy as np

from textgen_utils.errors import bilingual

#: How far from 1 a distribution's sum may be before it is rejected.
SUM_TOLERANCE = 1e-3


# --- input checks ----------------------------------------------------------------------


def check_temperature(temperature, hint_ko: str = "", hint_en: str = "") -> float:
    """Return ``temperature`` as a float, or raise ``ValueError`` unless it is finite and > 0.

    ``hint_ko``/``hint_en`` add a sentence on what to do instead (e.g. use greedy search).
    """
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        t = float("nan")
    if not np.isfinite(t) or t <= 0:
        raise ValueError(
            bilingual(
                f"온도(temperature)는 0보다 큰 유한한 수여야 합니다. 받은 값: {temperature!r}" + (f". {hint_ko}" if hint_ko else ""),
                f"temperature must be a finite number greater than 0; got {temperature!r}." + (f" {hint_en}" if hint_en else ""),
            )
        )
    return t


def _as_float_array(values, what_ko: str, what_en: str) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            bilingual(f"{what_ko}를 숫자 배열로 바꿀 수 없습니다: {err}", f"{what_en} is not an array of numbers: {err}")
        ) from None
    if a.ndim == 0 or a.shape[-1] == 0 or a.size == 0:
        raise ValueError(
            bilingual(
                f"{what_ko}가 비어 있습니다 (모양 {a.shape}). 어휘 크기만큼의 값이 필요합니다.",
                f"{what_en} is empty (shape {a.shape}); it needs one value per vocabulary entry.",
            )
        )
    if a.ndim > 2:
        raise ValueError(
            bilingual(
                f"{what_ko}는 (어휘,) 또는 (배치, 어휘) 모양이어야 합니다. 받은 모양: {a.shape}",
                f"{what_en} must have shape (vocab,) or (batch, vocab); got {a.shape}.",
            )
        )
    return a


def check_distribution(distribution) -> np.ndarray:
    """Validate a probability distribution (or a batch) and return it as float64.

    Raises ``ValueError`` for an empty array, NaN, infinite or negative entries,
    or a sum further than ``SUM_TOLERANCE`` from 1.
    """
    p = _as_float_array(distribution, "확률 분포", "distribution")
    sums = p.sum(axis=-1)  # NaN or inf anywhere makes its row's sum non-finite
    if not np.all(np.isfinite(sums)):
        raise ValueError(
            bilingual("확률 분포에 NaN 또는 무한대 값이 있습니다.", "The distribution contains NaN or an infinite value.")
        )
    smallest = p.min()
    if smallest < 0:
        raise ValueError(
            bilingual(
                f"확률은 음수일 수 없습니다 (가장 작은 값: {smallest:.3g}). 로짓이라면 softmax()를 쓰세요.",
                f"Probabilities cannot be negative (smallest: {smallest:.3g}). For logits, use softmax().",
            )
        )
    off = np.abs(np.ravel(sums) - 1.0)
    if off.max() > SUM_TOLERANCE:
        shown = float(np.ravel(sums)[off.argmax()])
        raise ValueError(
            bilingual(
                f"확률 분포의 합이 1이 아닙니다 (합: {shown:.6g}). p / p.sum()으로 정규화하거나, "
                "로짓이라면 softmax()를 쓰세요.",
                f"The distribution does not sum to 1 (sum: {shown:.6g}). Normalise it with p / p.sum(), "
                "or use softmax() for logits.",
            )
        )
    return p


# --- the functions the lessons use -----------------------------------------------------


def _check_logits(logits) -> np.ndarray:
    z = _as_float_array(logits, "로짓", "logits")
    z_max = z.max(axis=-1, keepdims=True)  # NaN propagates into the max
    if np.isnan(z_max).any() or np.isposinf(z_max).any():
        raise ValueError(bilingual("로짓에 NaN 또는 +무한대가 있습니다.", "The logits contain NaN or +infinity."))
    if np.isneginf(z_max).any():
        raise ValueError(
            bilingual(
                "모든 로짓이 -무한대입니다. 고를 수 있는 토큰이 하나도 없습니다.",
                "Every logit is -infinity: no token is left to choose.",
            )
        )
    return z


def _scaled(z: np.ndarray, t: float, inplace: bool = False) -> np.ndarray:
    """(z - max) / T. Subtracting the maximum *before* dividing by T makes the largest
    entry exactly 0, so nothing can overflow however small T is; -inf stays -inf."""
    out = z if inplace else z.copy()
    out -= z.max(axis=-1, keepdims=True)
    out /= t
    return out


def log_softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """Log-probabilities of ``softmax(logits / temperature)``; ``-inf`` logits stay ``-inf``."""
    z = _scaled(_check_logits(logits), check_temperature(temperature))
    with np.errstate(under="ignore"):  # tiny terms flushing to 0 is intended
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _softmax_inplace(z: np.ndarray, t: float) -> np.ndarray:
    z = _scaled(z, t, inplace=True)
    with np.errstate(under="ignore"):
        np.exp(z, out=z)  # exp(-inf) = 0 exactly
    z /= z.sum(axis=-1, keepdims=True)  # >= 1: the maximum contributes exp(0)
    return z


def softmax(logits, temperature: float = 1.0) -> np.ndarray:
    """Probabilities ``exp(z / T) / sum(exp(z / T))``, computed without overflow."""
    t = check_temperature(temperature)
    return _softmax_inplace(_check_logits(logits).copy(), t)


def reweight_distribution(distribution, temperature: float = 0.5) -> np.ndarray:
    """Sharpen (T < 1) or flatten (T > 1) a probability distribution.

    Equivalent to ``p ** (1/T) / sum(p ** (1/T))`` but computed in log space, so
    tiny temperatures and large vocabularies neither underflow to NaN nor warn.
    """
    t = check_temperature(temperature)
    p = check_distribution(distribution)
    with np.errstate(divide="ignore"):  # log(0) = -inf is exactly what we want
        log_p = np.log(p)
    return _softmax_inplace(log_p, t)


def entropy(distribution) -> float | np.ndarray:
    """Shannon entropy in nats, ``-sum(p * log p)``, with ``0 * log 0 = 0``."""
    p = check_distribution(distribution)
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    h = 0.0 - terms.sum(axis=-1)  # 0.0 - x, not -x: no '-0.0' for certain outcomes
    return float(h) if np.ndim(h) == 0 else h


def _uniform(rng, size):
    """Uniform numbers in [0, 1) from ``rng`` (None: numpy's global, seeded by setup())."""
    if rng is None:
        return np.random.random(size)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng)).random(size)
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng.random(size)
    raise TypeError(
        bilingual(
            f"rng는 None, 정수 시드, numpy Generator 중 하나여야 합니다. 받은 값: {type(rng).__name__}",
            f"rng must be None, an integer seed or a numpy Generator; got {type(rng).__name__}.",
        )
    )


def sample_next(distribution, temperature: float = 1.0, rng=None):
    """Draw the next token id from ``distribution`` reweighted at ``temperature``.

    Returns an ``int`` for one distribution, an array of ints for a batch.
    ``rng`` may be a ``numpy.random.Generator``, an integer seed, or None for
    numpy's global generator (seeded by :func:`textgen_utils.setup`).
    Tokens with probability zero are never drawn.
    """
    q = reweight_distribution(distribution, temperature)
    rows = q.reshape(-1, q.shape[-1])
    u = np.atleast_1d(_uniform(rng, q.shape[:-1]))
    ids = np.empty(len(rows), dtype=np.int64)
    for i, (row, ui) in enumerate(zip(rows, u)):
        cdf = np.cumsum(row)
        # the first index whose cumulative probability exceeds u; zero entries never qualify
        k = int(np.searchsorted(cdf, ui * cdf[-1], side="right"))
        if k >= len(row) or row[k] == 0:  # u rounded up to the total: take the last non-zero entry
            k = int(np.flatnonzero(row)[-1])
        ids[i] = k
    ids = ids.reshape(q.shape[:-1])
    return int(ids) if np.ndim(ids) == 0 else ids.astype(np.int64)
