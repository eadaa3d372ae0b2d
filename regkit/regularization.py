"""Apply a penalty to tensors, to the parameters of layers, or to a network.

These mirror Lasagne's ``lasagne.regularization`` helpers, with two
deliberate differences:

* an exception raised inside the penalty propagates to the caller (Lasagne
  catches it and retries the penalty on the whole list, which hides the
  original error);
* a parameter shared by several layers passed to
  :func:`regularize_layer_params` is penalized once (Lasagne counts it once
  per layer).

Sums over many terms are built as a shallow tree of small reductions (see
:func:`sum_terms`), so a network with thousands of parameter tensors
compiles without hitting Python's recursion limit.

This module was ``regkit.apply`` (which still imports); its name is now
Lasagne's, ``regularization``.
"""
from collections import namedtuple
from collections.abc import Mapping
import difflib
import inspect
import numbers

import numpy as np

from . import backend
from .layers.base import Layer, _unique
from .layers.network import as_network
from .layers.tags import check_tag_names, tags_in_use
from .layers.walk import as_layer_list, is_layer
from .layers.outputs import _build_outputs
from ._checks import (_check_positive, _check_tag_values, _describe,
                      _is_collection, is_tensor_like)

__all__ = ["apply_penalty", "regularize_layer_params",
           "regularize_layer_params_weighted", "regularize_network_params",
           "sum_terms", "apply_regularizers", "RegularizedGraph"]

DEFAULT_TAGS = {"regularizable": True}


def sum_terms(terms):
    """The sum of scalar terms, built to compile fast at any count.

    ``sum(terms)`` builds a chain of additions as deep as the list is long,
    which overflows the recursion limit of the graph compiler at about a
    thousand terms; a tree of additions does not help on Theano, whose
    optimizer flattens nested additions into one very wide addition that
    compiles slowly.  Here the terms are stacked into vectors of at most 32
    and each vector is summed, level by level: 10,000 terms are three
    levels deep and no node has more than 32 inputs.

    Parameters
    ----------
    terms : iterable of symbolic scalars (or numbers)

    Returns
    -------
    The sum; ``0`` (a Python int, which leaves the dtype of whatever it is
    added to unchanged) when `terms` is empty.

    Raises
    ------
    ValueError
        If a symbolic term is not a scalar (0-d).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit.regularization import sum_terms
    >>> float(sum_terms([np.float32(i) for i in range(1000)]))
    499500.0
    """
    if not _is_collection(terms):
        raise TypeError("sum_terms: terms must be an iterable of scalars, "
                        "got %s" % _describe(terms))
    level = list(terms)
    for term in level:
        if isinstance(term, (bool, np.bool_)) or not (
                is_tensor_like(term) or isinstance(term, numbers.Number)):
            raise TypeError("sum_terms: terms must be symbolic scalars or "
                            "numbers, got %s" % _describe(term))
        ndim = term.ndim if backend.is_tensor(term) else np.ndim(term)
        if ndim != 0:
            raise ValueError("sum_terms: every term must be a scalar, got "
                             "a %d-d %s" % (ndim, _describe(term)))
    return backend.shallow_sum(level)


def _as_tensor_list(tensors, caller, argname):
    """`tensors` as a list of tensors, or a TypeError naming what is wrong."""
    hint = ""
    if isinstance(tensors, Layer):
        hint = "; for the parameters of a layer use regularize_layer_params"
    if isinstance(tensors, (Layer, np.ndarray)) or not _is_collection(tensors):
        raise TypeError("%s: %s must be a tensor or an iterable of tensors, "
                        "got %s%s" % (caller, argname, _describe(tensors),
                                      hint))
    items = list(tensors)
    for index, item in enumerate(items):
        if not is_tensor_like(item):
            hint = ""
            if isinstance(item, Layer):
                hint = ("; for the parameters of layers use "
                        "regularize_layer_params")
            raise TypeError("%s: item %d of %s must be a tensor, got %s%s"
                            % (caller, index, argname, _describe(item), hint))
    return items


def _check_penalty(penalty, caller):
    if not callable(penalty):
        raise TypeError("%s: penalty must be callable (e.g. regkit.l2), got "
                        "%s" % (caller, _describe(penalty)))


