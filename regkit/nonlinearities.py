"""Elementwise nonlinearities for :class:`regkit.layers.DenseLayer`.

Each takes a symbolic tensor and returns one of the same shape and dtype.

Examples
--------
>>> import numpy as np
>>> from regkit.nonlinearities import rectify
>>> rectify(np.array([-1.0, 2.0])).eval()
array([0., 2.])
"""
from . import backend
from ._checks import describe, is_tensor_like

__all__ = ["rectify", "sigmoid", "tanh", "softmax", "identity", "linear"]

T = backend.tensor


def _check_input(x, caller):
    if not is_tensor_like(x):
        raise TypeError("%s: x must be a tensor, got %s"
                        % (caller, describe(x)))


def rectify(x):
    """Rectified linear unit, ``max(x, 0)``."""
    _check_input(x, "rectify")
    return T.maximum(x, 0)


def sigmoid(x):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``."""
    _check_input(x, "sigmoid")
    return backend.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent."""
    _check_input(x, "tanh")
    return T.tanh(x)


def softmax(x):
    """Softmax over the last axis of a (batch, classes) matrix."""
    _check_input(x, "softmax")
    if getattr(x, "ndim", None) != 2:
        raise ValueError("softmax: x must be a (batch, classes) matrix, got "
                         "%s" % describe(x))
    return backend.softmax(x)


def identity(x):
    """The input unchanged (a linear unit)."""
    _check_input(x, "identity")
    return x


linear = identity
