"""Penalties on parameters, chosen by tag and by name pattern."""
from collections.abc import Mapping

import numpy as np

from .. import backend
from .._checks import _check_count, _describe
from ..penalties import _safe_norm
from ..penalties import l1, l2
from ..regularization import apply_penalty, sum_terms
from .base import _MatchCounter, _ParamRegularizer, _Seeded, _WeightChange

__all__ = ["WeightL2", "WeightL1", "L2SP", "SpectralNorm", "SRIP",
           "SpectralNormalization"]


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
        return self._capture(self.named_params(network))

    def _capture(self, named):
        self.start = {name: np.array(param.get_value(), dtype=float)
                      for name, param in named}
        return self

    def loss(self, layers, outputs):
        named = self.named_params(layers)
        if self.start is None:
            self._capture(named)
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


class _PowerIteration(_Seeded, _ParamRegularizer):
    """A penalty on the largest singular value of a matrix built from each
    matching weight, estimated by power iteration from a vector kept in a
    shared variable per weight; :meth:`modify_updates` stores the advanced
    vector, so each training step refines the estimate (one iteration per
    step is the usual practice, Miyato et al. 2018)."""

    def __init__(self, pattern=None, weight=0.0, n_iter=1, tags=None,
                 rng=None):
        super(_PowerIteration, self).__init__(pattern, weight, tags)
        self.n_iter = _check_count(n_iter, type(self).__name__, "n_iter", 1)
        self._init_seeds(rng)
        self._vectors = {}  # parameter -> shared vector (state, not config)

    def get_config(self):
        config = super(_PowerIteration, self).get_config()
        config["n_iter"] = self.n_iter
        return config

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_vectors"] = {}  # tied to this process's parameters
        return state

    def matrix(self, param, name):
        """The matrix whose largest singular value is penalized."""
        raise NotImplementedError

    def _matrix_of(self, param, name):
        if param.ndim < 2:
            raise ValueError("%s: parameter %r has %d dimension(s); it needs "
                             "2 or more (give a pattern that leaves it out)"
                             % (type(self).__name__, name, param.ndim))
        if param.ndim == 2:
            return param
        # filters first: one row per filter (Lasagne's layout)
        return param.reshape((param.shape[0], -1))

    def _vector(self, param):
        vector = self._vectors.get(param)
        if vector is None:
            columns = self._columns(param)
            rng = np.random.default_rng(self._seed())
            start = rng.standard_normal(columns)
            vector = backend.shared((start / np.linalg.norm(start)).astype(
                param.dtype), name="%s.power_vector" % (param.name,))
            self._vectors[param] = vector
        return vector

    def _iterate(self, matrix, vector):
        """(right, left) singular vector estimates after `n_iter` steps,
        as constants for the gradient."""
        T = backend.tensor
        u = vector
        for _ in range(self.n_iter):
            v = T.dot(matrix, u)
            v = v / _safe_norm(v, 0)
            u = T.dot(matrix.T, v)
            u = u / _safe_norm(u, 0)
        v = T.dot(matrix, u)
        v = v / _safe_norm(v, 0)
        return backend.disconnected_grad(u), backend.disconnected_grad(v)

    def _sigma(self, param, name):
        return self._sigma_of(self.matrix(param, name), self._vector(param))

    def _sigma_of(self, matrix, vector):
        """The estimate ``v^T M u`` after `n_iter` steps from `vector`."""
        u, v = self._iterate(matrix, vector)
        return backend.tensor.dot(v, backend.tensor.dot(matrix, u))

    def modify_updates(self, updates):
        for name, param in self._chosen(updates):
            if param.ndim < 2 and self.pattern is None:
                continue  # biases met in a plain dict of updates
            vector = self._vector(param)
            if vector not in updates:
                updates[vector] = self._iterate(self.matrix(param, name),
                                                vector)[0]


