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

__all__ = ["rectify", "sigmoid", "tanh", "softmax", "identity", "linear"]

T = backend.tensor


def rectify(x):
    """Rectified linear unit, ``max(x, 0)``."""
    return T.maximum(x, 0)


def sigmoid(x):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``."""
    return backend.sigmoid(x)


def tanh(x):
    """Hyperbolic tangent."""
    return T.tanh(x)


def softmax(x):
    """Softmax over the last axis of a (batch, classes) matrix."""
    return backend.softmax(x)


def identity(x):
    """The input unchanged (a linear unit)."""
    return x


linear = identity