def _check_penalty_kwargs(penalty, kwargs, layers, caller):
    """Refuse, naming `caller`, a keyword that `penalty` does not take.

    The keywords of the ``regularize_*`` helpers go to the penalty, so a
    tag passed there by mistake (``regularizable=True``, or a misspelling
    of it) would otherwise surface as the penalty's own ``unexpected
    keyword argument`` error.  When the keyword is, or is close to, a tag
    carried by the parameters of `layers`, the message says that tags go in
    ``tags={...}``.
    """
    if not kwargs:
        return
    try:
        signature = inspect.signature(penalty)
    except (TypeError, ValueError):
        return  # no signature to check against: the call will tell
    try:
        signature.bind_partial(None, **kwargs)
        return
    except TypeError:
        pass
    takes = set(signature.parameters)
    refused = [key for key in kwargs if key not in takes]
    if not refused:
        return  # another binding problem: let the call report it
    tags = tags_in_use(as_network(layers, caller).layers)
    name = getattr(penalty, "__name__", repr(penalty))
    for key in refused:
        close = [key] if key in tags else difflib.get_close_matches(
            key, sorted(tags), n=1, cutoff=0.7)
        if close:
            raise TypeError(
                "%s: the penalty %s() takes no keyword %r, which looks like "
                "the tag %r; tags go in tags={%r: %r}"
                % (caller, name, key, close[0], close[0], kwargs[key]))
    raise TypeError("%s: the penalty %s() takes no keyword %r (the helper "
                    "passes every keyword but tags on to the penalty)"
                    % (caller, name, refused[0]))


def _check_tags(tags, caller):
    if not isinstance(tags, Mapping):
        raise TypeError("%s: tags must be a dict such as {'regularizable': "
                        "True}, got %s" % (caller, _describe(tags)))
    for key in tags:
        if not isinstance(key, str):
            raise TypeError("%s: tag names must be strings, got %s"
                            % (caller, _describe(key)))
    return _check_tag_values(tags, caller)


def apply_penalty(tensor_or_tensors, penalty, **kwargs):
    """Apply a penalty to one tensor, or sum it over several.

    Parameters
    ----------
    tensor_or_tensors : tensor or iterable of tensors
        Symbolic variables, shared variables or numpy arrays.
    penalty : callable
        ``penalty(tensor, **kwargs)`` returning a scalar, e.g.
        :func:`regkit.penalties.l2`.
    **kwargs
        Passed on to `penalty`.

    Returns
    -------
    ``penalty(tensor)`` for one tensor; for a collection the sum of the
    penalty of each item (a parameter listed twice counts twice), or ``0``
    if it is empty.

    Raises
    ------
    TypeError
        If `penalty` is not callable, or the argument (or an item of it) is
        not a tensor: ``None``, a string, a dict, a layer.
    Exception
        Whatever `penalty` raises, unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import apply_penalty, l2
    >>> float(apply_penalty([np.ones(2), np.ones(3)], l2).eval())
    5.0
    """
    _check_penalty(penalty, "apply_penalty")
    if is_tensor_like(tensor_or_tensors):
        return penalty(tensor_or_tensors, **kwargs)
    tensors = _as_tensor_list(tensor_or_tensors, "apply_penalty",
                              "tensor_or_tensors")
    return sum_terms(penalty(tensor, **kwargs) for tensor in tensors)


def regularize_layer_params(layer, penalty, tags=DEFAULT_TAGS, **kwargs):
    """Penalty of the parameters of a layer or of a list of layers.

    Parameters
    ----------
    layer : Layer or list of Layer
    penalty : callable
    tags : dict
        Tag filter (see :meth:`regkit.layers.Layer.get_params`); by
        default the parameters tagged ``regularizable``.
    **kwargs
        Passed on to `penalty`.

    Returns
    -------
    The sum of the penalty over the filtered parameters of the listed
    layers; a parameter shared by several of them counts once.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, l1, regularize_layer_params
    >>> l_hid = DenseLayer(InputLayer((None, 3)), 2, W=np.ones((3, 2)))
    >>> float(regularize_layer_params(l_hid, l1).eval())
    6.0
    """
    caller = "regularize_layer_params"
    _check_penalty(penalty, caller)
    tags = _check_tags(tags, caller)
    layers = as_layer_list(layer, caller)
    check_tag_names(layers, tags, caller)
    _check_penalty_kwargs(penalty, kwargs, layers, caller)
    params = []
    for each in layers:
        params.extend(each.get_params(**tags))
    return apply_penalty(_unique(params), penalty, **kwargs)


