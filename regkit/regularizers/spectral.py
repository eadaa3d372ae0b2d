"""Terms on the singular values of weight matrices, by power iteration:
the spectral norm penalty (:class:`SpectralNorm`) and the SRIP
orthogonality penalty (:class:`SRIP`).

The power iteration keeps one vector per parameter in a state variable
(never a parameter) that the training function's updates advance; the
vectors are saved with the regularizer (``vectors=``,
``vector_values()``).  :class:`~regkit.regularizers.SpectralNormalization`,
the graph change that divides by the same estimate, is in
:mod:`~regkit.regularizers.weight_changes`.
"""
from collections.abc import Mapping

import numpy as np

from .. import backend
from .._checks import MAX_POWER_ITERATIONS, as_finite_array, check_count, describe
from ..penalties import safe_norm
from ..regularization import sum_terms
from .base import _ParamRegularizer

__all__ = ["SpectralNorm", "SRIP"]

T = backend.tensor


def _normalized(x):
    """`x` / its L2 norm, computed without underflow (``x`` of float32
    values near 1e-25 still gives a unit vector) and 0 where `x` is 0.

    `x` is first divided by its largest magnitude (held constant), so the
    norm of what is left is at least 1 unless it is 0: dividing by
    ``max(norm, 1/2)`` is then exact where `x` is non-zero and has finite
    derivatives everywhere (a backend whose ``disconnected_grad`` passes
    zeros on instead of nothing must not meet ``0 * inf`` here)."""
    T = backend.tensor
    tiny = np.asarray(np.finfo(x.dtype).tiny, dtype=x.dtype)
    scale = backend.disconnected_grad(T.maximum(T.max(abs(x)), tiny))
    scaled = x / scale
    return scaled / T.maximum(safe_norm(scaled, 0),
                              np.asarray(0.5, dtype=x.dtype))


def _is_usable(vector):
    """Symbolic: whether `vector` is non-zero and finite (a sum of squares
    that is NaN compares False)."""
    T = backend.tensor
    return T.gt(T.sum(T.sqr(vector)), np.asarray(0, dtype=vector.dtype))


