"""Weights that change during training: schedules of a step counter.

A schedule is a small serializable object; called with a step (a symbolic
integer scalar, usually :func:`step_counter`), it returns the weight at
that step as a symbolic float64 scalar, computed inside the compiled
function: one function serves the whole run, the weight moves as the
counter does.  Called with a plain integer, :meth:`Schedule.value` gives
the number (for logging and plots).

* :class:`Constant`: ``value`` at every step;
* :class:`Linear`: straight from ``start`` at step 0 to ``stop`` at step
  ``steps``, then ``stop`` (a warm-up or a linear decay);
* :class:`Cosine`: from ``start`` to ``stop`` along half a cosine over
  ``steps`` steps, then ``stop``;
* :class:`Exponential`: ``start * rate ** step``;
* :class:`Piecewise`: ``values[i]`` from ``boundaries[i - 1]`` (inclusive)
  to ``boundaries[i]``.

The step counts from 0 (a negative symbolic step counts as 0); the user
advances it, typically with ``(step, step + 1)`` in the updates of the
training function.  Every constant of a schedule enters the graph as
float64, whatever ``floatX`` is, so that its value and the steps where it
switches are exact up to :data:`MAX_STEPS`.

Examples
--------
>>> import regkit
>>> from regkit import backend
>>> from regkit.schedules import Linear
>>> warm_up = Linear(0.0, 1e-3, steps=4)
>>> step = regkit.step_counter()
>>> weight = backend.function([], warm_up(step), updates=[(step, step + 1)])
>>> [round(float(weight()), 6) for _ in range(6)]
[0.0, 0.00025, 0.0005, 0.00075, 0.001, 0.001]
>>> warm_up.value(2)
0.0005
"""
import bisect
from collections import OrderedDict
from collections.abc import Mapping
import math
import numbers

import numpy as np

from . import backend
from ._checks import describe, short_repr

__all__ = ["Schedule", "Constant", "Linear", "Cosine", "Exponential",
           "Piecewise", "step_counter", "deserialize_schedule",
           "is_schedule_dict", "check_step", "SCHEDULES", "MAX_STEPS"]

#: The largest step count a schedule takes (``steps``, a boundary): far
#: beyond any training run, and exact in float64.
MAX_STEPS = 2 ** 52

#: Registered name -> Schedule subclass (the ``name`` of a serialized one).
SCHEDULES = OrderedDict()

T = backend.tensor


def step_counter(name="step"):
    """A fresh shared int64 scalar at 0, the step of the schedules.

    Advance it in the training function's updates: ``(step, step + 1)``.

    Examples
    --------
    >>> import regkit
    >>> step = regkit.step_counter()
    >>> step.name, int(step.get_value())
    ('step', 0)
    """
    if not isinstance(name, str):
        raise TypeError("step_counter: name must be a string, got %s"
                        % describe(name))
    return backend.shared(np.int64(0), name=name)


def _number(value, caller, argname):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s: %s must be a real number, got %s"
                        % (caller, argname, describe(value)))
    try:
        value = float(value)
    except OverflowError:  # an int beyond float64's range
        value = math.inf
    if not math.isfinite(value):
        raise ValueError("%s: %s must be finite, got %r"
                         % (caller, argname, value))
    return value


def _count(value, caller, argname, smallest=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s: %s must be an integer, got %s"
                        % (caller, argname, describe(value)))
    value = int(value)
    if not smallest <= value <= MAX_STEPS:
        raise ValueError("%s: %s must be between %d and 2**52, got %d"
                         % (caller, argname, smallest, value))
    return value


def check_step(step, caller="check_step"):
    """`step` as the functions that take one accept it: None, an int from
    0 to :data:`MAX_STEPS` (returned as an int) or a symbolic integer
    scalar; anything else is a TypeError naming `caller` (a ValueError for
    an int out of range).

    Examples
    --------
    >>> import regkit
    >>> from regkit.schedules import check_step
    >>> check_step(3), check_step(None)
    (3, None)
    >>> step = regkit.step_counter()
    >>> check_step(step) is step
    True
    """
    if step is None:
        return None
    if isinstance(step, numbers.Integral) and not isinstance(step, bool):
        return _count(step, caller, "step", smallest=0)
    if not backend.is_tensor(step) or step.ndim != 0 \
            or not str(step.dtype).startswith(("int", "uint")):
        raise TypeError("%s: step must be an integer scalar (symbolic, e.g. "
                        "regkit.step_counter(), or an int), got %s"
                        % (caller, describe(step)))
    return step