def regularize_layer_params_weighted(layers, penalty, tags=DEFAULT_TAGS,
                                     **kwargs):
    """Weighted sum of the penalties of several layers' parameters.

    Parameters
    ----------
    layers : dict
        Layer -> coefficient (a non-negative number or a symbolic scalar).
    penalty : callable
    tags : dict
        Tag filter, by default ``{'regularizable': True}``.
    **kwargs
        Passed on to `penalty`.

    Returns
    -------
    ``sum(coeff * penalty(params of layer))``.  Each layer is weighted on
    its own: a parameter shared by two listed layers is penalized with both
    coefficients.  A numeric coefficient is cast to the penalty's dtype, so
    float32 parameters give a float32 result.

    Raises
    ------
    TypeError
        If `layers` is not a dict of layers, or a coefficient is neither a
        number nor a symbolic scalar.
    ValueError
        If a coefficient is negative, NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import (DenseLayer, InputLayer, l2,
    ...                     regularize_layer_params_weighted)
    >>> l_hid = DenseLayer(InputLayer((None, 3)), 2, W=np.ones((3, 2)))
    >>> l_out = DenseLayer(l_hid, 1, W=np.ones((2, 1)))
    >>> term = regularize_layer_params_weighted({l_hid: 0.1, l_out: 0.5}, l2)
    >>> round(float(term.eval()), 6)
    1.6
    """
    caller = "regularize_layer_params_weighted"
    _check_penalty(penalty, caller)
    tags = _check_tags(tags, caller)
    if not isinstance(layers, Mapping):
        raise TypeError("%s: layers must be a dict {layer: coefficient}, got "
                        "%s" % (caller, _describe(layers)))
    for layer in layers:
        if not is_layer(layer):
            raise TypeError("%s: the keys of layers must be layers, got %s"
                            % (caller, _describe(layer)))
    check_tag_names(layers, tags, caller)
    _check_penalty_kwargs(penalty, kwargs, list(layers), caller)
    pairs = []
    for layer, coeff in layers.items():
        coeff = _check_coefficient(coeff, layer, caller)
        pairs.append((coeff, apply_penalty(layer.get_params(**tags), penalty,
                                           **kwargs)))
    return _weighted_sum(pairs)


def _weighted_sum(pairs):
    """``sum(coeff * term)`` over (coefficient, term) pairs.

    A term that is the literal 0 (nothing was selected) adds nothing; a
    numeric coefficient is cast to its term's dtype, so that float32 terms
    give a float32 sum (a symbolic one is used as it is).
    """
    terms = []
    for coeff, term in pairs:
        if isinstance(term, int) and term == 0:
            continue
        dtype = getattr(term, "dtype", None)
        if dtype is not None and not backend.is_tensor(coeff):
            coeff = np.asarray(coeff, dtype=dtype)
        terms.append(coeff * term)
    return sum_terms(terms)


def _check_coefficient(coeff, layer, caller):
    if backend.is_tensor(coeff):
        if coeff.ndim != 0:
            raise ValueError("%s: the coefficient of %r must be a scalar, got "
                             "a %d-d tensor" % (caller, layer, coeff.ndim))
        return coeff
    return _check_positive(coeff, caller, "the coefficient of %r" % (layer,),
                          allow_zero=True)


