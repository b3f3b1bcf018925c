"""The Nietzsche corpus of lesson 02: ``load_nietzsche() -> str`` (lowercased).

* **full** mode: ``nietzsche.txt`` from the URL below (or ``$TEXTGEN_DATA_DIR``),
  checked against the size and sha256 of the copy whose counts the lesson quotes
  (600,893 characters after decoding, 57 distinct after lowercasing).
* **smoke** mode: a small file in the same format (UTF-8 text, mixed case, lines
  wrapped at 70 columns, blank lines between aphorisms), written by
  :func:`write_smoke_corpus` from a seeded grammar of aphorisms, so that a few
  seconds of training visibly lower the loss.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

from textgen_utils.datasets import fetch, read_text
from textgen_utils.smoke import Grammar

FNAME = "nietzsche.txt"
URL = "https://s3.amazonaws.com/text-datasets/nietzsche.txt"
SHA256 = "9cb94a5f1f8d1359e2e018fa67306eba4ae03942b8c44643eececded39e096df"
SIZE = 600_901  # bytes; a few characters are two bytes in UTF-8

#: What the lesson expects after ``load_nietzsche()``: characters and distinct characters.
EXPECTED = {
    "full": {"characters": 600_893, "distinct": 57},
    "smoke": {"characters": 15_287, "distinct": 36},
}


def load_nietzsche() -> str:
    """The corpus as one lowercased string (the real one in full mode, a tiny one in smoke mode).

    A corrupt or incomplete copy raises :class:`textgen_utils.datasets.DatasetError`
    naming the file, the URL and ``TEXTGEN_DATA_DIR``.
    """
    path = fetch(FNAME, URL, smoke_builder=write_smoke_corpus, file_hash=SHA256, size=SIZE)
    return read_corpus(path)


def check_counts(text: str) -> None:
    """Raise a clear error unless ``text`` has the counts this run mode expects (:data:`EXPECTED`)."""
    from textgen_utils.errors import bilingual
    from textgen_utils.runtime import get_mode

    expected = EXPECTED[get_mode()]
    found = {"characters": len(text), "distinct": len(set(text))}
    if found != expected:
        raise ValueError(bilingual(
            f"말뭉치가 기대와 다릅니다: 글자 {found['characters']:,}개, 서로 다른 글자 {found['distinct']}개 "
            f"(기대값 {expected['characters']:,}개, {expected['distinct']}개). 다른 판본이거나 손상된 사본입니다. "
            f"{URL} 에서 다시 받으세요.",
            f"The corpus is not the expected one: {found['characters']:,} characters, {found['distinct']} "
            f"distinct (expected {expected['characters']:,} and {expected['distinct']}). It is another "
            f"edition or a damaged copy; download it again from {URL}.",
        ))


def read_corpus(path: str | Path) -> str:
    """Decode a ``nietzsche.txt`` file as UTF-8 (a bad byte is a clear error) and lowercase it."""
    return read_text(path, FNAME, URL).lower()


# --- smoke corpus --------------------------------------------------------------------------

#: Aphorisms in the manner of the real book: short claims, dashes, questions, quotations.
APHORISM_RULES: dict[str, list] = {
    "S": [
        (4, "{NP} is {PRED} ."),
        (2, "every {N} is {A} {ADJ} {N} ; {NP} is {PRED} ."),
        (2, "what is {ADJ} ? -- {NP} that {VT}s {NP} ."),
        (2, "he who {VT}s {NP} {VT}s {NP} as well ."),
        (2, "one must {VT} {NP} , not {NP} !"),
        (1, "<q>{NP} is {PRED} ,</q> said the {N} ."),
        (2, "the {N} of {NP} is {PRED} -- and {NP} knows it ."),
        (1, "in the end one {VT}s {NP} , and not {NP} ."),
        (1, "why does {NP} {VT} {NP} ?"),
        (1, "it is the {N} 's {N} that {VT}s {NP} ."),
    ],
    "NP": [(4, "the {N}"), (2, "the {ADJ} {N}"), (1, "our {N}"), (1, "every {ADJ} {N}")],
    "PRED": [(3, "{A} {N}"), (3, "{ADJ}"), (1, "{ADJ} and {ADJ}"), (1, "a {N} of {NP}"), (1, "only a {N}")],
    "A": ["a", "the"],
    "N": ["will", "truth", "morality", "spirit", "soul", "philosopher", "woman", "god", "virtue", "art", "man",
          "reason", "instinct", "knowledge", "joy", "zeal", "jest", "folly", "pride", "fear", "conscience",
          "taste", "value", "life", "wisdom", "error", "question", "mask", "experience", "judge", "power",
          "herd", "mystery"],
    "ADJ": ["free", "deep", "noble", "weak", "strong", "quiet", "lazy", "proud", "honest", "subtle", "old",
            "dangerous", "frozen", "exceptional", "cruel", "refined", "holy", "vain"],
    "VT": ["love", "fear", "despise", "seek", "tempt", "question", "judge", "flatter", "overcome", "mistrust",
           "value", "praise"],
}


def smoke_text(n_aphorisms: int = 120, seed: int = 2) -> str:
    """The smoke corpus: ``n_aphorisms`` short paragraphs, wrapped like the real file."""
    grammar = Grammar(APHORISM_RULES)
    rng = random.Random(seed)
    sentences = iter(grammar.sentences(4 * n_aphorisms, seed=seed))
    paragraphs = []
    for _ in range(n_aphorisms):
        body = " ".join(next(sentences) for _ in range(rng.randint(1, 4)))
        body = body.replace(" 's", "'s").replace("<q>", '"').replace("</q>", '"')
        paragraphs.append(textwrap.fill(body, width=70))
    return "PREFACE\n\n\n" + "\n\n".join(paragraphs) + "\n"


def write_smoke_corpus(path: Path) -> None:
    """Write the smoke corpus as UTF-8 at ``path`` (the ``smoke_builder`` of :func:`load_nietzsche`)."""
    Path(path).write_text(smoke_text(), encoding="utf-8")
