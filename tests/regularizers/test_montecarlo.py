"""Monte Carlo dropout: mc_predict (regkit/regularizers/montecarlo.py)."""
import numpy as np

import regkit
from regkit import backend

from conftest import FAST, compile_fast

FLOATX = backend.floatX


def test_mc_predict_mean_and_variance():
    l_in = regkit.InputLayer((None, 4), name="in")
    out = regkit.DenseLayer(l_in, 1, W=np.ones((4, 1)), nonlinearity=None)
    drop = regkit.BernoulliDropout("in:out", 0.5, rng=5)
    prediction = regkit.get_output(out, regularizers=[drop])
    mean, var = regkit.mc_predict(prediction,
                                  {l_in.input_var: np.ones((3, 4), FLOATX)},
                                  n=3000)
    # each input survives with 1/2, scaled by 2: mean 4, variance 4 * 1
    np.testing.assert_allclose(mean, 4.0, rtol=0.05)
    np.testing.assert_allclose(var, 4.0, rtol=0.1)
    plain = regkit.get_output(out)
    mean, var = regkit.mc_predict(plain, {l_in.input_var: np.ones((3, 4),
                                                                  FLOATX)},
                                  n=3)
    np.testing.assert_array_equal(var, 0.0)


def test_mc_predict_leaves_the_draws_of_other_functions_alone():
    l_in = regkit.InputLayer((None, 50), name="in")
    drop = regkit.BernoulliDropout("in:out", 0.5, rng=0)
    prediction = regkit.get_output(l_in, regularizers=[drop])
    frozen = compile_fast([l_in.input_var], prediction)
    data = np.ones((2, 50), l_in.input_var.dtype)
    before = frozen(data)
    regkit.mc_predict(prediction, {l_in.input_var: data}, n=3, mode=FAST)
    np.testing.assert_array_equal(frozen(data), before)


def _mc_setup():
    l_in = regkit.InputLayer((None, 50), name="in")
    drop = regkit.BernoulliDropout("in:out", 0.5, rng=1)
    prediction = regkit.get_output(l_in, regularizers=[drop])
    return l_in, prediction, np.ones((4, 50), backend.floatX)


def test_mc_predict_compiles_once_and_draws_fresh_masks(monkeypatch):
    stochastic = regkit.regularizers.stochastic
    l_in, prediction, x = _mc_setup()
    compiled = []
    function = stochastic.backend.function

    def counting(*args, **kwargs):
        compiled.append(args)
        return function(*args, **kwargs)
    monkeypatch.setattr(stochastic.backend, "function", counting)
    first = regkit.mc_predict(prediction, {l_in.input_var: x}, n=2)
    second = regkit.mc_predict(prediction, {l_in.input_var: x}, n=2)
    assert len(compiled) == 1
    assert not np.array_equal(first[0], second[0])  # fresh masks
    for mean, var in (first, second):
        # two passes of values 0 or 2: mean 0, 1 or 2, variance 1 at 1
        assert set(np.unique(mean)) <= {0.0, 1.0, 2.0}
        np.testing.assert_array_equal(var, (mean == 1.0).astype(var.dtype))
    # another mode is another function, kept too; a mode object by identity
    for _ in range(2):
        regkit.mc_predict(prediction, {l_in.input_var: x}, n=2,
                          mode="FAST_COMPILE")
    assert len(compiled) == 2
    mode = backend.c_linker_mode()
    for _ in range(2):
        regkit.mc_predict(prediction, {l_in.input_var: x}, n=2, mode=mode)
    assert len(compiled) == 3


def test_mc_predict_keeps_a_bounded_number_of_functions():
    montecarlo = regkit.regularizers.montecarlo
    for _ in range(montecarlo.MC_CACHE_SIZE + 2):
        l_in, prediction, x = _mc_setup()
        regkit.mc_predict(prediction, {l_in.input_var: x}, n=2,
                          mode="FAST_COMPILE")
    assert len(montecarlo._MC_FUNCTIONS) == montecarlo.MC_CACHE_SIZE


def test_mc_predict_takes_a_value_for_any_variable_of_the_graph():
    # the inputs below a given variable need no value
    l_in = regkit.InputLayer((None, 3), name="in")
    hid = regkit.DenseLayer(l_in, 2, W=np.ones((3, 2)), nonlinearity=None,
                            name="hid")
    h = regkit.get_output(hid)
    prediction = 2 * h
    mean, var = regkit.mc_predict(prediction, {h: np.ones((1, 2))}, n=2)
    np.testing.assert_array_equal(mean, 2.0)
    np.testing.assert_array_equal(var, 0.0)
