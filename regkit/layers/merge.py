"""Layers that combine several inputs."""
import numbers

import numpy as np

from .. import backend
from .._checks import as_real
from .base import MergeLayer

__all__ = ["ElemwiseSumLayer"]


class ElemwiseSumLayer(MergeLayer):
    """Elementwise weighted sum of its inputs: ``sum_i coeffs[i] * x_i``.

    Parameters
    ----------
    incomings : sequence of Layer or tuple
        Inputs of matching shapes.
    coeffs : float or sequence of float
        One coefficient for all inputs, or one per input; finite real
        numbers.  Integer inputs stay integers under integer coefficients;
        a fractional coefficient makes the sum ``floatX`` (the coefficient
        is never truncated).
    name : str, optional

    Examples
    --------
    >>> from regkit import ElemwiseSumLayer, InputLayer
    >>> a, b = InputLayer((None, 2)), InputLayer((None, 2))
    >>> ElemwiseSumLayer([a, b], coeffs=[1, -1]).output_shape
    (None, 2)
    """

    def __init__(self, incomings, coeffs=1, name=None):
        super(ElemwiseSumLayer, self).__init__(incomings, name)
        n = len(self.input_shapes)
        if isinstance(coeffs, (numbers.Number, np.number)):
            coeffs = [coeffs] * n
        elif not isinstance(coeffs, (list, tuple, np.ndarray)):
            raise TypeError("ElemwiseSumLayer: coeffs must be a number or a "
                            "sequence of numbers, got %r" % (coeffs,))
        coeffs = list(coeffs)
        if len(coeffs) != n:
            raise ValueError("ElemwiseSumLayer: coeffs has %d values for %d "
                             "incomings" % (len(coeffs), n))
        for c in coeffs:
            value = as_real(c, "ElemwiseSumLayer", "coeffs",
                             "a sequence of real numbers")
            if not np.isfinite(value):
                raise ValueError("ElemwiseSumLayer: coeffs must be finite, "
                                 "got %r" % (value,))
        self.coeffs = coeffs
        self.get_output_shape_for(self.input_shapes)  # validate shapes

    def get_output_shape_for(self, input_shapes):
        if len(set(len(s) for s in input_shapes)) != 1:
            raise ValueError("ElemwiseSumLayer: inputs have different numbers "
                             "of dimensions: %r" % (input_shapes,))
        shape = []
        for dims in zip(*input_shapes):
            known = set(d for d in dims if d is not None)
            if len(known) > 1:
                raise ValueError("ElemwiseSumLayer: input shapes do not "
                                 "match: %r" % (input_shapes,))
            shape.append(known.pop() if known else None)
        return tuple(shape)

    def get_output_for(self, inputs, **kwargs):
        total = None
        for coeff, x in zip(self.coeffs, inputs):
            if coeff != 1:
                if x.dtype[:3] in ("int", "uin", "boo") \
                        and float(coeff) != int(coeff):
                    # a fractional coefficient on integers: compute in
                    # floatX rather than truncate the coefficient
                    x = backend.tensor.cast(x, backend.floatX)
                x = x * np.asarray(coeff, dtype=x.dtype)
            total = x if total is None else total + x
        return total
