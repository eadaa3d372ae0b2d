"""Schedules (regkit/schedules.py): values against numpy formulas at the
edges and over several calls of one compiled function on every linker,
serialization, bad input."""
import json
import math
import pickle

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.schedules import (Constant, Cosine, Exponential, Linear,
                              Piecewise, deserialize_schedule)

#: schedule -> the numpy formula it must follow, written apart from it
CASES = [
    (Constant(0.3), lambda t: 0.3),
    (Linear(0.0, 1e-3, 4), lambda t: 1e-3 * min(t, 4) / 4),
    (Linear(2.0, 0.5, 1), lambda t: 0.5 if t >= 1 else 2.0),
    (Cosine(1.0, 0.1, 6),
     lambda t: 0.1 + 0.9 * (1 + math.cos(math.pi * min(t, 6) / 6)) / 2),
    (Exponential(0.5, 0.9), lambda t: 0.5 * 0.9 ** t),
    (Exponential(2.0, 1.0), lambda t: 2.0),
    (Piecewise([2, 5], [0.0, 1.0, 0.25]),
     lambda t: 0.0 if t < 2 else (1.0 if t < 5 else 0.25)),
    (Piecewise([], [0.7]), lambda t: 0.7),
]


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_values_move_with_the_step_in_one_compiled_function(linker):
    step = regkit.step_counter()
    fn = backend.function([], [schedule(step) for schedule, _ in CASES],
                          updates=[(step, step + 1)],
                          mode=backend.linker_modes()[linker])
    rtol = 1e-6 if linker == "MLX" else 1e-12
    for t in range(9):  # one function, nine steps: no recompilation
        got = fn()
        for (schedule, formula), value in zip(CASES, got):
            value = np.asarray(value)  # MLX returns its own arrays
            assert value.dtype == np.float64 and value.shape == ()
            # MLX: cos and exp of float64 at float32 precision
            np.testing.assert_allclose(value, formula(t), rtol=rtol,
                                       atol=rtol / 1000, err_msg=repr(schedule))
    assert int(step.get_value()) == 9


@pytest.mark.parametrize("schedule, formula", CASES)
def test_value_follows_the_formula_and_the_bounds_hold(schedule, formula):
    low, high = schedule.bounds()
    for t in (0, 1, 2, 3, 4, 5, 6, 7, 100, 2 ** 40):
        value = schedule.value(t)
        assert value == pytest.approx(formula(t), rel=1e-12, abs=1e-15)
        assert low - 1e-15 <= value <= high + 1e-15
        # an int step gives a constant of the same value
        assert float(schedule(t).eval()) == pytest.approx(value, rel=1e-12,
                                                          abs=1e-15)


def test_bounds_of_unbounded_and_decreasing_schedules():
    assert Exponential(1.0, 2.0).bounds() == (1.0, math.inf)
    assert Exponential(1.0, 0.5).bounds() == (0.0, 1.0)
    assert Exponential(-1.0, 0.5).bounds() == (-1.0, 0.0)
    assert Linear(1.0, 0.0, 3).bounds() == (0.0, 1.0)
    assert Piecewise([1], [0.5, 0.1]).bounds() == (0.1, 0.5)


@pytest.mark.parametrize("schedule", [case[0] for case in CASES])
def test_serialize_and_pickle_round_trips(schedule):
    data = json.loads(json.dumps(schedule.serialize()))
    again = deserialize_schedule(data)
    assert again == schedule and repr(again) == repr(schedule)
    assert hash(again) == hash(schedule)
    assert pickle.loads(pickle.dumps(schedule)) == schedule
    assert again.value(3) == schedule.value(3)


