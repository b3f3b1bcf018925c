"""Tiny generated text for smoke mode: a seeded grammar with learnable structure.

Smoke corpora must be small (seconds of CPU training) yet structured enough that
training visibly lowers the loss. A small probabilistic grammar does both: the
same few hundred words recur in predictable patterns.

A grammar maps a symbol to weighted alternatives; ``{name}`` inside an
alternative expands another symbol::

    rules = {"S": ["the {N} {V} .", "a {N} {V} ."], "N": ["cat", "dog"], "V": ["sat", "ran"]}
    Grammar(rules).sentences(3, seed=0)

Alternatives may be strings (equal weights) or ``(weight, string)`` pairs.
"""

from __future__ import annotations

import random
import re

_SLOT = re.compile(r"\{(\w+)\}")


class Grammar:
    def __init__(self, rules: dict[str, list]):
        self.rules = {
            name: [(1.0, alt) if isinstance(alt, str) else (float(alt[0]), alt[1]) for alt in alts]
            for name, alts in rules.items()
        }
        for name, alts in self.rules.items():
            for _, alt in alts:
                for ref in _SLOT.findall(alt):
                    if ref not in self.rules:
                        raise KeyError(f"rule {name!r} refers to unknown symbol {ref!r}")

    def expand(self, symbol: str, rng: random.Random, depth: int = 0) -> str:
        if depth > 30:
            raise RecursionError(f"grammar too deep while expanding {symbol!r}")
        weights, alts = zip(*self.rules[symbol])
        choice = rng.choices(alts, weights=weights)[0]
        return _SLOT.sub(lambda m: self.expand(m.group(1), rng, depth + 1), choice)

    def sentences(self, n: int, seed: int = 0, start: str = "S") -> list[str]:
        rng = random.Random(seed)
        return [tidy(self.expand(start, rng)) for _ in range(n)]


def tidy(text: str) -> str:
    """Collapse spaces and attach punctuation: 'a cat , then .' -> 'a cat, then.'"""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return text[:1].upper() + text[1:] if text else text


#: A small English grammar with agreement and recurring phrases, shared by the lessons.
STORY_RULES: dict[str, list] = {
    "S": [(3, "{NP} {VP} ."), (2, "{NP} {VP} and {NP} {VP} ."), (1, "when {NP} {VP} , {NP} {VP} ."),
          (1, "{NP} {VP} {PP} .")],
    "NP": [(3, "the {N}"), (2, "the {ADJ} {N}"), (1, "a {ADJ} {N}"), (1, "{NAME}")],
    "VP": [(3, "{VT} {NP}"), (2, "{VI}"), (1, "{VI} {ADV}"), (1, "{VT} {NP} {PP}")],
    "PP": ["{P} the {N}", "{P} the {ADJ} {N}"],
    "N": ["cat", "dog", "king", "queen", "boy", "girl", "bird", "horse", "farmer", "teacher", "river", "garden",
          "house", "forest", "ship", "village"],
    "ADJ": ["old", "young", "little", "big", "quiet", "happy", "brave", "tired", "kind", "clever", "green", "dark"],
    "NAME": ["anna", "tom", "mary", "peter", "lucy", "jack"],
    "VT": ["saw", "found", "helped", "followed", "called", "watched", "visited", "liked"],
    "VI": ["slept", "laughed", "waited", "smiled", "walked", "sang", "cried", "ran"],
    "ADV": ["slowly", "quickly", "again", "quietly", "all day", "at night"],
    "P": ["near", "in", "behind", "across", "under", "beside"],
}


def story_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences from :data:`STORY_RULES` (deterministic for a seed)."""
    return Grammar(STORY_RULES).sentences(n, seed=seed)
