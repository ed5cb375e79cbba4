"""ser.calibrate: temperature scaling and expected calibration error."""
import numpy as np

from ser.calibrate import expected_calibration_error, fit_temperature, scale


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
    t = fit_temperature(probs, y)
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
