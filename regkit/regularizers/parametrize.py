"""Parametrizations: a weight computed from new free parameters.

A parametrization replaces a weight ``W`` of a network (a shared variable)
with an expression of new shared variables, which are trained instead of
``W``: :class:`WeightNorm` (``W = g * V / ||V||``, Salimans & Kingma 2016)
and :class:`Orthogonal` (``W`` exactly orthogonal at every step,
Lezcano-Casado & Martinez-Rubio 2019; Mhammedi et al. 2017).
:func:`parametrize` applies them to any network regkit takes (regkit or
Lasagne layers, a plain graph, a pytensor-ml model's output) and returns a
:class:`Parametrized`: the free parameters, the replacements, ``apply`` to
rewrite the loss and the inference output, and ``bake`` to write the
reconstructed weights back into the original shared variables.

The free parameters start from the current weights (``right_inverse``),
so the network computes the same function before and after
:func:`parametrize` (Orthogonal: when ``W`` is orthogonal; otherwise it
starts from the nearest matrix that is, and warns).

Examples
--------
>>> import numpy as np
>>> import regkit
>>> l_in = regkit.InputLayer((None, 3), name="in")
>>> l_out = regkit.DenseLayer(l_in, 2, W=np.arange(6.0).reshape(3, 2),
...                           name="out")
>>> p = regkit.parametrize(l_out, [regkit.WeightNorm("out.W", axis=1)])
>>> [v.name for v in p.params]
['out.W.g', 'out.W.v']
>>> y = regkit.get_output(l_out)
>>> x = np.ones((1, 3))
>>> bool(np.allclose(p.apply(y).eval({l_in.input_var: x}),
...                  y.eval({l_in.input_var: x})))
True
"""
from collections import OrderedDict
import warnings

import numpy as np

from .. import backend
from .._checks import check_count, describe, is_int, short_repr
from ..layers.network import as_network
from .base import _ParamRegularizer
from .weight_changes import SpectralNormalization

__all__ = ["WeightNorm", "Orthogonal", "Parametrized", "parametrize",
           "ORTHOGONAL_METHODS", "MAX_ORTHOGONAL_SIZE"]

T = backend.tensor

#: The ways :class:`Orthogonal` maps free parameters to an orthogonal
#: matrix.
ORTHOGONAL_METHODS = ("cayley", "matrix_exp", "householder")

#: The largest side of a weight :class:`Orthogonal` takes: each step costs
#: O(n**3) (a solve or a matrix exponential of an n x n matrix; the
#: product of the reflections: a Gram matrix and a solve), and its base
#: has n * n values.
MAX_ORTHOGONAL_SIZE = 4096


class _Parametrization(_ParamRegularizer):
    """Base of the parametrizations: chooses weights as the weight
    regularizers do (``pattern`` over parameter names, ``tags``).

    A subclass implements ``right_inverse(value, name)``, returning two
    ordered dicts suffix -> numpy array (the free parameters, then the
    state that is never trained), and ``expression(free, state, value)``,
    the weight as a symbolic expression of those shared variables
    (``value`` is the weight's current numpy value, for its shape).
    """

    #: Applied by :func:`parametrize` only: the penalty, graph-change and
    #: update-hook routes refuse it (it would change nothing there).
    _parametrize_only = True

    def __init__(self, pattern=None, tags=None):
        super(_Parametrization, self).__init__(pattern, 0.0, tags)

    def get_config(self):
        config = super(_Parametrization, self).get_config()
        del config["weight"]  # a parametrization has no coefficient
        return config

    def right_inverse(self, value, name):
        raise NotImplementedError

    def expression(self, free, state, value):
        raise NotImplementedError

    def build(self, param, name):
        """(free shared variables, state shared variables, expression) for
        the weight `param` named `name`."""
        value = param.get_value()
        if value.dtype.kind != "f":
            raise TypeError("%s: %r must be a float weight, got dtype %s"
                            % (type(self).__name__, name, value.dtype))
        free, state = self.right_inverse(value, name)
        free_vars = OrderedDict(
            (key, backend.shared(np.asarray(array, dtype=value.dtype),
                                 name="%s.%s" % (name, key)))
            for key, array in free.items())
        state_vars = OrderedDict(
            (key, backend.state_variable(np.asarray(array, dtype=value.dtype),
                                         "%s.%s" % (name, key)))
            for key, array in state.items())
        expr = T.cast(self.expression(free_vars, state_vars, value),
                      value.dtype)
        expr.name = "%s:%s" % (name, type(self).__name__)
        return list(free_vars.values()), list(state_vars.values()), expr