class _PowerIteration(object):
    """The power iteration of a matrix term, held as its ``power``: one
    vector per parameter, kept in a state variable (never a parameter),
    started from a random unit vector (or a saved one) and advanced by the
    training updates, so each step refines the estimate of the largest
    singular value (one iteration per step is the usual practice, Miyato
    et al. 2018).

    Edges: a zero matrix (a zero weight; ``W^T W - I`` at an orthonormal
    ``W``) gives the estimate 0 with a zero gradient; a step that would
    store a zero or non-finite vector keeps the vector it had, and a stored
    vector that is zero or not finite is replaced in the graph by the
    vector drawn at the start (re-seeded), so the estimate recovers as soon
    as the weight is non-zero again.  The vectors are saved by pickling
    and by the owner's config (:meth:`values`), by parameter name.

    Attributes
    ----------
    n_iter : int
        Steps in each graph (1 to ``MAX_POWER_ITERATIONS``).
    shared : dict
        Parameter -> its shared vector, in this process.
    """

    def __init__(self, n_iter, vectors, seeds, caller):
        self.n_iter = check_count(n_iter, caller, "n_iter", 1,
                                  maximum=MAX_POWER_ITERATIONS)
        self.saved = _check_vectors(vectors, caller)
        self.seeds, self.caller = seeds, caller
        self.shared = {}  # parameter -> shared vector (state)
        self._starts = {}  # parameter -> (its name, the first draw)

    def values(self):
        """Parameter name -> the current vector (a numpy array): the saved
        vectors given, updated by those made since."""
        values = dict(self.saved or {})
        for param, vector in self.shared.items():
            values[self._starts[param][0]] = np.array(vector.get_value())
        return values

    def __getstate__(self):
        state = dict(self.__dict__)
        state["saved"] = self.values() or None
        state["shared"], state["_starts"] = {}, {}  # of this process
        return state

    def vector(self, param, name, columns):
        """(the shared vector of `param`, a vector of `columns` entries,
        the vector the iteration starts from: the stored one, or the
        first draw where the stored one is zero or not finite)."""
        vector = self.shared.get(param)
        if vector is None:
            rng = np.random.default_rng(self.seeds.spawn())
            start = rng.standard_normal(columns)
            start = (start / np.linalg.norm(start)).astype(param.dtype)
            saved = (self.saved or {}).get(name)
            if saved is not None and saved.shape != (columns,):
                raise ValueError(
                    "%s: the saved vector of %r has shape %r; the parameter "
                    "needs (%d,)" % (self.caller, name, saved.shape,
                                     columns))
            value = start if saved is None else saved.astype(param.dtype)
            vector = self.shared[param] = backend.state_variable(
                value, name="%s.power_vector" % (name,))
            self._starts[param] = (name, start)
        start = self._starts[param][1]
        return vector, T.switch(_is_usable(vector), vector, T.constant(start))

    def iterate(self, matrix, u):
        """(right, left) singular vector estimates after `n_iter` steps
        from `u`, as constants for the gradient."""
        for _ in range(self.n_iter):
            u = _normalized(T.dot(matrix.T, _normalized(T.dot(matrix, u))))
        v = _normalized(T.dot(matrix, u))
        return backend.disconnected_grad(u), backend.disconnected_grad(v)

    def sigma_of(self, matrix, vector):
        """The estimate ``v^T M u`` after `n_iter` steps from `vector`."""
        u, v = self.iterate(matrix, vector)
        return T.dot(v, T.dot(matrix, u))

    def advance(self, updates, param, name, matrix, columns):
        """Add to `updates` the step of the vector of `param` (unless it is
        there): a zero or non-finite result keeps the vector it had."""
        vector, start = self.vector(param, name, columns)
        if vector not in updates:
            advanced = T.cast(self.iterate(matrix, start)[0], vector.dtype)
            updates[vector] = T.switch(_is_usable(advanced), advanced, start)


class _MatrixTerm(_ParamRegularizer):
    """A regularizer on the largest singular value of a matrix built from
    each matching weight (:meth:`matrix`; by default the weight itself,
    filters first), estimated by its :class:`_PowerIteration` (``power``);
    :meth:`modify_updates` stores the advanced vectors."""

    draws_random = True  # the starting vectors: seeded by from_kwargs too

    def __init__(self, pattern=None, weight=0.0, n_iter=1, tags=None,
                 rng=None, vectors=None):
        super(_MatrixTerm, self).__init__(pattern, weight, tags)
        self._hold_seeds(rng)
        self.power = _PowerIteration(n_iter, vectors, self.seeds,
                                     type(self).__name__)

    @property
    def n_iter(self):
        """Power-iteration steps in each graph."""
        return self.power.n_iter

    def get_config(self):
        config = super(_MatrixTerm, self).get_config()
        config["n_iter"] = self.power.n_iter
        vectors = self.power.values()
        config["vectors"] = {name: value.tolist()
                             for name, value in vectors.items()} \
            if vectors else None
        return config

    def vector_values(self):
        """Parameter name -> the current power-iteration vector (a numpy
        array): the vectors given as ``vectors``, updated by those this
        regularizer has made since (what ``serialize`` and pickling keep).
        A regularizer used on two networks whose parameters share a name
        keeps the vector of the one it met last under that name: give
        each network its own regularizer if both must be saved."""
        return self.power.values()

    def columns(self, param):
        """The length of the power-iteration vector of `param`: the
        columns of :meth:`matrix`."""
        shape = param.get_value(borrow=True).shape
        return int(np.prod(shape[1:]))

    def matrix(self, param, name):
        """The matrix whose largest singular value is estimated: the
        weight, filters first."""
        return self._matrix_of(param, name)

    def named_params(self, layers):
        """(name, parameter) pairs this regularizer applies to: with the
        default pattern, the parameters with the `tags` that have 2 or more
        dimensions (weight matrices and filters, not the 1-D scales and
        peepholes of batch normalization or an LSTM); a pattern of your own
        that names a 1-D parameter is an error when the term is built."""
        named = super(_MatrixTerm, self).named_params(layers)
        if self.pattern is None:
            named = [(name, param) for name, param in named
                     if param.ndim >= 2]
        return named

    def accepts(self, param):
        """Whether a graph change takes `param`: the default pattern
        leaves out parameters of fewer than 2 dimensions."""
        return self.pattern is not None or param.ndim >= 2

    def _matrix_of(self, param, name):
        if param.ndim < 2:
            raise ValueError("%s: parameter %r has %d dimension(s); it needs "
                             "2 or more (give a pattern that leaves it out)"
                             % (type(self).__name__, name, param.ndim))
        if param.ndim == 2:
            return param
        # filters first: one row per filter (Lasagne's layout)
        return param.reshape((param.shape[0], -1))

    def _sigma(self, param, name, value=None):
        """The estimate ``v^T M u`` after `n_iter` steps (0 for M = 0), of
        the matrix of `param` or, if given, of `value` (the same weight
        rescaled) with the vector of `param`."""
        vector = self.power.vector(param, name, self.columns(param))[1]
        return self.power.sigma_of(
            self.matrix(param if value is None else value, name), vector)

    def modify_updates(self, updates):
        for name, param in self._chosen(updates):
            if param.ndim < 2 and self.pattern is None:
                continue  # biases met in a plain dict of updates
            self.power.advance(updates, param, name,
                               self.matrix(param, name), self.columns(param))


