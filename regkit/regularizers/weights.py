"""Penalties on parameters, chosen by tag and by name pattern."""
from collections.abc import Mapping

import numpy as np

from .. import backend
from .._checks import _describe
from ..penalties import l1, l2
from ..regularization import apply_penalty, sum_terms
from .base import _ParamRegularizer

__all__ = ["WeightL2", "WeightL1", "L2SP"]


class _WeightPenalty(_ParamRegularizer):
    """Sum of a penalty over the matching parameters with the given tags."""

    penalty = None

    def loss(self, layers, outputs):
        return apply_penalty(self.params(layers), type(self).penalty)


class WeightL2(_WeightPenalty):
    """Sum of squares of the matching parameters (weight decay).

    ``loss = sum(l2(W) for W in params)``: the plain sum over parameters,
    not theanets' mean of per-parameter means, so it is the same number as
    ``regularize_network_params(net, l2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, WeightL2, get_outputs
    >>> net = DenseLayer(InputLayer((None, 2)), 2, W=np.ones((2, 2)),
    ...                  name="out")
    >>> float(WeightL2(weight=1e-4).loss(net, get_outputs(net)).eval())
    4.0
    """

    aliases = ("weight_decay",)
    penalty = staticmethod(l2)


class WeightL1(_WeightPenalty):
    """Sum of absolute values of the matching parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, WeightL1, get_outputs
    >>> net = DenseLayer(InputLayer((None, 2)), 2, W=-np.ones((2, 2)))
    >>> float(WeightL1("*.W", 1e-4).loss(net, get_outputs(net)).eval())
    4.0
    """

    aliases = ("weight_sparsity",)
    penalty = staticmethod(l1)


class L2SP(_ParamRegularizer):
    """Squared distance of the matching parameters from a starting point:
    ``sum(l2(w - w0))`` (L2-SP, Li, Grandvalet and Davoine, "Explicit
    inductive bias for transfer learning with convolutional networks",
    2018).

    Fine-tuning from pretrained weights ``w0`` with this term instead of
    weight decay keeps the model near what it learned before (the paper's
    ``alpha / 2 * ||w - w0||^2`` is ``weight = alpha / 2`` here: regkit's
    ``l2`` has no half).

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`.
    weight : float
        The coefficient.
    start : dict or None
        Parameter name -> starting value (an array, or nested lists).
        None: the values the matching parameters have the first time the
        regularizer sees the network (call :meth:`capture` right after
        loading the pretrained weights to make that moment explicit).  The
        start is copied, kept with the regularizer, and saved by
        ``serialize`` and pickling.
    tags : dict or None
        Tag filter; default ``{"regularizable": True}``.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[1.0], [2.0]]), name="out")
    >>> sp = regkit.L2SP(weight=0.01).capture(net)  # the pretrained weights
    >>> net.W.set_value(np.array([[1.0], [5.0]]))   # after some training
    >>> float(sp.loss(net, {}).eval())  # (5 - 2) ** 2
    9.0
    """

    def __init__(self, pattern=None, weight=0.0, start=None, tags=None):
        super(L2SP, self).__init__(pattern, weight, tags)
        if start is not None and not isinstance(start, Mapping):
            raise TypeError("L2SP: start must be None or a dict parameter "
                            "name -> starting value, got %s"
                            % _describe(start))
        self.start = None
        if start is not None:
            self.start = {}
            for name, value in start.items():
                if not isinstance(name, str):
                    raise TypeError("L2SP: the keys of start must be "
                                    "parameter names, got %s"
                                    % _describe(name))
                try:
                    array = np.array(value, dtype=float)
                except (TypeError, ValueError) as exc:
                    raise TypeError("L2SP: start[%r] must be an array of "
                                    "numbers (%s)" % (name, exc))
                if not np.isfinite(array).all():
                    raise ValueError("L2SP: start[%r] has NaN or infinite "
                                     "values" % (name,))
                self.start[name] = array

    def get_config(self):
        config = super(L2SP, self).get_config()
        config["start"] = None if self.start is None else {
            name: value.tolist() for name, value in self.start.items()}
        return config

    def capture(self, network):
        """Take the current values of the matching parameters of `network`
        as the start; returns the regularizer."""
        self.start = {name: np.array(param.get_value(), dtype=float)
                      for name, param in self.named_params(network)}
        return self

    def loss(self, layers, outputs):
        named = self.named_params(layers)
        if self.start is None:
            self.capture(layers)
        terms = []
        for name, param in named:
            if name not in self.start:
                raise ValueError("L2SP: no starting value for %r (start "
                                 "has %s)" % (name, sorted(self.start)))
            start = self.start[name]
            shape = tuple(param.get_value(borrow=True).shape)
            if start.shape != shape:
                raise ValueError("L2SP: the start of %r has shape %r, the "
                                 "parameter %r" % (name, start.shape, shape))
            terms.append(l2(param - backend.tensor.constant(
                start.astype(param.dtype))))
        return sum_terms(terms)