def _check_axis(axis, ndim, caller, name):
    if isinstance(axis, bool) or not is_int(axis):
        raise TypeError("%s: axis must be an int, got %s"
                        % (caller, describe(axis)))
    if not -ndim <= axis < ndim:
        raise ValueError("%s: axis %d is out of range for %r, which has %d "
                         "dimensions" % (caller, axis, name, ndim))
    return int(axis) % ndim


class WeightNorm(_Parametrization):
    """Weight normalization (Salimans & Kingma, "Weight normalization",
    2016): ``W = g * V / ||V||``, the norm taken over every axis but
    `axis`, so that ``g`` (one value per index of `axis`) is each slice's
    length and ``V`` its direction.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`
        (the weights, not the biases, by default).
    axis : int
        The axis that keeps one length per index: 0 for a convolution's
        ``(filters, channels, rows, cols)`` (one length per filter, as
        PyTorch's ``weight_norm``); **1 for a regkit or Lasagne dense
        layer's** ``(inputs, units)`` weight (one length per unit).
    tags : dict or None
        Tag filter; default ``{"regularizable": True}``.

    Notes
    -----
    Free parameters ``<name>.g`` (shape ``(W.shape[axis],)``) and
    ``<name>.v`` (the shape of ``W``), started at ``g = ||W||`` and
    ``V = W``.  A slice of zeros stays zero with finite gradients (the
    norm is floored at the dtype's machine epsilon, 2.2e-16 in float64).  Weights of at
    least 2 dimensions only.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> W = regkit.backend.shared(np.array([[3.0, 0.0], [4.0, 1.0]]),
    ...                           name="W")
    >>> p = regkit.parametrize(W * 1, [regkit.WeightNorm("W", axis=1)])
    >>> p.params[0].get_value().tolist()  # one length per column
    [5.0, 1.0]
    """

    def __init__(self, pattern=None, axis=0, tags=None):
        super(WeightNorm, self).__init__(pattern, tags)
        if isinstance(axis, bool) or not is_int(axis):
            raise TypeError("WeightNorm: axis must be an int, got %s"
                            % describe(axis))
        self.axis = int(axis)

    def get_config(self):
        config = super(WeightNorm, self).get_config()
        config["axis"] = self.axis
        return config

    def _others(self, value, name):
        if value.ndim < 2:
            raise ValueError("WeightNorm: %r has %d dimension(s); weight "
                             "normalization needs at least 2 (leave biases "
                             "out of the pattern)" % (name, value.ndim))
        axis = _check_axis(self.axis, value.ndim, "WeightNorm", name)
        return axis, tuple(a for a in range(value.ndim) if a != axis)

    def right_inverse(self, value, name):
        _, others = self._others(value, name)
        g = np.sqrt((value.astype(np.float64) ** 2).sum(axis=others))
        return OrderedDict(g=g, v=value), OrderedDict()

    def expression(self, free, state, value):
        axis, others = self._others(value, "the weight")
        v = free["v"]
        # V / ||V|| = U / ||U|| for U = V / max|V| (per slice, a constant
        # for the gradient, which is scale-free): ||U|| >= 1, so neither a
        # slice of 1e-10 in float32 is shrunk by the floor nor one of 1e25
        # overflows; a slice of zeros (below the smallest normal number)
        # is divided by 1 and its norm floored at the machine epsilon: 0,
        # with finite gradients (1 / norm ** 3 stays finite)
        dtype = value.dtype
        tiny = np.asarray(np.finfo(dtype).tiny, dtype=dtype)
        one = np.asarray(1, dtype=dtype)
        peak = T.max(abs(v), axis=others, keepdims=True)
        v = v / backend.disconnected_grad(T.switch(T.ge(peak, tiny), peak,
                                                   one))
        floor = np.asarray(np.finfo(dtype).eps ** 2, dtype=dtype)
        norms = T.sqrt(T.maximum(T.sum(T.sqr(v), axis=others,
                                       keepdims=True), floor))
        pattern = ["x"] * value.ndim
        pattern[axis] = 0
        g = free["g"].dimshuffle(pattern)
        return v * (g / norms)