def regularize_network_params(layer, penalty, tags=DEFAULT_TAGS, **kwargs):
    """Penalty of every parameter below `layer`, each counted once.

    Parameters
    ----------
    layer : Layer or list of Layer
        The output layer(s) of the network.
    penalty : callable
    tags : dict
        Tag filter, by default ``{'regularizable': True}``.
    **kwargs
        Passed on to `penalty`.

    Returns
    -------
    ``apply_penalty(get_all_params(layer, **tags), penalty, **kwargs)``

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import (DenseLayer, InputLayer, l2,
    ...                     regularize_network_params)
    >>> l_hid = DenseLayer(InputLayer((None, 3)), 2, W=np.ones((3, 2)))
    >>> l_out = DenseLayer(l_hid, 1, W=np.ones((2, 1)))
    >>> float(regularize_network_params(l_out, l2).eval())
    8.0
    """
    caller = "regularize_network_params"
    _check_penalty(penalty, caller)
    tags = _check_tags(tags, caller)
    network = as_network(layer, caller)
    params = network.params(True, caller, **tags)
    _check_penalty_kwargs(penalty, kwargs, network, caller)
    return apply_penalty(params, penalty, **kwargs)


class RegularizedGraph(namedtuple("RegularizedGraph",
                                  "train inference updates outputs")):
    """What :func:`apply_regularizers` returns: the outputs with the
    regularizers' changes (``train``), the outputs with their inference
    form (``inference``), the random updates the training graph needs
    (``updates``), and every named output of the training graph
    (``outputs``, a NetworkOutputs).

    ``graph.updates`` is looked up when read: it also covers the draws
    that loss terms built on ``graph.outputs`` since recorded there (a
    :class:`~regkit.regularizers.JacobianProjection`'s projections), so
    ``sgd + graph.updates`` draws everything afresh whichever terms the
    loss holds.  (Unpacking the tuple gives the updates of the moment it
    was built.)
    """

    __slots__ = ()

    @property
    def updates(self):
        return backend.random_updates(self.train, self.outputs)


def apply_regularizers(outputs, regularizers):
    """Insert the regularizers' graph changes (dropout, noise) into an
    existing graph, by replacement.

    The network is not rebuilt: each named variable the regularizers
    select (see :mod:`regkit.layers.graph`) is replaced by its changed
    value, and everything computed from it is recomputed on the change.
    Works the same on regkit's layers and on Lasagne-style ones (then
    `outputs` is the output layer or layers).

    Parameters
    ----------
    outputs : expression, list of expressions, or layer(s)
        The model's output(s), e.g. its prediction or its loss.
    regularizers : list of Regularizer
        Those with a ``modify_graph`` hook change the training graph;
        the others are ignored here (add their ``loss`` with
        :func:`~regkit.regularizers.total_penalty`).

    Returns
    -------
    RegularizedGraph
        ``(train, inference, updates, outputs)``: the training output(s)
        (one expression if one was given), the inference output(s) (the
        graph with the inference form of the regularizers that have one,
        as ``get_output(..., deterministic=True)`` builds it: spectral
        normalization divides, stochastic depth scales; dropout and noise
        are left out, so with only those it is the graph as given), the
        random updates for
        ``function(..., updates=...)``, and every named output of the
        training graph.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> x = backend.tensor.matrix("x")
    >>> W = backend.shared(np.ones((4, 3)), name="W")
    >>> h = backend.tensor.tanh(x)
    >>> h.name = "h"
    >>> y = backend.tensor.dot(h, W)
    >>> graph = regkit.apply_regularizers(
    ...     y, [regkit.BernoulliDropout("h:out", 0.5, rng=0)])
    >>> graph.inference is y, len(graph.updates)
    (True, 1)
    >>> train = backend.function([x], graph.train, updates=graph.updates)
    >>> train(np.ones((1, 4))).shape
    (1, 3)
    """
    caller = "apply_regularizers"
    layers, layer_out, named = _build_outputs(
        outputs, regularizers=regularizers, caller=caller, argname="outputs")
    train = [layer_out[layer] for layer in layers]
    # the inference graph applies what is not training-only (spectral
    # normalization's division, stochastic depth's scaling), exactly as
    # get_output(..., deterministic=True) does; the second build reads the
    # record the first one made (named holds it)
    _, plain, _ = _build_outputs(named.network, regularizers=regularizers,
                                 deterministic=True, caller=caller)
    inference = [plain[layer] for layer in layers]
    # one layer or expression, not a list of them (checked by the build;
    # is_layer would read the layer's inputs again)
    single = backend.is_tensor(outputs) or not _is_collection(outputs)
    if single:
        train, inference = train[0], inference[0]
    return RegularizedGraph(train, inference, backend.random_updates(train),
                            named)
