"""Penalties on parameters, chosen by tag and by name pattern."""
from collections.abc import Mapping
import warnings

import numpy as np

from .. import backend
from .._checks import MAX_POWER_ITERATIONS, check_count, describe
from ..penalties import safe_norm
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
        Parameter name -> starting value (an array, or nested lists, of
        real finite numbers: strings, complex values, NaN, infinity and
        numbers beyond the float range are refused).  None: the values the
        matching parameters have the first time the regularizer sees the
        network (call :meth:`capture` right after loading the pretrained
        weights to make that moment explicit).  The start is copied, kept
        with the regularizer, and saved by ``serialize`` and pickling; in
        the graph it is a shared variable per parameter, so a later
        :meth:`capture` reaches functions already compiled.  Each
        parameter keeps the start it was first given, whatever network
        argument a later call passes.  A value the parameter's dtype
        cannot hold is refused; a start given here with a name the
        pattern matches no parameter of warns (a misspelt name).
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
                            % describe(start))
        self.start = None if start is None else {
            name: _as_finite_array(value, "L2SP", "start", name)
            for name, value in start.items()}
        self._starts = {}  # parameter -> shared start (state, not config)
        self._given = start is not None  # not captured: check its names

    def get_config(self):
        config = super(L2SP, self).get_config()
        config["start"] = None if self.start is None else {
            name: value.tolist() for name, value in self.start.items()}
        return config

    def __getstate__(self):
        state = super(L2SP, self).__getstate__()
        state["_starts"] = {}  # shared variables of this process
        return state

    def capture(self, network):
        """Take the current values of the matching parameters of `network`
        as the start; returns the regularizer.

        The start lives in a shared variable per parameter, so functions
        compiled before the capture use the new start too."""
        return self._capture(self.named_params(network))

    def _capture(self, named):
        self.start = {name: np.array(param.get_value(), dtype=float)
                      for name, param in named}
        for name, param in named:  # compiled functions see the new start
            self._start_of(param, name, refresh=True)
        return self

    def _start_of(self, param, name, refresh=False):
        """The shared variable holding the start of `param`: made from
        ``self.start[name]`` the first time `param` is met (and on a
        capture), then kept for that parameter whatever name a later walk
        gives it."""
        shared = self._starts.get(param)
        if shared is not None and not refresh:
            return shared
        if name not in self.start:
            raise ValueError("L2SP: no starting value for %r (start has %s)"
                             % (name, sorted(self.start)))
        start = self.start[name]
        shape = tuple(param.get_value(borrow=True).shape)
        if start.shape != shape:
            raise ValueError("L2SP: the start of %r has shape %r, the "
                             "parameter %r" % (name, start.shape, shape))
        if np.issubdtype(param.dtype, np.floating) and start.size and \
                np.abs(start).max() > np.finfo(param.dtype).max:
            raise ValueError("L2SP: the start of %r holds values beyond the "
                             "range of the parameter's dtype %s"
                             % (name, param.dtype))
        value = start.astype(param.dtype)
        if shared is None:
            shared = self._starts[param] = backend.state_variable(
                value, name="%s.start" % (name,))
        else:
            shared.set_value(value)
        return shared

    def loss(self, layers, outputs):
        named = self.named_params(layers)
        if self.start is None:
            self._capture(named)
        terms = [l2(param - self._start_of(param, name))
                 for name, param in named]
        unused = sorted(set(self.start) - set(name for name, _ in named))
        if unused and named and self.__dict__.get("_given"):
            warnings.warn("L2SP: start has values for %s, which pattern %r "
                          "matches no parameter of; they are not used"
                          % (", ".join(map(repr, unused)), self.pattern),
                          UserWarning, stacklevel=2)
        return sum_terms(terms)


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


