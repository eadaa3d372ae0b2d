"""Fully connected layers."""
from collections import OrderedDict

import numpy as np

from .. import backend
from .. import nonlinearities
from .._checks import is_int
from ..init import Constant, GlorotUniform
from .base import Layer

__all__ = ["DenseLayer"]

T = backend.tensor


class DenseLayer(Layer):
    """Fully connected layer: ``nonlinearity(dot(input, W) + b)``.

    The dot product is taken over the trailing axes of the input, those
    after the first `num_leading_axes`; inputs with more trailing axes are
    flattened behind the leading ones first.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
        Number of output units (positive).
    W : array, shared variable, expression or callable
        Weights of shape ``(num_inputs, num_units)``; Glorot uniform by
        default.  Tagged ``trainable`` and ``regularizable``.
    b : array, shared variable, expression, callable or None
        Biases of shape ``(num_units,)``, zeros by default; tagged
        ``trainable`` only.  ``None`` means no bias.
    nonlinearity : callable or None
        Applied to the activation; ``None`` means the identity.  Default
        :func:`~regkit.nonlinearities.rectify`.
    num_leading_axes : int
        How many leading axes are kept (1: the batch axis); a negative
        value counts from the end (-1: a dot product over the last axis
        only).  As in Lasagne, there must be at least one trailing axis,
        and the trailing sizes must be known.
    name : str, optional

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer
    >>> l_in = InputLayer((None, 3))
    >>> l_hid = DenseLayer(l_in, num_units=2, name="hid")
    >>> l_hid.output_shape, [l_hid.param_names[p] for p in l_hid.params]
    ((None, 2), ['hid.W', 'hid.b'])
    >>> DenseLayer(InputLayer((None, 7, 3)), 2,
    ...            num_leading_axes=-1).output_shape
    (None, 7, 2)
    """

    def __init__(self, incoming, num_units, W=GlorotUniform(),
                 b=Constant(0.0), nonlinearity=nonlinearities.rectify,
                 num_leading_axes=1, name=None):
        super(DenseLayer, self).__init__(incoming, name)
        if not is_int(num_units):
            raise TypeError("DenseLayer: num_units must be an int, got %r"
                            % (num_units,))
        if num_units <= 0:
            raise ValueError("DenseLayer: num_units must be positive, got %r"
                             % (num_units,))
        if nonlinearity is not None and not callable(nonlinearity):
            raise TypeError("DenseLayer: nonlinearity must be callable or "
                            "None, got %r" % (nonlinearity,))
        self.num_leading_axes = _check_leading_axes(num_leading_axes,
                                                    self.input_shape)
        self.num_units = int(num_units)
        self.nonlinearity = nonlinearity or nonlinearities.identity
        num_inputs = int(np.prod(self.input_shape[self.num_leading_axes:]))
        self.W = self.add_param(W, (num_inputs, self.num_units), name="W")
        if b is None:
            self.b = None
        else:
            self.b = self.add_param(b, (self.num_units,), name="b",
                                    regularizable=False)

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:self.num_leading_axes]) + (self.num_units,)

    def get_outputs_for(self, input, **kwargs):
        leading = self.num_leading_axes
        if leading < 0:
            leading += input.ndim
        if input.ndim > leading + 1:
            input = T.flatten(input, leading + 1)
        activation = T.dot(input, self.W)
        if self.b is not None:
            activation = activation + self.b
        return OrderedDict([("pre", activation),
                            ("out", self.nonlinearity(activation))])

    def get_output_for(self, input, **kwargs):
        return self.get_outputs_for(input, **kwargs)["out"]


def _check_leading_axes(num_leading_axes, input_shape):
    """`num_leading_axes` of a DenseLayer, checked against its input
    shape; returned as given (negative values count from the end)."""
    if not is_int(num_leading_axes):
        raise TypeError("DenseLayer: num_leading_axes must be an int, got %r"
                        % (num_leading_axes,))
    leading, ndim = int(num_leading_axes), len(input_shape)
    if leading >= ndim:
        raise ValueError(
            "DenseLayer: num_leading_axes=%d for a %d-dimensional input %r "
            "leaves no trailing axes for the dot product"
            % (leading, ndim, tuple(input_shape)))
    if leading < -ndim:
        raise ValueError(
            "DenseLayer: num_leading_axes=%d for a %d-dimensional input %r "
            "asks for more trailing axes than the input has"
            % (leading, ndim, tuple(input_shape)))
    if None in input_shape[leading:]:
        raise ValueError(
            "DenseLayer: the input shape must be known along the trailing "
            "axes (after the first num_leading_axes=%d), got %r"
            % (leading, tuple(input_shape)))
    return leading
