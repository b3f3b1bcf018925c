"""Decoding strategies for autoregressive language models: greedy, beam search, sampling.

Every strategy talks to the model through one function, ``next_logits(ids)``: int ids of
shape ``(batch, seq)`` in, next-token logits of shape ``(batch, vocab)`` out. Adapters build it
for a KerasHub ``CausalLM`` (with its key/value cache) or any Keras model
(:mod:`textgen_utils.decoding_adapters`); a toy model for experiments is :func:`toy_next_logits`.
The logits go through small composable processors (:mod:`textgen_utils.logits_processors`)
before a token is chosen, as in Hugging Face ``generate``, which the oracle tests compare with.
"""

from __future__ import annotations

import numpy as np

from textgen_utils.decoding_adapters import (  # noqa: F401 - part of this module's API
    CachedCausalLM, causal_lm_next_logits, keras_hub_generate, keras_next_logits, model_logits)
from textgen_utils.errors import bilingual, check_int
from textgen_utils.logits_processors import (  # noqa: F401 - part of this module's API
    apply_repetition_penalty, apply_temperature, check_k, check_temperature, log_softmax, min_p_filter,
    no_repeat_ngram, process, processors, top_k_filter, top_p_filter)

# --- input checks ----------------------------------------------------------------------


def _prompt(prompt_ids) -> tuple[np.ndarray, bool]:
    """The prompt as a (batch, seq) int64 array, and whether it came in as one 1-D sequence."""
    ids = np.asarray(prompt_ids)
    if ids.size == 0 or ids.ndim not in (1, 2):
        raise ValueError(bilingual(
            f"프롬프트가 비어 있거나 모양이 틀렸습니다 (모양 {ids.shape}). 토큰이 하나 이상인 (길이,) 또는 "
            "(배치, 길이) 배열이 필요합니다. 빈 문자열이라면 <|endoftext|> 토큰 하나로 시작하세요.",
            f"The prompt is empty or badly shaped (shape {ids.shape}); it needs at least one token, as "
            "(seq,) or (batch, seq). For an empty text, start from the single <|endoftext|> token."))
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(bilingual(f"프롬프트는 정수 토큰 번호여야 합니다 (dtype {ids.dtype}).",
                                   f"The prompt must hold integer token ids (dtype {ids.dtype})."))
    return np.atleast_2d(ids).astype(np.int64), ids.ndim == 1


def _new_tokens(max_new_tokens, name: str = "max_new_tokens") -> int:
    return check_int(name, max_new_tokens, minimum=0)


def _fits(next_logits, prompt_length: int, max_new_tokens: int) -> None:
    context = getattr(next_logits, "max_length", None)
    if context is not None and prompt_length + max_new_tokens > context:
        raise ValueError(bilingual(
            f"프롬프트 {prompt_length} 토큰 + 새 토큰 {max_new_tokens}개 = {prompt_length + max_new_tokens}로, "
            f"모델의 문맥 길이 {context}를 넘습니다. max_new_tokens를 줄이거나 프롬프트를 자르세요.",
            f"The prompt's {prompt_length} tokens + {max_new_tokens} new tokens = "
            f"{prompt_length + max_new_tokens} exceed the model's context of {context}. "
            "Lower max_new_tokens or shorten the prompt."))


def _call(next_logits, ids: np.ndarray) -> np.ndarray:
    z = np.asarray(next_logits(ids), dtype=np.float64)
    if z.ndim != 2 or z.shape[0] != ids.shape[0]:
        raise ValueError(bilingual(
            f"next_logits는 (배치, 어휘) 모양의 로짓을 돌려줘야 합니다. 입력 {ids.shape}에 대해 {z.shape}를 받았습니다.",
            f"next_logits must return logits of shape (batch, vocab); got {z.shape} for ids of shape {ids.shape}."))
    return z


# --- greedy search and sampling ----------------------------------------------------------


def _decode(next_logits, prompt_ids, max_new_tokens, choose, eos_id):
    ids, one = _prompt(prompt_ids)
    n = _new_tokens(max_new_tokens)
    _fits(next_logits, ids.shape[1], n)
    done = np.zeros(len(ids), dtype=bool)
    for _ in range(n):
        token = choose(ids, _call(next_logits, ids))
        if eos_id is not None:  # a finished row keeps receiving EOS (padding), as in Hugging Face
            token = np.where(done, eos_id, token)
            done |= token == eos_id
        ids = np.concatenate([ids, token[:, None]], axis=1)
        if done.all():
            break
    return ids[0] if one else ids