class Orthogonal(_Parametrization):
    """An exactly orthogonal weight: ``W = B @ Q(A)``, with ``B`` a fixed
    orthogonal base (state, the weight at creation) and ``Q`` an
    orthogonal matrix of the free parameter ``A`` (Lezcano-Casado &
    Martinez-Rubio, "Cheap orthogonal constraints in neural networks",
    2019).  After any number of gradient steps on ``A``, ``W`` is
    orthogonal to float rounding; a rectangular ``W`` has orthonormal
    columns (more rows than columns) or rows (more columns).

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`
        (each must be 2-D: a ValueError names one that is not).
    method : {"cayley", "matrix_exp", "householder"}
        ``"cayley"``: ``Q = (I + S)^-1 (I - S)`` with ``S`` the
        skew-symmetric part of ``A`` (one linear solve per step);
        ``"matrix_exp"``: ``Q = expm(S)`` (one matrix exponential;
        PyTensor only: Theano's gradient of ``expm`` is NaN where
        eigenvalues repeat, as at the start);
        ``"householder"``: ``Q`` the product of `reflections` Householder
        reflections ``I - 2 v v^T / v^T v``, one per column of ``A``
        (Mhammedi et al., "Efficient orthogonal parametrisation of
        recurrent neural networks using Householder reflections", 2017).
        Each costs O(n**3) per step for an n x n weight.
    reflections : int or None
        Householder only: how many reflections (1 to n; None: n).  With
        r reflections, ``Q`` differs from the identity on a subspace of at
        most r dimensions, so fewer reflections reach fewer matrices.
    tags : dict or None
        Tag filter; default ``{"regularizable": True}``.

    Notes
    -----
    The free parameter ``<name>.a`` is ``n x n`` (Cayley, matrix
    exponential: zero at creation, so ``Q = I``) or ``n x reflections``
    (Householder: fixed pseudo-random vectors at creation); the base
    ``<name>.base`` is state.  A weight that is not orthogonal at creation
    (``|W^T W - I| > 1e-4`` somewhere) is replaced by its nearest
    orthogonal matrix (the polar factor of its SVD) with a warning: the
    network's function then changes.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> W = regkit.backend.shared(np.eye(3)[::-1].copy(), name="W")
    >>> p = regkit.parametrize(W * 1, [regkit.Orthogonal("W")])
    >>> w = p.replacements[W].eval()
    >>> bool(np.allclose(w.T @ w, np.eye(3)))
    True
    """

    def __init__(self, pattern=None, method="cayley", reflections=None,
                 tags=None):
        super(Orthogonal, self).__init__(pattern, tags)
        self.method = _check_method(method)
        if reflections is not None:
            if method != "householder":
                raise ValueError("Orthogonal: reflections is for "
                                 "method='householder', not %r" % (method,))
            reflections = check_count(reflections, "Orthogonal",
                                      "reflections", 1,
                                      maximum=MAX_ORTHOGONAL_SIZE)
        self.reflections = reflections

    def get_config(self):
        config = super(Orthogonal, self).get_config()
        config.update(method=self.method, reflections=self.reflections)
        return config

    def _sides(self, value, name):
        if value.ndim != 2:
            raise ValueError("Orthogonal: %r has %d dimension(s); an "
                             "orthogonal weight is a matrix" % (name,
                                                                value.ndim))
        n = max(value.shape)
        if n > MAX_ORTHOGONAL_SIZE:
            raise ValueError("Orthogonal: %r is %dx%d; at most %d rows or "
                             "columns (each step costs O(n**3))" % (
                                 name, value.shape[0], value.shape[1],
                                 MAX_ORTHOGONAL_SIZE))
        if self.reflections is not None and self.reflections > n:
            raise ValueError("Orthogonal: %d reflections for the %dx%d %r; "
                             "at most %d" % (self.reflections, value.shape[0],
                                             value.shape[1], name, n))
        return n, value.shape[0] < value.shape[1]

    def right_inverse(self, value, name):
        n, wide = self._sides(value, name)
        tall = (value.T if wide else value).astype(np.float64)
        k = tall.shape[1]
        if not np.isfinite(tall).all():
            raise ValueError("Orthogonal: %r has values that are not finite "
                             "(NaN or inf); it cannot start an orthogonal "
                             "weight" % (name,))
        gram = tall.T @ tall
        error = np.abs(gram - np.eye(k)).max() if k else 0.0
        # always the polar factor (the nearest matrix with orthonormal
        # columns): a weight orthogonal to 1e-8 (a float32 checkpoint in a
        # float64 network) starts orthogonal to float64 rounding, and stays
        # so; it moves the function by no more than that 1e-8
        if k:
            u, _, vt = np.linalg.svd(tall, full_matrices=False)
            tall = u @ vt
        if not error <= 1e-4:
            warnings.warn(
                "Orthogonal: %r is not orthogonal (max |W^T W - I| = %.3g); "
                "it starts from its nearest orthogonal matrix (the polar "
                "factor), so the network's function changes" % (name, error),
                UserWarning, stacklevel=4)
        full, _ = np.linalg.qr(tall, mode="complete")
        full[:, :k] = tall  # the rest: orthonormal, orthogonal to W's span
        if self.method == "householder":
            rng = np.random.default_rng(0)
            a = rng.standard_normal((n, self.reflections or n))
            start = _householder_np(a)
        else:
            a = np.zeros((n, n))
            start = np.eye(n)
        return OrderedDict(a=a), OrderedDict(base=full @ start.T)

    def expression(self, free, state, value):
        n, wide = self._sides(value, "the weight")
        a = free["a"]
        _check_method(self.method)  # it may have been reassigned
        if self.method == "householder":
            q = _householder(a, n, self.reflections or n)
        else:
            # the strictly upper triangle, by a constant mask (the size is
            # known: JAX and MLX need it so)
            upper = a * np.triu(np.ones((n, n), dtype=value.dtype), 1)
            skew = upper - upper.T
            eye = T.eye(n, dtype=a.dtype)
            q = backend.solve(eye + skew, eye - skew) \
                if self.method == "cayley" else backend.expm(skew)
        full = T.dot(state["base"], q)
        k = min(value.shape)
        tall = full[:, :k]
        return tall.T if wide else tall


