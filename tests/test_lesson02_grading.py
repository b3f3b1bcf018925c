"""Grading lesson 02: typical wrong answers lose the hidden-test points (and often the
visible ones), while the exercises a student got right keep theirs. Wrong answers for
different exercises share a student, to keep autograding (a full notebook run each) cheap."""

import pytest

from textgen_utils import course
from tests.grading import submission

LESSON = course.lessons(only=["02"])[0]

# (a) the target is the last character of the window, not the one after it
WINDOWS_OFF_BY_ONE = """
def make_windows(text, maxlen, step):
    starts = range(0, len(text) - maxlen, step)
    return [text[i : i + maxlen] for i in starts], [text[i + maxlen - 1] for i in starts]
"""

# (a) one window too many when (len - maxlen) is a multiple of step
WINDOWS_ONE_TOO_MANY = """
def make_windows(text, maxlen, step):
    starts = range(0, len(text) - maxlen + 1, step)
    return [text[i : i + maxlen] for i in starts], [text[i + maxlen] for i in starts]
"""

# (b) the textbook's assumption: the window is the *first* maxlen characters of the seed
SAMPLER_FIRST_MAXLEN = """
def sample_text(model, vocab, seed_text, length, temperature, maxlen, rng):
    window = seed_text[:maxlen]
    out = ""
    for _ in range(length):
        probs = model.predict(vocab.encode(window)[None, :], verbose=0)[0]
        ch = vocab.chars[sampling.sample_next(probs, temperature, rng)]
        out += ch
        window = (window + ch)[-maxlen:]
    return out
"""

# (b) samples from the model's distribution as it is: the temperature is ignored
SAMPLER_IGNORES_TEMPERATURE = """
def sample_text(model, vocab, seed_text, length, temperature, maxlen, rng):
    window = seed_text[-maxlen:]
    out = ""
    for _ in range(length):
        probs = model.predict(vocab.encode(window)[None, :], verbose=0)[0]
        ch = vocab.chars[int(rng.choice(len(probs), p=probs / probs.sum()))]
        out += ch
        window = (window + ch)[-maxlen:]
    return out
"""

# (b) the window grows instead of sliding
SAMPLER_WINDOW_GROWS = """
def sample_text(model, vocab, seed_text, length, temperature, maxlen, rng):
    window = seed_text[-maxlen:]
    out = ""
    for _ in range(length):
        probs = model.predict(vocab.encode(window)[None, :], verbose=0)[0]
        ch = vocab.chars[sampling.sample_next(probs, temperature, rng)]
        out += ch
        window = window + ch
    return out
"""

# (c) keeps the first maxlen characters (a keras-io example once did)
PROMPT_FIRST_MAXLEN = """
def prompt_to_indices(prompt, char_indices, maxlen):
    text = prompt.lower()[:maxlen]
    unknown = sorted(set(text) - set(char_indices))
    if unknown:
        raise ValueError(f"어휘에 없는 글자 {unknown} / unknown characters {unknown}")
    return [char_indices[ch] for ch in text]
"""

# (c) the textbook's behaviour: a bare KeyError from the dictionary
PROMPT_KEYERROR = """
def prompt_to_indices(prompt, char_indices, maxlen):
    return [char_indices[ch] for ch in prompt.lower()[-maxlen:]]
"""

# (c) an error message in English only
PROMPT_ENGLISH_ONLY = """
def prompt_to_indices(prompt, char_indices, maxlen):
    text = prompt.lower()[-maxlen:]
    unknown = sorted(set(text) - set(char_indices))
    if unknown:
        raise ValueError(f"These characters are not in the vocabulary: {unknown}")
    return [char_indices[ch] for ch in text]
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("l02")
    subs = {
        "first": submission(LESSON, tmp / "a.ipynb", {
            "l02_a_windows_solution": WINDOWS_OFF_BY_ONE,
            "l02_b_sampler_solution": SAMPLER_FIRST_MAXLEN,
            "l02_c_prompt_solution": PROMPT_FIRST_MAXLEN,
        }),
        "second": submission(LESSON, tmp / "b.ipynb", {
            "l02_a_windows_solution": WINDOWS_ONE_TOO_MANY,
            "l02_b_sampler_solution": SAMPLER_IGNORES_TEMPERATURE,
            "l02_c_prompt_solution": PROMPT_KEYERROR,
        }),
        "third": submission(LESSON, tmp / "c.ipynb", {
            "l02_b_sampler_solution": SAMPLER_WINDOW_GROWS,
            "l02_c_prompt_solution": PROMPT_ENGLISH_ONLY,
        }),
    }
    return course.autograde(LESSON, subs, Execute__timeout=120)


def _score(result, gid):
    return result.cells[gid][0]


@pytest.mark.parametrize("student", ["first", "second", "third"])
@pytest.mark.parametrize("exercise", ["b_sampler", "c_prompt"])
def test_wrong_answers_lose_the_hidden_points(graded, student, exercise):
    assert _score(graded[student], f"l02_{exercise}_hidden") == 0


@pytest.mark.parametrize("student", ["first", "second"])
def test_wrong_windows_lose_every_point(graded, student):
    result = graded[student]
    assert _score(result, "l02_a_windows_visible") == 0 and _score(result, "l02_a_windows_hidden") == 0


def test_near_misses_pass_the_visible_tests_but_not_the_hidden_ones(graded):
    first, second, third = graded["first"], graded["second"], graded["third"]
    assert _score(first, "l02_b_sampler_visible") == 1, "first maxlen of a maxlen-long seed looks right"
    assert _score(first, "l02_c_prompt_visible") == 1, "first maxlen of a short prompt looks right"
    assert _score(second, "l02_b_sampler_visible") == 1, "a near-greedy stand-in hides the missing temperature"
    assert _score(third, "l02_c_prompt_visible") == 1, "an English-only message passes the visible test"


def test_the_textbooks_keyerror_and_a_growing_window_fail_the_visible_tests(graded):
    assert _score(graded["second"], "l02_c_prompt_visible") == 0
    assert _score(graded["third"], "l02_b_sampler_visible") == 0


def test_a_correct_exercise_keeps_its_points_next_to_wrong_ones(graded):
    third = graded["third"]
    assert _score(third, "l02_a_windows_visible") == 1 and _score(third, "l02_a_windows_hidden") == 2
