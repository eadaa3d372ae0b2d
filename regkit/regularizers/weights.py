"""Penalties on parameters, chosen by tag and by name pattern."""
from ..penalties import l1, l2
from ..regularization import apply_penalty
from .base import _ParamRegularizer

__all__ = ["WeightL2", "WeightL1"]


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