def greedy_search(next_logits, prompt_ids, max_new_tokens: int, eos_id: int | None = None) -> np.ndarray:
    """The prompt followed by up to ``max_new_tokens`` ids, each the most likely next token.

    Stops early once every row has produced ``eos_id``. A 1-D prompt gives a 1-D result.
    """
    return _decode(next_logits, prompt_ids, max_new_tokens, lambda ids, z: z.argmax(axis=-1), eos_id)


def _draw(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One token per row from ``softmax(logits)`` (inverse-CDF sampling; -inf is never drawn)."""
    p = np.exp(log_softmax(logits))
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(len(p))[:, None] * cdf[:, -1:]
    ids = (cdf <= u).sum(axis=-1)
    last = p.shape[-1] - 1 - np.argmax(p[:, ::-1] > 0, axis=-1)  # guard against rounding at the top
    return np.minimum(ids, last)


def sample(next_logits, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, min_p: float | None = None, repetition_penalty: float = 1.0,
           no_repeat_ngram_size: int = 0, eos_id: int | None = None, seed=None) -> np.ndarray:
    """Sample up to ``max_new_tokens`` ids after the prompt.

    The logits go through, in Hugging Face's order: repetition penalty, no-repeat n-gram,
    temperature, then the top-k, top-p and min-p filters. ``seed`` is an int, a numpy
    ``Generator``, or None to draw from numpy's global generator (seeded by ``setup()``).
    """
    chain = processors(temperature, top_k, top_p, min_p, repetition_penalty, no_repeat_ngram_size)
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(np.random.randint(2**31) if seed is None else seed)
    return _decode(next_logits, prompt_ids, max_new_tokens, lambda ids, z: _draw(process(chain, ids, z), rng), eos_id)


# --- beam search ---------------------------------------------------------------------------


def top_candidates(scores, log_probs, k: int):
    """The ``k`` best expansions of the beams: (beam index, token, total score), best first.

    ``scores`` (beams,) are the beams' log-probabilities so far, ``log_probs`` (beams, vocab)
    the next-token log-probabilities. Ties go to the lower (beam, token) index.
    """
    total = np.asarray(scores, dtype=np.float64)[:, None] + np.asarray(log_probs, dtype=np.float64)
    flat = total.ravel()
    # a stable sort of only the candidates at or above the k-th best value (not of beams x vocab)
    candidates = np.arange(flat.size)
    if k < flat.size:
        kth = np.partition(flat, flat.size - k)[flat.size - k]
        candidates = np.flatnonzero(flat >= kth)
    best = candidates[np.argsort(-flat[candidates], kind="stable")[:k]]
    return best // total.shape[1], best % total.shape[1], flat[best]


def beam_step(beam_ids, beam_scores, log_probs, num_beams: int):
    """One beam-search step: expand every beam by every token, score, keep the best ``num_beams``.

    Returns ``(new_ids, new_scores)``, best first: ``new_ids`` has one more column than ``beam_ids``.
    """
    beams, tokens, totals = top_candidates(beam_scores, log_probs, check_beams(num_beams))
    new_ids = np.concatenate([np.asarray(beam_ids)[beams], tokens[:, None]], axis=1)
    return new_ids, totals


def check_beams(num_beams) -> int:
    return check_int("num_beams", num_beams, minimum=1)


def beam_search(next_logits, prompt_ids, num_beams: int, max_new_tokens: int, length_penalty: float = 1.0,
                eos_id: int | None = None, no_repeat_ngram_size: int = 0) -> list[tuple[np.ndarray, float]]:
    """Beam search, scored as Hugging Face ``generate`` scores it; returns ``[(ids, score), ...]``, best first.

    A finished hypothesis (it produced ``eos_id`` or reached ``max_new_tokens``) scores the sum of
    its generated tokens' log-probabilities divided by ``generated_length ** length_penalty``.
    Each step looks at the ``2 * num_beams`` best expansions, so that beams ending in EOS can
    retire while ``num_beams`` others go on; the search stops early once no running beam can
    beat the worst of ``num_beams`` finished ones (Hugging Face's ``early_stopping=False``).
    """
    ids, one = _prompt(prompt_ids)
    if not one and len(ids) != 1:
        raise ValueError(bilingual("beam_search는 프롬프트 하나(1차원 배열)를 받습니다.",
                                   "beam_search takes one prompt (a 1-D array)."))
    b, n = check_beams(num_beams), _new_tokens(max_new_tokens)
    _fits(next_logits, ids.shape[1], n)
    running, running_scores, finished = ids, np.zeros(1), []  # finished: (score, ids)
    for step in range(n):
        log_probs = log_softmax(_call(next_logits, running))
        if no_repeat_ngram_size:
            log_probs = no_repeat_ngram(log_probs, running, no_repeat_ngram_size)
        beams, tokens, totals = top_candidates(running_scores, log_probs, 2 * b)
        last, keep = step == n - 1, []
        for rank, (beam, token, total) in enumerate(zip(beams, tokens, totals)):
            if last or (eos_id is not None and token == eos_id):  # this candidate finishes
                if rank < b:
                    seq = np.append(running[beam], token)
                    finished.append((total / (step + 1) ** length_penalty, seq))
            elif len(keep) < b:
                keep.append(rank)
        finished = sorted(finished, key=lambda f: -f[0])[:b]
        if last or not keep:
            break
        running = np.concatenate([running[beams[keep]], tokens[keep, None]], axis=1)
        running_scores = totals[keep]
        best_possible = running_scores[0] / (step + 1) ** length_penalty
        if len(finished) == b and best_possible <= finished[-1][0]:
            break  # no running beam can enter the finished list any more
    if n == 0:
        return [(ids[0].copy(), 0.0)]
    return [(seq, float(score)) for score, seq in finished]


# --- scoring and inspecting -----------------------------------------------------------------


def sequence_logprob(logits, token_ids, prompt_length: int) -> float:
    """Sum of the log-probabilities of the tokens after the prompt.

    ``logits`` (seq, vocab) come from one forward pass over ``token_ids`` (seq,): ``logits[t]``
    predicts token ``t + 1``, so token ``t`` is scored with ``logits[t - 1]``.
    """
    z = np.asarray(logits, dtype=np.float64)
    ids = np.asarray(token_ids)
    if z.ndim == 3 and z.shape[0] == 1:
        z = z[0]
    if ids.ndim == 2 and ids.shape[0] == 1:
        ids = ids[0]
    if z.ndim != 2 or ids.ndim != 1 or len(z) != len(ids):
        raise ValueError(bilingual(
            f"logits는 (길이, 어휘), token_ids는 (길이,) 모양이고 길이가 같아야 합니다. 받은 모양: {z.shape}, {ids.shape}",
            f"logits must be (seq, vocab) and token_ids (seq,), of the same length; got {z.shape} and {ids.shape}."))
    if not 1 <= prompt_length <= len(ids):
        raise ValueError(bilingual(
            f"prompt_length는 1 이상 {len(ids)} 이하여야 합니다 (첫 토큰은 예측할 로짓이 없습니다). 받은 값: {prompt_length}",
            f"prompt_length must be between 1 and {len(ids)} (the first token has no logits predicting it); "
            f"got {prompt_length}."))
    steps = np.arange(prompt_length, len(ids))
    return float(log_softmax(z[steps - 1])[np.arange(len(steps)), ids[steps]].sum())


def step_table(next_logits, prompt_ids, n_steps: int, top: int = 5, decode=None):
    """Greedy decoding, one row per step: the input so far and the ``top`` likeliest next tokens.

    ``decode(list_of_ids) -> str`` renders tokens (default: the ids themselves). Columns:
    ``Input``, ``Choice 1`` ... ``Choice {top}``, each choice as ``"token (12.34%)"``.
    """
    import pandas as pd

    decode = decode or (lambda ids: " ".join(str(i) for i in ids))
    ids, _ = _prompt(prompt_ids)
    ids = ids[:1]
    n, top = _new_tokens(n_steps, "n_steps"), check_k(top)
    _fits(next_logits, ids.shape[1], n)
    rows = []
    for _ in range(n):
        p = np.exp(log_softmax(_call(next_logits, ids)[0]))
        order = np.argsort(-p, kind="stable")[:top]
        row = {"Input": decode(ids[0].tolist())}
        for rank, token in enumerate(order, start=1):
            row[f"Choice {rank}"] = f"{decode([int(token)])} ({100 * p[token]:.2f}%)"
        rows.append(row)
        ids = np.concatenate([ids, [[order[0]]]], axis=1)
    return pd.DataFrame(rows, columns=["Input"] + [f"Choice {i}" for i in range(1, top + 1)])


def toy_next_logits(vocab_size: int = 12, seed: int = 0, scale: float = 3.0, max_length: int | None = None):
    """A random trigram "language model" for experiments and tests: logits depend on the last two tokens."""
    table = np.random.default_rng(seed).normal(0.0, scale, size=(vocab_size + 1, vocab_size, vocab_size))

    def next_logits(ids):
        ids = np.atleast_2d(ids)
        before = ids[:, -2] if ids.shape[1] > 1 else np.full(len(ids), vocab_size)  # no token: row V
        return table[before, ids[:, -1]].astype(np.float32)

    next_logits.max_length = max_length
    next_logits.vocab_size = vocab_size
    return next_logits
