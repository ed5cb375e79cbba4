"""ser.calibrate: temperature scaling (with and without novelty), the novelty score, and ECE."""
import numpy as np

from emovc.ser.calibrate import Calibration, Novelty, expected_calibration_error, fit_calibration, scale


def _overconfident(n=2000, k=4, seed=0):
    """Labels and probabilities of a model that is right 70 % of the time but says 95 %."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    guess = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
    probs = np.full((n, k), 0.05 / (k - 1))
    probs[np.arange(n), guess] = 0.95
    return probs, y


def test_scale_keeps_the_ranking_and_moves_confidence_monotonically():
    probs, _ = _overconfident(50)
    tops = [scale(probs, t).max(1).mean() for t in (0.5, 1.0, 2.0, 4.0)]
    assert np.allclose(scale(probs, 1.0), probs)
    assert all(a > b for a, b in zip(tops, tops[1:]))
    for t in (0.5, 2.0, 4.0):
        assert np.array_equal(scale(probs, t).argmax(1), probs.argmax(1))
        assert np.allclose(scale(probs, t).sum(1), 1.0)


def test_fitted_temperature_softens_an_overconfident_model_and_lowers_ece():
    probs, y = _overconfident()
    t = fit_calibration([(probs, y, None)]).temperature
    before, after = expected_calibration_error(probs, y), expected_calibration_error(scale(probs, t), y)
    assert t > 1.5
    assert before > 0.2 and after < 0.05


def test_ece_of_a_calibrated_model_is_small_and_of_a_wrong_one_large():
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.3, 1.0, 5000)
    correct = rng.random(5000) < conf
    probs = np.stack([conf, 1 - conf], 1)
    y = np.where(correct, 0, 1)
    assert expected_calibration_error(probs, y) < 0.03
    assert expected_calibration_error(probs, 1 - y) > 0.4


def test_novelty_lets_the_temperature_soften_unfamiliar_clips_more():
    """Familiar clips (novelty ~1) are right 90 % of the time, unfamiliar ones (novelty ~10) 30 %;
    both say 95 %. One temperature cannot fit both; one that grows with novelty can."""
    rng = np.random.default_rng(2)
    pools = []
    for right, novelty in ((0.9, 1.0), (0.3, 10.0)):
        probs, y = _overconfident(1000, seed=int(novelty))
        y = np.where(rng.random(1000) < right, probs.argmax(1), (probs.argmax(1) + 1) % 4)
        pools.append((probs, y, novelty * rng.uniform(0.8, 1.25, 1000)))
    plain, aware = fit_calibration(pools), fit_calibration(pools, novelty=True)
    assert aware.power > 0.3 and plain.power == 0
    for probs, y, novelty in pools:
        assert expected_calibration_error(aware.apply(probs, novelty), y) < 0.04
    assert max(expected_calibration_error(plain.apply(p, n), y) for p, y, n in pools) > 0.15
    t = aware.temperatures(np.array([aware.low / 10, aware.low, 1.0, 10.0, aware.high, aware.high * 10]), 6)
    assert t[0] == t[1] and t[4] == t[5]                # no extrapolation beyond the fitted range
    assert t[1] < t[2] < t[3] < t[4]
    assert np.allclose(Calibration(2.0).apply(pools[0][0], pools[0][2]), scale(pools[0][0], 2.0))


def test_novelty_is_small_for_training_like_clips_and_survives_saving(tmp_path):
    rng = np.random.default_rng(3)
    train = list(rng.normal(size=(300, 20)) @ rng.normal(size=(20, 40)))
    model = Novelty.fit(train, dims=10, neighbours=5)
    like = model.score(list(np.stack(train[:50]) + rng.normal(scale=0.01, size=(50, 40))))
    unlike = model.score(list(np.stack(train[:50]) * 4 + 10))
    assert like.max() < np.median(unlike) / 10
    model.save(tmp_path / "n.npz")
    assert np.allclose(Novelty.load(tmp_path / "n.npz").score(train[:5]), model.score(train[:5]))