class Schedule(object):
    """Base of the schedules: ``schedule(step)`` is the weight at `step`.

    A subclass sets ``_fields`` (its constructor arguments, in order) and
    implements ``_symbolic(t)`` (``t``: the step as a float64 scalar) and
    ``_numeric(t)``; it is registered under its lowercased name.
    """

    _fields = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__name__.lower()
        if name.startswith("_"):  # a private base, never serialized
            return
        taken = SCHEDULES.get(name)
        if taken is not None and (taken.__module__, taken.__qualname__) \
                != (cls.__module__, cls.__qualname__):
            raise TypeError(
                "the schedule name %r is taken by %s.%s: name the class "
                "%s.%s differently (a serialized schedule is found by its "
                "lowercased class name)" % (name, taken.__module__,
                                            taken.__qualname__, cls.__module__,
                                            cls.__qualname__))
        SCHEDULES[name] = cls  # (a reloaded module replaces its own class)

    def __call__(self, step):
        """The weight at `step` (a symbolic integer scalar or an int) as
        a symbolic float64 scalar."""
        if step is None:
            raise TypeError("%r needs a step: pass step= (a symbolic integer "
                            "scalar such as regkit.step_counter())" % (self,))
        step = check_step(step, type(self).__name__)
        if isinstance(step, int):
            return T.constant(self.value(step), dtype="float64")
        # a negative step counts as 0, as the numeric value refuses it
        return self._symbolic(T.maximum(T.cast(step, "float64"),
                                        np.float64(0)))

    def value(self, step):
        """The weight at the integer `step` >= 0, as a float (``inf``
        where an :class:`Exponential` overflows, as in the graph)."""
        step = _count(step, "%s.value" % type(self).__name__, "step",
                      smallest=0)
        with np.errstate(over="ignore"):
            return float(self._numeric(np.float64(step)))

    def bounds(self):
        """(smallest, largest) value over every step >= 0."""
        raise NotImplementedError(
            "%s must implement bounds() (the smallest and largest value over "
            "every step): regularizers check a schedule's values with it"
            % type(self).__name__)

    def get_config(self):
        """The constructor arguments as a plain dict."""
        return OrderedDict((field, getattr(self, field))
                           for field in self._fields)

    def serialize(self):
        """``{"name": <registered name>, "config": get_config()}``."""
        config = {key: list(value) if isinstance(value, tuple) else value
                  for key, value in self.get_config().items()}
        return {"name": type(self).__name__.lower(), "config": config}

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % item for item in self.get_config().items()))

    def __eq__(self, other):
        return type(self) is type(other) and \
            self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self).__name__,
                     tuple(self.get_config().items())))


def deserialize_schedule(data):
    """A schedule from :meth:`Schedule.serialize`'s dict (registered
    classes only, nothing imported or evaluated).

    Examples
    --------
    >>> from regkit.schedules import Linear, deserialize_schedule
    >>> deserialize_schedule(Linear(0, 1, 10).serialize())
    Linear(start=0.0, stop=1.0, steps=10)
    """
    if not isinstance(data, Mapping) or set(data) - {"name", "config"} \
            or "name" not in data:
        raise TypeError("deserialize_schedule: data must be a dict with "
                        "'name' and 'config', got %s" % describe(data))
    cls = SCHEDULES.get(data["name"]) if isinstance(data["name"], str) \
        else None
    if cls is None:
        raise ValueError("deserialize_schedule: %s is not a schedule name "
                         "(%s)" % (short_repr(data["name"]),
                                   ", ".join(SCHEDULES)))
    config = data.get("config") or {}
    if not isinstance(config, Mapping):
        raise TypeError("deserialize_schedule: config must be a dict, got %s"
                        % describe(config))
    unknown = sorted(set(config) - set(cls._fields))
    if unknown:
        raise TypeError("deserialize_schedule: %s takes %s, got %r"
                        % (cls.__name__, ", ".join(cls._fields), unknown[0]))
    return cls(**config)


def is_schedule_dict(data):
    """Whether `data` is a serialized schedule (as a weight in a config).

    Examples
    --------
    >>> from regkit.schedules import Linear, is_schedule_dict
    >>> is_schedule_dict(Linear(0, 1, 5).serialize()), is_schedule_dict(0.1)
    (True, False)
    """
    return isinstance(data, Mapping) and set(data) == {"name", "config"} \
        and isinstance(data["name"], str) and data["name"] in SCHEDULES


class Constant(Schedule):
    """`value` at every step.

    Examples
    --------
    >>> from regkit.schedules import Constant
    >>> Constant(0.5).value(1000)
    0.5
    """

    _fields = ("value",)

    def __init__(self, value):
        self.level = _number(value, "Constant", "value")

    def get_config(self):
        return OrderedDict(value=self.level)

    def bounds(self):
        return (self.level, self.level)

    def _numeric(self, t):
        return self.level

    def _symbolic(self, t):
        return _float64(self.level)


class _Ramp(Schedule):
    """From `start` at step 0 to `stop` at step `steps`, then `stop`."""

    _fields = ("start", "stop", "steps")

    def __init__(self, start, stop, steps):
        name = type(self).__name__
        self.start = _number(start, name, "start")
        self.stop = _number(stop, name, "stop")
        self.steps = _count(steps, name, "steps")

    def bounds(self):
        return (min(self.start, self.stop), max(self.start, self.stop))

    def _fraction(self, progress):
        """The share of the way from start to stop at `progress` in
        [0, 1] (symbolic or numeric)."""
        raise NotImplementedError

    def _numeric(self, t):
        progress = min(t, self.steps) / np.float64(self.steps)
        return self._between(self._fraction(progress, np))

    def _symbolic(self, t):
        steps = _float64(self.steps)
        ramp = self._between(self._fraction(T.minimum(t, steps) / steps, T))
        # exactly start at 0 and stop from `steps` on, whatever the
        # optimizer makes of the ramp's arithmetic
        return T.switch(T.ge(t, steps), _float64(self.stop),
                        T.switch(T.le(t, _float64(0)), _float64(self.start),
                                 ramp))

    def _between(self, share):
        # start at share 0 and stop at share 1, exactly
        return (1.0 - share) * np.float64(self.start) \
            + share * np.float64(self.stop)


