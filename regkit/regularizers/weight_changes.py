"""Graph changes on weights: each matching parameter of a layer is
replaced, in that layer's outputs, by a changed copy.

:class:`DropConnect` drops weights at random (Wan et al. 2013);
:class:`SpectralNormalization` divides a weight by its largest singular
value, estimated by the power iteration of
:mod:`~regkit.regularizers.spectral` (Miyato et al. 2018).
"""
import numpy as np

from .. import backend
from .base import _ParamRegularizer, _check_drop_probability, change_weights
from .spectral import _MatrixTerm
from .stochastic import inverted_dropout

__all__ = ["DropConnect", "SpectralNormalization"]

T = backend.tensor


class DropConnect(_ParamRegularizer):
    """Inverted DropConnect: each matching weight is zeroed with
    probability ``weight`` in the layer that uses it, the kept ones scaled
    by ``1 / (1 - p)`` (Wan et al., "Regularization of neural networks
    using DropConnect", 2013).

    Where dropout drops a unit's output, DropConnect drops single
    connections.  One mask is drawn per weight tensor and call (the paper
    draws one per example, at a batch's cost in memory); the inference
    graph (``deterministic=True``) uses the weights as they are, the
    paper's mean-field approximation.  Pass ``random_updates`` of the
    outputs to the training function, as for dropout.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names (``"hid.W"``); None: every parameter
        with the `tags`.
    weight : float
        Drop probability, ``0 <= p < 1``.
    rng : int or None
        Seed (see :class:`BernoulliDropout`).
    tags : dict or None
        Tag filter; default ``{"regularizable": True}`` (biases are kept).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> l_in = regkit.InputLayer((None, 200), name="in")
    >>> out = regkit.DenseLayer(l_in, 1, W=np.ones((200, 1)),
    ...                         nonlinearity=None, name="out")
    >>> drop = regkit.DropConnect("out.W", 0.5, rng=0)
    >>> train = regkit.get_output(out, regularizers=[drop])
    >>> fn = regkit.backend.function([l_in.input_var], train,
    ...                              updates=regkit.random_updates(train))
    >>> value = float(fn(np.ones((1, 200)))[0, 0])  # 2 * (kept weights)
    >>> value % 2 == 0 and 100 < value < 300
    True
    """

    training_only = True
    draws_random = True
    _matched = "parameter"

    def __init__(self, pattern=None, weight=0.0, rng=None, tags=None):
        super(DropConnect, self).__init__(pattern, weight, tags)
        self._hold_seeds(rng)

    def _check_weight(self, weight):
        return _check_drop_probability(
            super(DropConnect, self)._check_weight(weight), "DropConnect")

    def modify_graph(self, outputs):
        return change_weights(self, outputs)

    def change(self, param, name):
        keep = 1.0 - self.weight
        mask = backend.bernoulli(param.shape, keep, param.dtype,
                                 self.seeds.spawn())
        return inverted_dropout(mask, keep, param)


class SpectralNormalization(_MatrixTerm):
    """Spectral normalization: each matching weight is used as
    ``W / sigma_max(W)`` in the layer that uses it, in training and in
    inference (Miyato et al., "Spectral normalization for generative
    adversarial networks", 2018).

    ``sigma_max`` is estimated as in :class:`SpectralNorm` (a vector per
    weight in a shared variable, `n_iter` power-iteration steps in the
    graph); the training updates from :func:`regkit.apply_update_hooks`
    advance the vector, and the inference graph reads it without advancing
    it.  The gradient flows through ``W`` and through the estimate with
    the singular vectors held, as in the paper.  ``weight`` is not used.
    The estimate is exact down to the smallest normal number of the
    weight's dtype (float32 weights of 1e-25 are normalized too); below
    it (a zero weight) the weight is divided by 1, so a zero weight stays
    zero, not 0 / 0, with a finite gradient.
    The inference graph (``deterministic=True``, and
    ``apply_regularizers(...).inference``) divides by the same estimate
    without advancing the vector.

    Parameters
    ----------
    pattern, n_iter, tags, rng, vectors : see :class:`SpectralNorm`

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> l_in = regkit.InputLayer((None, 2), name="in")
    >>> out = regkit.DenseLayer(l_in, 2, W=np.array([[4.0, 0.0], [0.0, 1.0]]),
    ...                         nonlinearity=None, name="out")
    >>> sn = regkit.SpectralNormalization("out.W", n_iter=5, rng=0)
    >>> y = regkit.get_output(out, regularizers=[sn])
    >>> backend.function([l_in.input_var], y)(np.ones((1, 2))).round(4)
    array([[1.  , 0.25]])
    """

    _matched = "parameter"

    def modify_graph(self, outputs):
        return change_weights(self, outputs)

    def change(self, param, name):
        T = backend.tensor
        tiny = np.asarray(np.finfo(param.dtype).tiny, dtype=param.dtype)
        one = np.asarray(1, dtype=param.dtype)
        # W / sigma(W) = V / sigma(V) for V = W / max|W|: V's estimate and
        # the gradient's 1 / sigma**2 neither underflow nor overflow where
        # W's would (float32 weights of 1e-25); a zero weight (below the
        # smallest normal number) is divided by 1: it stays zero, with a
        # finite gradient
        peak = T.max(abs(param))
        scaled = param / backend.disconnected_grad(
            T.switch(T.ge(peak, tiny), peak, one))
        sigma = T.cast(self._sigma(param, name, scaled), param.dtype)
        return scaled / T.switch(T.ge(sigma, tiny), sigma, one)
