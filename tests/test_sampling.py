"""textgen_utils.sampling: stable in log space, exact zeros, sane limits, clear errors."""

import warnings

import numpy as np
import pytest

from textgen_utils import sampling

TEMPERATURES = [1e-3, 1e-2, 0.2, 0.5, 1.0, 2.0, 10.0, 1e3]


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="raise", over="raise", invalid="raise"):
            yield


def random_distribution(rng, n, zeros=0):
    p = rng.dirichlet(np.full(n, 0.3))
    p[:zeros] = 0.0
    return p / p.sum()


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_reweight_is_finite_normalised_and_keeps_zeros(temperature):
    rng = np.random.default_rng(0)
    p = random_distribution(rng, 50_000, zeros=1000)
    q = sampling.reweight_distribution(p, temperature)
    assert np.all(np.isfinite(q))
    assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(q[:1000] == 0.0)
    assert q.argmax() == p.argmax(), "temperature never changes the ranking"


def test_reweight_matches_the_closed_form_where_that_is_safe():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    for t in [0.25, 0.5, 1.0, 3.0]:
        expected = p ** (1 / t) / np.sum(p ** (1 / t))
        assert np.allclose(sampling.reweight_distribution(p, t), expected, rtol=1e-12)


def test_limits_argmax_and_uniform_over_the_support():
    p = np.array([0.1, 0.0, 0.25, 0.4, 0.25, 0.0])
    cold = sampling.reweight_distribution(p, 1e-3)
    assert cold[3] == pytest.approx(1.0) and cold.sum() == pytest.approx(1.0)
    hot = sampling.reweight_distribution(p, 1e3)
    assert np.allclose(hot[[0, 2, 3, 4]], 0.25, atol=1e-3)
    assert hot[1] == 0.0 and hot[5] == 0.0, "T -> inf is uniform over the support only"


def test_ties_share_the_mass_at_tiny_temperature():
    q = sampling.reweight_distribution([0.4, 0.4, 0.2], 1e-3)
    assert q[0] == pytest.approx(0.5) and q[1] == pytest.approx(0.5)


def test_entropy_rises_with_temperature():
    rng = np.random.default_rng(1)
    p = random_distribution(rng, 200, zeros=20)
    hs = [sampling.entropy(sampling.reweight_distribution(p, t)) for t in np.logspace(-2, 2, 30)]
    assert all(a <= b + 1e-12 for a, b in zip(hs, hs[1:]))
    assert hs[0] == pytest.approx(0.0, abs=1e-4)
    assert hs[-1] == pytest.approx(np.log(180), abs=1e-2)


def test_entropy_values_in_nats():
    assert sampling.entropy([0.25] * 4) == pytest.approx(np.log(4))
    assert sampling.entropy([0.0, 1.0]) == 0.0
    assert str(sampling.entropy([0.0, 1.0, 0.0])) == "0.0", "no negative zero"


def test_softmax_is_stable_for_huge_and_masked_logits():
    z = np.array([1000.0, 999.0, -np.inf, -1000.0])
    p = sampling.softmax(z)
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    assert p[2] == 0.0
    assert np.allclose(sampling.softmax([2.0, 1.0], 0.5), sampling.softmax([4.0, 2.0]))
    logp = sampling.log_softmax(z)
    assert np.isneginf(logp[2]) and np.allclose(np.exp(logp), p)


def test_batched_inputs():
    rng = np.random.default_rng(2)
    batch = np.stack([random_distribution(rng, 30, zeros=3) for _ in range(8)])
    q = sampling.reweight_distribution(batch, 0.7)
    assert q.shape == batch.shape
    assert np.allclose(q[3], sampling.reweight_distribution(batch[3], 0.7))
    assert np.allclose(sampling.entropy(batch), [sampling.entropy(row) for row in batch])
    ids = sampling.sample_next(batch, 0.7, rng=np.random.default_rng(0))
    assert ids.shape == (8,) and ids.dtype == np.int64
    assert np.all(batch[np.arange(8), ids] > 0)


def test_sample_next_frequencies_match_the_reweighted_distribution():
    p = np.array([0.5, 0.3, 0.2, 0.0])
    rng = np.random.default_rng(123)
    draws = np.array([sampling.sample_next(p, 0.5, rng) for _ in range(20_000)])
    freq = np.bincount(draws, minlength=4) / draws.size
    expected = sampling.reweight_distribution(p, 0.5)
    assert np.max(np.abs(freq - expected)) < 0.015
    assert freq[3] == 0.0
    # The original distribution is 0.16 away in the first entry: this test cannot pass by accident.
    assert np.max(np.abs(freq - p)) > 0.1


def test_sample_next_is_reproducible_and_uses_the_given_generator():
    p = np.full(10, 0.1)
    a = [sampling.sample_next(p, 1.0, np.random.default_rng(5)) for _ in range(3)]
    assert len(set(a)) == 1
    assert isinstance(a[0], int)
    assert sampling.sample_next(p, 1.0, rng=42) == sampling.sample_next(p, 1.0, rng=42)
    np.random.seed(0)
    first = [sampling.sample_next(p) for _ in range(5)]
    np.random.seed(0)
    assert first == [sampling.sample_next(p) for _ in range(5)], "rng=None follows numpy's seeded global state"


def test_sample_next_never_draws_a_zero_probability_token_even_at_the_edges():
    class Edge:  # a generator that returns the largest float below 1
        def random(self, size=None):
            return np.nextafter(np.ones(size if size is not None else ()), 0)

    p = np.array([0.3, 0.7, 0.0, 0.0])
    assert sampling.sample_next(p, 1.0, rng=np.random.Generator(np.random.PCG64(0))) in (0, 1)
    for t in (1e-3, 1.0, 1e3):
        assert sampling.sample_next(p, t, rng=_wrap(Edge())) == 1


def _wrap(obj):
    """Make a duck-typed generator pass sample_next's type check."""

    class G(np.random.Generator):
        def __init__(self):
            super().__init__(np.random.PCG64(0))

        def random(self, size=None, dtype=np.float64, out=None):
            return obj.random(size)

    return G()


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: sampling.reweight_distribution([0.5, 0.5], 0), "temperature"),
        (lambda: sampling.reweight_distribution([0.5, 0.5], -1.0), "temperature"),
        (lambda: sampling.reweight_distribution([0.5, 0.5], float("nan")), "temperature"),
        (lambda: sampling.softmax([1.0, 2.0], float("inf")), "temperature"),
        (lambda: sampling.sample_next([0.5, 0.5], "hot"), "temperature"),
        (lambda: sampling.reweight_distribution([0.5, -0.1, 0.6]), "negative"),
        (lambda: sampling.reweight_distribution([0.5, float("nan"), 0.5]), "NaN"),
        (lambda: sampling.entropy([0.2, 0.2]), "sum"),
        (lambda: sampling.sample_next([1.0, 2.0, 3.0]), "sum"),
        (lambda: sampling.reweight_distribution([]), "empty"),
        (lambda: sampling.softmax(np.zeros((3, 0))), "empty"),
        (lambda: sampling.softmax([-np.inf, -np.inf]), "infinity"),
        (lambda: sampling.softmax([1.0, np.inf]), "infinity"),
    ],
)
def test_bad_input_raises_a_bilingual_value_error(call, fragment):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert fragment in message
    assert any("\uac00" <= ch <= "\ud7a3" for ch in message), "message has a Korean sentence"


def test_bad_rng_is_a_type_error():
    with pytest.raises(TypeError, match="rng"):
        sampling.sample_next([0.5, 0.5], rng="seed")
