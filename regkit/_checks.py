"""Argument validation and the wording of its errors, in one place.

Every public function of regkit checks its arguments with these helpers,
so that a wrong argument raises TypeError (wrong kind of thing) or
ValueError (wrong value) with a message that names the function and the
argument.  The module is private (not the user's API, except the two
conversions that :mod:`regkit.penalties` re-exports for users writing
their own penalties, :func:`is_tensor_like` and :func:`as_float_tensor`);
its names carry no underscore because every package of regkit imports
them, and a name imported from another package is public there.
"""
from collections.abc import Mapping
import numbers
import reprlib
import warnings

import numpy as np

from . import backend

__all__ = ["is_tensor_like", "as_float_tensor", "check_supported_float",
           "is_int", "as_real", "check_fraction", "check_positive",
           "normalize_axes", "check_ndim", "is_collection", "short_repr",
           "describe", "as_instances", "check_tag_values", "check_count",
           "check_seed", "SUPPORTED_FLOATS", "MAX_POWER_ITERATIONS",
           "MAX_PROJECTIONS", "MAX_CLASSES", "as_finite_array"]

T = backend.tensor


def is_tensor_like(value):
    """Whether `value` is something a penalty accepts: a symbolic tensor, a
    numeric numpy array or a numpy scalar.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit._checks import is_tensor_like
    >>> is_tensor_like(np.zeros(3)), is_tensor_like("W"), is_tensor_like(None)
    (True, False, False)
    """
    if backend.is_tensor(value):
        return True
    return isinstance(value, (np.ndarray, np.generic)) \
        and value.dtype.kind in "biuf"


def as_float_tensor(x, caller, argname="x"):
    """`x` as a symbolic tensor of a float dtype, or a TypeError.

    Parameters
    ----------
    x : symbolic tensor, shared variable or numpy array
    caller : str
        Name of the function asking, for the error message.
    argname : str
        Name of the argument, for the error message.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit._checks import as_float_tensor
    >>> as_float_tensor(np.ones(2, dtype="float32"), "l2").dtype
    'float32'
    """
    if not is_tensor_like(x):
        raise TypeError(
            "%s: %s must be a tensor (symbolic variable, shared variable or "
            "numeric numpy array), got %s" % (caller, argname, describe(x)))
    x = backend.as_tensor_variable(x)
    if not x.dtype.startswith("float"):
        raise TypeError(
            "%s: %s must have a float dtype, got %s %r; cast it first "
            "(penalties on integers have no gradient)"
            % (caller, argname, x.dtype, x))
    return check_supported_float(x, caller, argname)


#: The float dtypes regkit computes in.
SUPPORTED_FLOATS = ("float32", "float64")


def check_supported_float(x, caller, argname="x"):
    """`x` if its dtype is float32 or float64; a TypeError for float16
    (which neither backend's linkers handle throughout: PyTensor's Numba
    linker fails to compile it, and dropout fails at run time)."""
    if x.dtype.startswith("float") and x.dtype not in SUPPORTED_FLOATS:
        raise TypeError("%s: %s has dtype %s; regkit supports %s (cast it "
                        "to float32)" % (caller, argname, x.dtype,
                                         " and ".join(SUPPORTED_FLOATS)))
    return x


def _constant(value, dtype):
    """`value` as a constant of `dtype`, so that it never upcasts a graph
    (a symbolic scalar `value`: cast to `dtype`)."""
    if backend.is_tensor(value):
        return backend.tensor.cast(value, dtype)
    return backend.as_tensor_variable(np.asarray(value, dtype=dtype))


def is_int(value):
    """Whether `value` is an integer (Python or numpy), bools excluded."""
    return isinstance(value, (numbers.Integral, np.integer)) \
        and not isinstance(value, bool)


def as_real(value, caller, argname, expected="a number"):
    """`value` as a float if it is a real number (not a bool or a string),
    else a TypeError naming `argname`."""
    if isinstance(value, bool) or not isinstance(
            value, (numbers.Real, np.floating, np.integer)):
        raise TypeError("%s: %s must be %s, got %s"
                        % (caller, argname, expected, describe(value)))
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range (10**400)
        raise ValueError("%s: %s must be finite, got an int beyond the "
                         "float range (about 10**%d)" % (
                             caller, argname,
                             int(int(value).bit_length() * 0.30103)))