class Linear(_Ramp):
    """Straight from `start` at step 0 to `stop` at step `steps`, then
    `stop`.

    Examples
    --------
    >>> from regkit.schedules import Linear
    >>> [Linear(0.0, 1.0, 4).value(t) for t in (0, 1, 4, 9)]
    [0.0, 0.25, 1.0, 1.0]
    """

    def __init__(self, start, stop, steps):
        super().__init__(start, stop, steps)

    def _fraction(self, progress, math_):
        return progress


class Cosine(_Ramp):
    """From `start` at step 0 to `stop` at step `steps` along half a
    cosine (slow at both ends), then `stop`.

    Examples
    --------
    >>> from regkit.schedules import Cosine
    >>> [round(Cosine(1.0, 0.0, 4).value(t), 4) for t in (0, 2, 4, 8)]
    [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, start, stop, steps):
        super().__init__(start, stop, steps)

    def _fraction(self, progress, math_):
        return (1.0 - math_.cos(np.float64(np.pi) * progress)) / 2.0


class Exponential(Schedule):
    """``start * rate ** step``: a decay for ``0 < rate < 1``.

    Examples
    --------
    >>> from regkit.schedules import Exponential
    >>> [Exponential(1.0, 0.5).value(t) for t in (0, 1, 3)]
    [1.0, 0.5, 0.125]
    """

    _fields = ("start", "rate")

    def __init__(self, start, rate):
        self.start = _number(start, "Exponential", "start")
        self.rate = _number(rate, "Exponential", "rate")
        if self.rate <= 0:
            raise ValueError("Exponential: rate must be positive, got %r"
                             % (self.rate,))

    def bounds(self):
        if self.rate == 1 or self.start == 0:
            return (self.start, self.start)
        toward = 0.0 if self.rate < 1 else math.copysign(math.inf,
                                                         self.start)
        return (min(self.start, toward), max(self.start, toward))

    def _numeric(self, t):
        if self.start == 0:  # 0 at every step, as in the graph (not 0 * inf)
            return np.float64(0)
        return np.float64(self.start) * np.float64(self.rate) ** t

    def _symbolic(self, t):
        # exp(t log rate): PyTensor's PyTorch linker has no power kernel
        return np.float64(self.start) * T.exp(
            t * np.float64(math.log(self.rate)))


class Piecewise(Schedule):
    """``values[0]`` before ``boundaries[0]``, ``values[i]`` from
    ``boundaries[i - 1]`` (inclusive) to ``boundaries[i]``, and
    ``values[-1]`` from the last boundary on.

    Examples
    --------
    >>> from regkit.schedules import Piecewise
    >>> steps = Piecewise([10, 20], [0.0, 1e-4, 1e-5])
    >>> [steps.value(t) for t in (0, 9, 10, 19, 20, 99)]
    [0.0, 0.0, 0.0001, 0.0001, 1e-05, 1e-05]
    """

    _fields = ("boundaries", "values")

    def __init__(self, boundaries, values):
        for argname, items in (("boundaries", boundaries),
                               ("values", values)):
            if isinstance(items, (str, bytes, Mapping)) or \
                    not hasattr(items, "__len__") or \
                    getattr(items, "ndim", 1) != 1:
                raise TypeError("Piecewise: %s must be a list, got %s"
                                % (argname, describe(items)))
        if len(boundaries) > 1000:
            # one switch per boundary in the graph
            raise ValueError("Piecewise: at most 1000 boundaries, got %d"
                             % len(boundaries))
        self.boundaries = tuple(_count(b, "Piecewise", "boundaries[%d]" % i)
                                for i, b in enumerate(boundaries))
        self.values = tuple(_number(v, "Piecewise", "values[%d]" % i)
                            for i, v in enumerate(values))
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError("Piecewise: values must have one item more than "
                             "boundaries, got %d values for %d boundaries"
                             % (len(self.values), len(self.boundaries)))
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError("Piecewise: boundaries must increase strictly, "
                             "got %r" % (list(self.boundaries),))

    def bounds(self):
        return (min(self.values), max(self.values))

    def _numeric(self, t):
        return self.values[bisect.bisect_right(self.boundaries, t)]

    def _symbolic(self, t):
        result = _float64(self.values[0])
        for boundary, value in zip(self.boundaries, self.values[1:]):
            result = T.switch(T.ge(t, _float64(boundary)),
                              _float64(value), result)
        return result


def _float64(value):
    """`value` as a float64 constant of the graph (a Python float would
    become a ``floatX`` one: float32 rounds 1e8 + 1 to 1e8)."""
    return T.constant(np.float64(value), dtype="float64")