class SpectralNorm(_PowerIteration):
    """Sum over the matching weights of their squared largest singular
    value, ``sum sigma_max(W) ** 2`` (spectral norm regularization,
    Yoshida and Miyato, "Spectral norm regularization for improving the
    generalizability of deep learning", 2017).

    ``sigma_max`` is estimated by power iteration (`n_iter` steps per
    graph) from a vector per weight kept in a shared variable; apply the
    regularizer with :func:`regkit.apply_update_hooks` so that each step
    stores the advanced vector and the estimate converges as training
    goes.  A weight of 3 or more dimensions is read filters first, as a
    ``(filters, inputs)`` matrix.  The gradient is that of the estimate
    with the singular vectors held fixed: ``2 sigma v u^T``.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`.
    weight : float
        The coefficient.
    n_iter : int
        Power-iteration steps in each graph (1 is usual).
    tags : dict or None
        Tag filter; default ``{"regularizable": True}``.
    rng : int or None
        Seed of the starting vectors.

    Notes
    -----
    The vectors are state, not configuration: ``serialize`` and pickling
    keep the settings, and a copy starts its vectors afresh.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 2,
    ...                         W=np.array([[3.0, 0.0], [0.0, 1.0]]))
    >>> sn = regkit.SpectralNorm(weight=1e-3, rng=0)
    >>> step = backend.function([], sn.loss(net, {}), updates=list(
    ...     regkit.apply_update_hooks([sn], net, {}).items()))
    >>> values = [float(step()) for _ in range(20)]
    >>> round(values[-1], 6)  # sigma_max = 3
    9.0
    """

    def _columns(self, param):
        shape = param.get_value(borrow=True).shape
        return int(np.prod(shape[1:]))

    def matrix(self, param, name):
        return self._matrix_of(param, name)

    def loss(self, layers, outputs):
        return sum_terms(backend.tensor.sqr(self._sigma(param, name))
                         for name, param in self.named_params(layers))


class SRIP(_PowerIteration):
    """Spectral restricted isometry penalty: the sum over the matching
    weights of ``sigma_max(W^T W - I)`` (Bansal, Chen and Wang, "Can we
    gain more from orthogonality regularizations in training deep
    networks?", 2018), a soft orthogonality term that penalizes only the
    worst direction, where :func:`~regkit.penalties.orthogonality`
    penalizes every entry of ``W^T W - I``.

    ``W`` is read as ``(inputs, units)`` for a dense weight (its columns
    should be orthonormal) and filters first for 3 or more dimensions
    (``(filters, inputs)``, transposed so that filters are the columns).
    ``sigma_max`` is estimated by power iteration as in
    :class:`SpectralNorm` (apply it with :func:`regkit.apply_update_hooks`
    so that the estimate converges), with the same parameters.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 2,
    ...                         W=np.array([[2.0, 0.0], [0.0, 1.0]]))
    >>> srip = regkit.SRIP(weight=0.1, rng=0)
    >>> step = backend.function([], srip.loss(net, {}), updates=list(
    ...     regkit.apply_update_hooks([srip], net, {}).items()))
    >>> values = [float(step()) for _ in range(20)]
    >>> round(values[-1], 6)  # W^T W - I = diag(3, 0)
    3.0
    """

    def _columns(self, param):
        shape = param.get_value(borrow=True).shape
        return int(shape[1]) if len(shape) == 2 else int(shape[0])

    def matrix(self, param, name):
        W = self._matrix_of(param, name)
        return self._gram(W.T if param.ndim > 2 else W)  # filters as columns

    @staticmethod
    def _gram(W):
        """``W^T W - I``."""
        gram = backend.tensor.dot(W.T, W)
        return gram - backend.tensor.eye(gram.shape[0], dtype=gram.dtype)

    def loss(self, layers, outputs):
        return sum_terms(abs(self._sigma(param, name))
                         for name, param in self.named_params(layers))


class SpectralNormalization(_MatchCounter, _PowerIteration):
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

    Parameters
    ----------
    pattern, n_iter, tags, rng : see :class:`SpectralNorm`

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
    _columns = SpectralNorm._columns
    matrix = SpectralNorm.matrix
    modify_graph = _WeightChange.modify_graph

    def change(self, param, name):
        return param / backend.tensor.cast(self._sigma(param, name),
                                           param.dtype)