def check_fraction(value, caller, argname, strict=False):
    """`value` as a float in [0, 1] (strictly between 0 and 1 with
    `strict`), or a TypeError / ValueError naming `argname`."""
    value = as_real(value, caller, argname, "a number between 0 and 1"
                     if strict else "a number in [0, 1]")
    if strict and not 0.0 < value < 1.0:
        raise ValueError("%s: %s must be strictly between 0 and 1, got %r"
                         % (caller, argname, value))
    if not 0.0 <= value <= 1.0:
        raise ValueError("%s: %s must be in [0, 1], got %r"
                         % (caller, argname, value))
    return value


def check_positive(value, caller, argname, allow_zero=False):
    """`value` as a float that is finite and positive (or zero, with
    `allow_zero`), or a TypeError / ValueError naming `argname`.

    Examples
    --------
    >>> from regkit._checks import check_positive
    >>> check_positive(3, "f", "max_norm")
    3.0
    """
    value = as_real(value, caller, argname)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError("%s: %s must be finite and %s, got %r"
                         % (caller, argname, "non-negative" if allow_zero
                            else "positive", value))
    return value


def normalize_axes(axes, ndim, caller, argname="axis"):
    """`axes` (an int or a sequence of ints, negative counting from the end)
    as a sorted tuple of distinct axes of an `ndim`-d tensor.

    Raises
    ------
    TypeError
        If an axis is not an integer.
    ValueError
        If an axis is out of range, repeated, or `axes` is empty.

    Examples
    --------
    >>> from regkit._checks import normalize_axes
    >>> normalize_axes(-1, 3, "f"), normalize_axes((2, 0), 3, "f")
    ((2,), (0, 2))
    """
    items = axes if isinstance(axes, (tuple, list)) else [axes]
    if not items:
        raise ValueError("%s: %s must name at least one axis, got %s"
                         % (caller, argname, describe(axes)))
    result = []
    for item in items:
        if not is_int(item):
            raise TypeError("%s: %s must be an int or a sequence of ints, "
                            "got %s" % (caller, argname, describe(axes)))
        if not -ndim <= item < ndim:
            raise ValueError("%s: %s %s is out of range for a %d-d tensor"
                             % (caller, argname, short_repr(axes), ndim))
        result.append(int(item) % ndim)
    if len(set(result)) != len(result):
        raise ValueError("%s: %s %s names an axis twice"
                         % (caller, argname, short_repr(axes)))
    return tuple(sorted(result))


def check_ndim(x, minimum, caller, argname="x", maximum=None):
    if x.ndim < minimum or (maximum is not None and x.ndim > maximum):
        wanted = ("at least %d" % minimum if maximum is None
                  else "%d to %d" % (minimum, maximum))
        raise ValueError("%s: %s must have %s dimensions, got a %d-d tensor "
                         "%r" % (caller, argname, wanted, x.ndim, x))


def is_collection(value):
    """Whether `value` can be taken as a list of items: iterable, and not a
    string, bytes or a mapping (which iterate over characters or keys)."""
    return not isinstance(value, (str, bytes, Mapping)) \
        and hasattr(value, "__iter__")


#: Bounded reprs for messages: user data may be huge or deeply nested.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 60, 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6