def _check_method(method):
    """`method`, or a ValueError: not a method, or the matrix exponential
    under Theano."""
    if method not in ORTHOGONAL_METHODS:
        raise ValueError("Orthogonal: method must be one of %s, got %s"
                         % (", ".join(ORTHOGONAL_METHODS),
                            short_repr(method)))
    if method == "matrix_exp" and backend.NAME == "theano":
        raise ValueError(
            "Orthogonal: method='matrix_exp' needs PyTensor: Theano's "
            "gradient of expm is NaN wherever eigenvalues repeat, the "
            "start (a zero generator) included; use method='cayley'")
    return method


def _ut_mask(k, dtype):
    """The constant that turns the Gram matrix ``U^T U`` of k reflection
    vectors into the triangular factor of their product: the strict upper
    triangle kept, the diagonal halved, the lower triangle zeroed."""
    return (np.triu(np.ones((k, k)), 1) + 0.5 * np.eye(k)).astype(dtype)


def _householder_np(a):
    """The product ``H_1 H_2 ... H_k`` of the reflections
    ``H_i = I - 2 v_i v_i^T / v_i^T v_i`` of the columns of `a`, in numpy
    (float64), by the same compact form as :func:`_householder`."""
    a = np.asarray(a, dtype=np.float64)
    factor = (a.T @ a) * _ut_mask(a.shape[1], np.float64)
    return np.eye(a.shape[0]) - a @ np.linalg.solve(factor, a.T)


def _householder(a, n, count):
    """The product ``H_1 ... H_count`` of the reflections of the `count`
    columns of the n-row `a`, as one expression.

    The compact form (the "UT transform": Joffrain, Low, Quintana-Orti, van
    de Geijn and van Zee, "Accumulating Householder transformations,
    revisited", ACM TOMS 2006): ``H_1 ... H_k = I - U F^-1 U^T`` with ``F``
    the upper triangle of ``U^T U`` and its diagonal halved.  One Gram
    matrix and one k x k solve, so the graph has a few nodes whatever k is
    (k rank-one updates in a row made a graph whose compilation grew with
    k: 14 s at k = 32 on the C linker).
    """
    factor = T.dot(a.T, a) * _ut_mask(count, a.dtype)
    return T.eye(n, dtype=a.dtype) - T.dot(a, backend.solve(factor, a.T))