class _PowerIteration(_Seeded, _ParamRegularizer):
    """A penalty on the largest singular value of a matrix built from each
    matching weight, estimated by power iteration from a vector kept in a
    shared variable per weight; :meth:`modify_updates` stores the advanced
    vector, so each training step refines the estimate (one iteration per
    step is the usual practice, Miyato et al. 2018).

    Edges: a zero matrix (a zero weight; ``W^T W - I`` at an orthonormal
    ``W``) gives the estimate 0 with a zero gradient; a step that would
    store a zero or non-finite vector keeps the vector it had, and a stored
    vector that is zero or not finite is replaced in the graph by the
    vector drawn at the start (re-seeded), so the estimate recovers as soon
    as the weight is non-zero again.  The vectors are saved by
    ``serialize`` and pickling (``vectors``), by parameter name."""

    def __init__(self, pattern=None, weight=0.0, n_iter=1, tags=None,
                 rng=None, vectors=None):
        super(_PowerIteration, self).__init__(pattern, weight, tags)
        self.n_iter = check_count(n_iter, type(self).__name__, "n_iter", 1,
                                   maximum=MAX_POWER_ITERATIONS)
        self._init_seeds(rng)
        self.vectors = _check_vectors(vectors, type(self).__name__)
        self._vectors = {}  # parameter -> shared vector (state)
        self._starts = {}  # parameter -> (its name, the first draw)

    def get_config(self):
        config = super(_PowerIteration, self).get_config()
        config["n_iter"] = self.n_iter
        vectors = self.vector_values()
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
        values = dict(self.vectors or {})
        for param, vector in self._vectors.items():
            values[self._starts[param][0]] = np.array(vector.get_value())
        return values

    def __getstate__(self):
        state = super(_PowerIteration, self).__getstate__()
        state["vectors"] = self.vector_values() or None
        state["_vectors"], state["_starts"] = {}, {}  # of this process
        return state

    def matrix(self, param, name):
        """The matrix whose largest singular value is penalized."""
        raise NotImplementedError

    def named_params(self, layers):
        """(name, parameter) pairs this regularizer applies to: with the
        default pattern, the parameters with the `tags` that have 2 or more
        dimensions (weight matrices and filters, not the 1-D scales and
        peepholes of batch normalization or an LSTM); a pattern of your own
        that names a 1-D parameter is an error when the term is built."""
        named = super(_PowerIteration, self).named_params(layers)
        if self.pattern is None:
            named = [(name, param) for name, param in named
                     if param.ndim >= 2]
        return named

    def accepts(self, param):
        """Whether the graph change takes `param` (see ``_WeightChange``):
        the default pattern leaves out parameters of fewer than 2
        dimensions."""
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

    def _vector(self, param, name):
        """(the shared vector of `param`, the vector the iteration starts
        from: the stored one, or the first draw where the stored one is
        zero or not finite)."""
        vector = self._vectors.get(param)
        if vector is None:
            columns = self._columns(param)
            rng = np.random.default_rng(self._seed())
            start = rng.standard_normal(columns)
            start = (start / np.linalg.norm(start)).astype(param.dtype)
            saved = (self.vectors or {}).get(name)
            if saved is not None and saved.shape != (columns,):
                raise ValueError(
                    "%s: the saved vector of %r has shape %r; the parameter "
                    "needs (%d,)" % (type(self).__name__, name, saved.shape,
                                     columns))
            value = start if saved is None else saved.astype(param.dtype)
            vector = self._vectors[param] = backend.state_variable(
                value, name="%s.power_vector" % (name,))
            self._starts[param] = (name, start)
        start = self._starts[param][1]
        T = backend.tensor
        return vector, T.switch(_is_usable(vector), vector,
                                T.constant(start))

    def _iterate(self, matrix, u):
        """(right, left) singular vector estimates after `n_iter` steps
        from `u`, as constants for the gradient."""
        T = backend.tensor
        for _ in range(self.n_iter):
            u = _normalized(T.dot(matrix.T, _normalized(T.dot(matrix, u))))
        v = _normalized(T.dot(matrix, u))
        return backend.disconnected_grad(u), backend.disconnected_grad(v)

    def _sigma(self, param, name, value=None):
        """The estimate ``v^T M u`` after `n_iter` steps (0 for M = 0), of
        the matrix of `param` or, if given, of `value` (the same weight
        rescaled) with the vector of `param`."""
        return self._sigma_of(self.matrix(param if value is None else value,
                                          name), self._vector(param, name)[1])

    def _sigma_of(self, matrix, vector):
        """The estimate ``v^T M u`` after `n_iter` steps from `vector`."""
        u, v = self._iterate(matrix, vector)
        return backend.tensor.dot(v, backend.tensor.dot(matrix, u))

    def modify_updates(self, updates):
        for name, param in self._chosen(updates):
            if param.ndim < 2 and self.pattern is None:
                continue  # biases met in a plain dict of updates
            vector, start = self._vector(param, name)
            if vector not in updates:
                advanced = backend.tensor.cast(self._iterate(
                    self.matrix(param, name), start)[0], vector.dtype)
                # a zero or non-finite result keeps the vector it had
                updates[vector] = backend.tensor.switch(
                    _is_usable(advanced), advanced, start)


def _check_vectors(vectors, caller):
    """None, or parameter name -> a finite 1-d float array."""
    if vectors is None:
        return None
    if not isinstance(vectors, Mapping):
        raise TypeError("%s: vectors must be None or a dict parameter name "
                        "-> vector, got %s" % (caller, describe(vectors)))
    return {name: _as_finite_array(value, caller, "vectors", name, ndim=1)
            for name, value in vectors.items()}


def _as_finite_array(value, caller, argname, name, ndim=None):
    """`value` as a float64 array of real, finite numbers, or a
    TypeError / ValueError naming ``argname[name]``."""
    where = "%s[%r]" % (argname, name)
    if not isinstance(name, str):
        raise TypeError("%s: the keys of %s must be parameter names, got %s"
                        % (caller, argname, describe(name)))
    if value is None or isinstance(value, (str, bytes, np.ma.MaskedArray)):
        raise TypeError("%s: %s must be an array of numbers (not a masked "
                        "array), got %s" % (caller, where, describe(value)))
    try:
        with warnings.catch_warnings():
            # numpy < 1.24 only warns on ragged lists: refuse them too
            warnings.simplefilter("error")
            array = np.asarray(value)
    except (TypeError, ValueError, Warning) as exc:
        raise TypeError("%s: %s must be an array of numbers (%s)"
                        % (caller, where, exc)) from None
    if array.dtype.kind == "O":  # nested lists holding big ints, or junk
        try:
            array = np.array(value, dtype=float)
        except OverflowError:
            raise ValueError("%s: %s holds a number beyond the float range"
                             % (caller, where)) from None
        except (TypeError, ValueError) as exc:
            raise TypeError("%s: %s must be an array of numbers (%s)"
                            % (caller, where, exc)) from None
    if array.dtype.kind not in "iuf":
        raise TypeError("%s: %s must be an array of real numbers, got dtype "
                        "%s" % (caller, where, array.dtype))
    array = array.astype(float)
    if not np.isfinite(array).all():
        raise ValueError("%s: %s has NaN or infinite values"
                         % (caller, where))
    if ndim is not None and array.ndim != ndim:
        raise ValueError("%s: %s must be %d-d, got shape %r"
                         % (caller, where, ndim, array.shape))
    return array


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
        Power-iteration steps in each graph (1 is usual; at most 100).
    tags : dict or None
        Tag filter; default ``{"regularizable": True}``.
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
    _columns = SpectralNorm._columns
    matrix = SpectralNorm.matrix
    modify_graph = _WeightChange.modify_graph

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