def _check_vectors(vectors, caller):
    """None, or parameter name -> a finite 1-d float array."""
    if vectors is None:
        return None
    if not isinstance(vectors, Mapping):
        raise TypeError("%s: vectors must be None or a dict parameter name "
                        "-> vector, got %s" % (caller, describe(vectors)))
    return {name: as_finite_array(value, caller, "vectors", name, ndim=1)
            for name, value in vectors.items()}


class SpectralNorm(_MatrixTerm):
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
    pattern, weight, tags
        As for :class:`~regkit.regularizers.WeightL2`.
    n_iter : int
        Power-iteration steps in each graph (1 is usual; at most 100).
    rng : int or None
        Seed of the starting vectors.
    vectors : dict or None
        Parameter name -> power-iteration vector to start from (what
        ``serialize`` and pickling save, see :meth:`vector_values`); None:
        a random unit vector per weight.

    Notes
    -----
    The vectors are saved with the regularizer (``serialize`` and
    pickling), by parameter name, so a reloaded model with the same
    parameter values computes the same estimate.  At a zero weight the
    estimate is 0, with a zero gradient; a vector that became zero or
    not finite is re-seeded (see the class notes of the power iteration
    on the Regularizers page).

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

    def loss(self, layers, outputs):
        return sum_terms(backend.tensor.sqr(self._sigma(param, name))
                         for name, param in self.named_params(layers))


class SRIP(_MatrixTerm):
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

    def columns(self, param):
        shape = param.get_value(borrow=True).shape
        return int(shape[1]) if len(shape) == 2 else int(shape[0])

    def matrix(self, param, name):
        W = self._matrix_of(param, name)
        return self._gram(W.T if param.ndim > 2 else W)  # filters as columns

    @staticmethod
    def _gram(W):
        """``W^T W - I``, in float64 for float32 weights: ``W^T W`` of
        float32 weights beyond about 1e19 overflows, and ``inf - inf``
        would make the estimate and its gradient NaN."""
        T = backend.tensor
        if W.dtype == "float32":
            W = T.cast(W, "float64")
        gram = T.dot(W.T, W)
        return gram - T.eye(gram.shape[0], dtype=gram.dtype)

    def loss(self, layers, outputs):
        return sum_terms(backend.tensor.cast(abs(self._sigma(param, name)),
                                             param.dtype)
                         for name, param in self.named_params(layers))