class Parametrized(object):
    """What :func:`parametrize` returns.

    Attributes
    ----------
    params : list of shared variables
        The new free parameters, to train instead of the originals.
    replacements : OrderedDict
        Original shared variable -> the expression that replaces it.
    states : list of shared variables
        State the parametrizations keep (Orthogonal's base, spectral
        normalization's power-iteration vector), never trained: save it
        with ``params`` to restore the function.
    """

    def __init__(self, params, replacements, states):
        self.params = list(params)
        self.replacements = OrderedDict(replacements)
        self.states = list(states)
        self._baker = None

    def apply(self, expr):
        """`expr` (an expression or a list of them: the loss, the
        inference output) with every original weight replaced by its
        expression."""
        if isinstance(expr, (list, tuple)):
            return [self.apply(item) for item in expr]
        if not backend.is_tensor(expr):
            raise TypeError("Parametrized.apply: expr must be a symbolic "
                            "expression or a list of them, got %s"
                            % describe(expr))
        return backend.clone_replace(expr, dict(self.replacements))

    def trainable(self, params):
        """`params` (e.g. ``get_all_params(net, trainable=True)``) with each
        replaced weight left out (unless it stays free, as under spectral
        normalization) and the new free parameters added at the end."""
        free = set(self.params)
        kept = [p for p in params if p not in self.replacements or p in free]
        return kept + [p for p in self.params if p not in kept]

    def bake(self):
        """Write the current reconstructed weights into the original shared
        variables (compiled once, on the first call), so that the network
        without the parametrization computes what the parametrized one
        does, and let :func:`parametrize` take those weights again.

        Under spectral normalization the weight is its own free parameter:
        baking rescales it to ``W / sigma`` (the function stays the same,
        but later SGD steps are then relative to the rescaled weight), so
        bake at the end of training there.  The other parametrizations'
        free parameters are left as they are: training may go on."""
        originals = list(self.replacements)
        if self._baker is None:
            self._baker = backend.function(
                [], list(self.replacements.values()))
        for param, value in zip(originals, self._baker()):
            param.set_value(np.asarray(value, dtype=param.dtype))
            param.tag.regkit_parametrized = None

    def __repr__(self):
        return "<Parametrized: %d weights, %d free parameters>" % (
            len(self.replacements), len(self.params))


def parametrize(network, parametrizations):
    """Replace the weights the `parametrizations` choose with expressions
    of new free parameters.

    Parameters
    ----------
    network : Layer, list of Layer, expression(s) or Network
        Any network form regkit takes.
    parametrizations : list of WeightNorm / Orthogonal / SpectralNormalization
        Each chooses weights by pattern and tags, as the weight
        regularizers do; one weight takes at most one parametrization.
        Under :class:`~regkit.regularizers.SpectralNormalization` the
        weight itself stays the free parameter (it is in ``params``) and
        is replaced by ``W / sigma(W)``; its power-iteration vector is
        state, advanced by ``apply_update_hooks([sn], network, updates)``
        as on the graph-change route.

    Returns
    -------
    Parametrized
        Train ``parametrized.params`` (``parametrized.trainable(params)``
        swaps them in); build the loss and the inference output with
        ``parametrized.apply(expr)``.

    Raises
    ------
    TypeError
        An item that is not a parametrization, a weight that is not a
        float shared variable.
    ValueError
        A weight chosen twice, or one the parametrization cannot take (a
        1-D weight under WeightNorm, a 3-D one under Orthogonal).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> W = regkit.backend.shared(np.eye(2), name="W")
    >>> p = regkit.parametrize(W * 2.0, [regkit.Orthogonal("W")])
    >>> p
    <Parametrized: 1 weights, 1 free parameters>
    """
    caller = "parametrize"
    record = as_network(network, caller, "network")
    if not isinstance(parametrizations, (list, tuple)):
        parametrizations = [parametrizations]
    for index, item in enumerate(parametrizations):
        if not isinstance(item, (_Parametrization, SpectralNormalization)):
            raise TypeError("parametrize: parametrizations[%d] must be a "
                            "WeightNorm, an Orthogonal or a "
                            "SpectralNormalization, got %s"
                            % (index, describe(item)))
    params, replacements, states, owner = [], OrderedDict(), [], {}
    for item in parametrizations:
        for name, param in item.named_params(record):
            if param in owner:
                raise ValueError(
                    "parametrize: %r is chosen by %s and by %s; a weight "
                    "takes one parametrization" % (
                        name, type(owner[param]).__name__,
                        type(item).__name__))
            if not isinstance(param, backend.SharedVariable):
                raise TypeError("parametrize: %r must be a shared variable, "
                                "got %s" % (name, describe(param)))
            owner[param] = item
            earlier = getattr(param.tag, "regkit_parametrized", None)
            if earlier is not None:
                raise ValueError(
                    "parametrize: %r is already parametrized (by %s, in an "
                    "earlier parametrize call); a weight takes one "
                    "parametrization: bake() the earlier one first to "
                    "start again from the weights it gives" % (name, earlier))
            if isinstance(item, SpectralNormalization):
                # W / sigma(W): W itself stays the free parameter, the
                # power-iteration vector is the regularizer's state
                free, expr = [param], item.change(param, name)
                state = [item.power.shared[param]]
            else:
                free, state, expr = item.build(param, name)
            params += free
            states += state
            replacements[param] = expr
    for param, item in owner.items():
        param.tag.regkit_parametrized = type(item).__name__
    return Parametrized(params, replacements, states)
