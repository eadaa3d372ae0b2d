"""Penalty functions: a tensor in, a scalar penalty out.

Every penalty takes one tensor (a symbolic variable, a shared variable or a
numpy array) and returns a 0-d symbolic scalar of the same float dtype:
float32 in, float32 out.  Extra arguments are keywords with defaults, so
that :func:`regkit.apply.apply_penalty` can pass them through.

Integer and boolean tensors are rejected with a TypeError: a penalty on
integer values has no gradient, and summing them would silently change the
dtype of the loss it is added to.
"""
import numpy as np

from . import backend

__all__ = ["l1", "l2", "is_tensor_like", "as_float_tensor"]

T = backend.tensor


def is_tensor_like(value):
    """Whether `value` is something a penalty accepts: a symbolic tensor or
    a numeric numpy array.

    Examples
    --------
    >>> import numpy as np
    >>> is_tensor_like(np.zeros(3)), is_tensor_like("W"), is_tensor_like(None)
    (True, False, False)
    """
    if backend.is_tensor(value):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind in "biuf"


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
    >>> as_float_tensor(np.ones(2, dtype="float32"), "l2").dtype
    'float32'
    """
    if not is_tensor_like(x):
        raise TypeError(
            "%s: %s must be a tensor (symbolic variable, shared variable or "
            "numeric numpy array), got %s" % (caller, argname, _describe(x)))
    x = backend.as_tensor_variable(x)
    if not x.dtype.startswith("float"):
        raise TypeError(
            "%s: %s must have a float dtype, got %s %r; cast it first "
            "(penalties on integers have no gradient)"
            % (caller, argname, x.dtype, x))
    return x


def _describe(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return "%s %s" % (type(value).__name__, text)


def l1(x):
    r"""L1 penalty: the sum of the absolute values of `x`.

    .. math:: \ell_1(x) = \sum_i |x_i|

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype.

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import l1
    >>> float(l1(np.array([1.0, -2.0, 3.0])).eval())
    6.0
    """
    x = as_float_tensor(x, "l1")
    return T.sum(abs(x))


def l2(x):
    r"""L2 penalty: the sum of the squares of `x` (no factor 1/2).

    .. math:: \ell_2(x) = \sum_i x_i^2

    This is the squared Euclidean (Frobenius) norm, the same value as
    Lasagne's ``l2``.

    Parameters
    ----------
    x : tensor
        A symbolic tensor, shared variable or numpy array of a float dtype.

    Returns
    -------
    0-d symbolic scalar of the dtype of `x`.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.penalties import l2
    >>> float(l2(np.array([1.0, -2.0, 3.0])).eval())
    14.0
    """
    x = as_float_tensor(x, "l2")
    return T.sum(T.sqr(x))