@pytest.mark.parametrize("make, error, match", [
    (lambda: Linear(0, 1, 0), ValueError, "steps must be between 1"),
    (lambda: Linear(0, 1, 2 ** 53), ValueError, "steps must be between 1"),
    (lambda: Linear(0, 1, 2.5), TypeError, "steps must be an integer"),
    (lambda: Linear(0, 1, True), TypeError, "steps must be an integer"),
    (lambda: Cosine(0, "1", 3), TypeError, "stop must be a real number"),
    (lambda: Linear(float("nan"), 1, 3), ValueError, "start must be finite"),
    (lambda: Constant(float("inf")), ValueError, "value must be finite"),
    (lambda: Exponential(1.0, 0.0), ValueError, "rate must be positive"),
    (lambda: Exponential(1.0, -2), ValueError, "rate must be positive"),
    (lambda: Piecewise([3, 3], [0, 1, 2]), ValueError, "increase strictly"),
    (lambda: Piecewise([3], [0]), ValueError, "one item more"),
    (lambda: Piecewise(3, [0]), TypeError, "boundaries must be a list"),
    (lambda: Piecewise([0], [0, 1]), ValueError, "between 1"),
    (lambda: Piecewise(list(range(1, 1002)), [0] * 1002), ValueError,
     "at most 1000"),
    (lambda: Linear(0, 1, 3).value(-1), ValueError, "step must be between"),
    (lambda: Linear(0, 1, 3)(None), TypeError, "needs a step"),
    (lambda: Linear(0, 1, 3)(backend.tensor.scalar("t")), TypeError,
     "step must be an integer scalar"),
    (lambda: Linear(0, 1, 3)(backend.tensor.ivector("t")), TypeError,
     "step must be an integer scalar"),
    (lambda: Linear(0, 1, 3)("3"), TypeError,
     "step must be an integer scalar"),
    (lambda: deserialize_schedule({"name": "os.system", "config": {}}),
     ValueError, "not a schedule name"),
    (lambda: deserialize_schedule({"name": "linear",
                                   "config": {"begin": 0}}),
     TypeError, "Linear takes start, stop, steps"),
    (lambda: deserialize_schedule(["linear"]), TypeError, "must be a dict"),
    (lambda: regkit.step_counter(3), TypeError, "name must be a string"),
    (lambda: Constant(10 ** 400), ValueError, "value must be finite"),
    (lambda: Linear(0, 1), TypeError, r"Linear.__init__\(\) missing"),
    (lambda: Cosine(0, 1), TypeError, r"Cosine.__init__\(\) missing"),
    (lambda: Piecewise(np.array(5), [1.0]), TypeError,
     "boundaries must be a list"),
    (lambda: Constant(0.0).value(-1), ValueError,
     "Constant.value: step must be between 0"),
    (lambda: regkit.deserialize(
        {"name": "weight_l2", "config": {"weight": {"name": "linnear",
                                                    "config": {}}}}),
     ValueError, "'linnear' is not a schedule name"),
])
def test_bad_input_is_refused_with_a_clear_error(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_step_counter_is_a_fresh_int64_scalar_at_zero():
    one, two = regkit.step_counter(), regkit.step_counter("epoch")
    assert one is not two and two.name == "epoch"
    assert one.get_value().dtype == np.int64 and one.get_value() == 0


def test_is_schedule_dict_takes_any_value():
    from regkit.schedules import is_schedule_dict
    assert not is_schedule_dict({"name": ["linear"], "config": {}})
    assert not is_schedule_dict({"name": "linear"})
    assert is_schedule_dict({"name": "linear", "config": {}})


@pytest.mark.parametrize("floatX", ["float32", "float64"])
@pytest.mark.parametrize("linker", ["cvm", "FAST_COMPILE"])
def test_exact_at_the_edges_whatever_floatX(floatX, linker):
    # every constant is float64: a switch at 1e8 + 1 is not rounded to
    # 1e8 (float32), a ramp is exactly start at 0 and stop from `steps` on,
    # and a negative step counts as 0
    step = regkit.step_counter()
    old = backend.config.floatX
    backend.config.floatX = floatX
    try:
        cases = [Piecewise([10 ** 8 + 1], [0.0, 1.0]), Linear(0.1, 0.3, 3),
                 Cosine(0.1, 0.3, 3), Exponential(0.1, 0.9),
                 Constant(0.1)]
        fn = backend.function([], [s(step) for s in cases],
                              mode=backend.linker_modes()[linker])
    finally:
        backend.config.floatX = old
    for t in (0, 3, 10 ** 8, 10 ** 8 + 1, -5):
        step.set_value(np.int64(t))
        got = [float(v) for v in fn()]
        assert got == [s.value(max(t, 0)) for s in cases], t
    assert got[1:3] == [0.1, 0.1]  # at -5: the start
    step.set_value(np.int64(3))
    assert [float(v) for v in fn()][1:3] == [0.3, 0.3]


def test_an_overflowing_exponential_is_inf_in_numbers_and_in_the_graph():
    grow = Exponential(1.0, 2.0)
    assert grow.value(5000) == math.inf
    assert float(grow(regkit.step_counter()).eval()) == 1.0
    step = regkit.step_counter()
    step.set_value(np.int64(5000))
    assert float(grow(step).eval()) == math.inf


def test_the_registry_refuses_a_clash_and_skips_private_bases():
    from regkit.schedules import SCHEDULES, Schedule
    assert sorted(SCHEDULES) == ["constant", "cosine", "exponential",
                                 "linear", "piecewise"]
    with pytest.raises(TypeError, match="'linear' is taken by "
                                        "regkit.schedules.Linear"):
        type("Linear", (Schedule,), {})
    assert SCHEDULES["linear"] is Linear

    class _Private(Schedule):
        pass
    assert "_private" not in SCHEDULES