def short_repr(value):
    """A repr of `value` for an error message, at most about 60
    characters, however large or deeply nested `value` is."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = "<%s object>" % type(value).__name__
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def describe(value):
    """``"<type> <short repr>"`` of `value`, for error messages."""
    return "%s %s" % (type(value).__name__, short_repr(value))


def as_instances(value, cls, caller, argname, what):
    """`value` (one instance of `cls` or an iterable of them) as a list,
    or a TypeError naming `caller` and `argname`; `what` describes the
    expected items in the message ("Regularizer objects")."""
    if isinstance(value, cls):
        return [value]
    if not is_collection(value):
        raise TypeError("%s: %s must be a list of %s, got %s"
                        % (caller, argname, what, describe(value)))
    items = list(value)
    for item in items:
        if not isinstance(item, cls):
            raise TypeError("%s: %s must be %s, got %s"
                            % (caller, argname, what, describe(item)))
    return items


def check_tag_values(tags, caller):
    """`tags` (tag name -> wanted) with every value a bool, or a TypeError:
    ``regularizable="false"`` would otherwise select the regularizable
    parameters."""
    for key, value in tags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError("%s: the value of tag %r must be True or False, "
                            "got %s" % (caller, key, describe(value)))
    return {key: bool(value) for key, value in tags.items()}


#: The most power iterations a regularizer may run per step (``n_iter``).
MAX_POWER_ITERATIONS = 100
#: The most random projections a regularizer may draw per step
#: (``n_proj``).
MAX_PROJECTIONS = 100
#: The most classes :func:`regkit.losses.smooth_labels` takes
#: (``num_classes``).
MAX_CLASSES = 10 ** 7


def check_count(value, caller, argname, minimum, maximum=None):
    """`value` as an int of at least `minimum` and, if `maximum` is given,
    at most `maximum` (a count: of passes, projections, iterations,
    classes), or a TypeError / ValueError naming `argname`.

    Parameters
    ----------
    value : int
    caller, argname : str
        Names of the function and the argument, for the error message.
    minimum : int
    maximum : int or None
        The documented upper bound of the count; None: no bound.

    Examples
    --------
    >>> from regkit._checks import check_count
    >>> check_count(3, "f", "n", 2, maximum=10)
    3
    >>> check_count(11, "f", "n", 2, maximum=10)
    Traceback (most recent call last):
        ...
    ValueError: f: n must be at most 10, got 11
    """
    if isinstance(value, bool) or not is_int(value):
        raise TypeError("%s: %s must be an int, got %s"
                        % (caller, argname, describe(value)))
    if value < minimum:
        raise ValueError("%s: %s must be at least %d, got %s"
                         % (caller, argname, minimum, short_repr(value)))
    if maximum is not None and value > maximum:
        raise ValueError("%s: %s must be at most %d, got %s"
                         % (caller, argname, maximum, short_repr(value)))
    return int(value)


def check_seed(rng, caller):
    """`rng` as None or an int seed, or a TypeError naming `caller` (a
    negative int is refused too: numpy's SeedSequence would)."""
    if rng is not None and (not is_int(rng) or rng < 0):
        raise TypeError("%s: rng must be None or a non-negative int seed, "
                        "got %s" % (caller, describe(rng)))
    return None if rng is None else int(rng)


def as_finite_array(value, caller, argname, name, ndim=None):
    """`value` as a float64 array of real, finite numbers, or a
    TypeError / ValueError naming ``argname[name]`` (a saved L2-SP start,
    a power-iteration vector).

    Examples
    --------
    >>> from regkit._checks import as_finite_array
    >>> as_finite_array([1, 2], "L2SP", "start", "d.W").tolist()
    [1.0, 2.0]
    """
    where = "%s[%r]" % (argname, name)
    if not isinstance(name, str):
        raise TypeError("%s: the keys of %s must be parameter names, got %s"
                        % (caller, argname, describe(name)))
    if value is None or isinstance(value, (str, bytes, np.ma.MaskedArray)):
        raise TypeError("%s: %s must be an array of numbers (not a masked "
                        "array), got %s" % (caller, where, describe(value)))
    try:
        with warnings.catch_warnings():
            # numpy < 1.24 only warns on ragged lists: refuse them too
            warnings.simplefilter("error")
            array = np.asarray(value)
    except (TypeError, ValueError, Warning) as exc:
        raise TypeError("%s: %s must be an array of numbers (%s)"
                        % (caller, where, exc)) from None
    if array.dtype.kind == "O":  # nested lists holding big ints, or junk
        try:
            array = np.array(value, dtype=float)
        except OverflowError:
            raise ValueError("%s: %s holds a number beyond the float range"
                             % (caller, where)) from None
        except (TypeError, ValueError) as exc:
            raise TypeError("%s: %s must be an array of numbers (%s)"
                            % (caller, where, exc)) from None
    if array.dtype.kind not in "iuf":
        raise TypeError("%s: %s must be an array of real numbers, got dtype "
                        "%s" % (caller, where, array.dtype))
    array = array.astype(float)
    if not np.isfinite(array).all():
        raise ValueError("%s: %s has NaN or infinite values"
                         % (caller, where))
    if ndim is not None and array.ndim != ndim:
        raise ValueError("%s: %s must be %d-d, got shape %r"
                         % (caller, where, ndim, array.shape))
    return array
