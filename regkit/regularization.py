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
from collections import OrderedDict
from collections.abc import Mapping
import difflib
import inspect
import numbers
import warnings

import numpy as np

from . import backend
from .layers.base import Layer, unique
from .layers.graph import VariableLayer, graph_layers
from .layers.network import as_network
from .layers.tags import check_tag_names, tags_in_use
from .layers.walk import as_layer_list, is_layer
from .penalties import fused_sum, l1, l2
# apply_regularizers lives beside get_outputs now; handed on from here,
# its old home
from .layers.outputs import RegularizedGraph, apply_regularizers
from ._checks import (check_positive, check_tag_values, describe,
                      is_collection, is_tensor_like)

__all__ = ["apply_penalty", "regularize_layer_params",
           "regularize_layer_params_weighted", "regularize_network_params",
           "sum_terms", "apply_regularizers", "RegularizedGraph", "check_tags", "weighted_sum"]

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
    if not is_collection(terms):
        raise TypeError("sum_terms: terms must be an iterable of scalars, "
                        "got %s" % describe(terms))
    level = list(terms)
    for term in level:
        if isinstance(term, (bool, np.bool_)) or not (
                is_tensor_like(term) or isinstance(term, numbers.Number)):
            raise TypeError("sum_terms: terms must be symbolic scalars or "
                            "numbers, got %s" % describe(term))
        ndim = term.ndim if backend.is_tensor(term) else np.ndim(term)
        if ndim != 0:
            raise ValueError("sum_terms: every term must be a scalar, got "
                             "a %d-d %s" % (ndim, describe(term)))
    return backend.shallow_sum(level)


def _as_tensor_list(tensors, caller, argname):
    """`tensors` as a list of tensors, or a TypeError naming what is wrong."""
    hint = ""
    if isinstance(tensors, Layer):
        hint = "; for the parameters of a layer use regularize_layer_params"
    if isinstance(tensors, (Layer, np.ndarray)) or not is_collection(tensors):
        raise TypeError("%s: %s must be a tensor or an iterable of tensors, "
                        "got %s%s" % (caller, argname, describe(tensors),
                                      hint))
    items = list(tensors)
    for index, item in enumerate(items):
        if not is_tensor_like(item):
            hint = ""
            if isinstance(item, Layer):
                hint = ("; for the parameters of layers use "
                        "regularize_layer_params")
            raise TypeError("%s: item %d of %s must be a tensor, got %s%s"
                            % (caller, index, argname, describe(item), hint))
    return items


def _check_penalty(penalty, caller):
    if not callable(penalty):
        raise TypeError("%s: penalty must be callable (e.g. regkit.l2), got "
                        "%s" % (caller, describe(penalty)))


def _checked_tags(penalty, tags, caller):
    """Refuse a penalty that is not callable; return the checked tags."""
    _check_penalty(penalty, caller)
    return check_tags(tags, caller)


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


def check_tags(tags, caller):
    """`tags` checked as a tag filter (a dict of tag name -> bool), or a
    TypeError/ValueError naming `caller`.

    Examples
    --------
    >>> from regkit.regularization import check_tags
    >>> check_tags({"regularizable": True}, "mine")
    {'regularizable': True}
    """
    if not isinstance(tags, Mapping):
        raise TypeError("%s: tags must be a dict such as {'regularizable': "
                        "True}, got %s" % (caller, describe(tags)))
    for key in tags:
        if not isinstance(key, str):
            raise TypeError("%s: tag names must be strings, got %s"
                            % (caller, describe(key)))
    return check_tag_values(tags, caller)


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
    if not kwargs and penalty in (l1, l2):  # one node per dtype
        return fused_sum(penalty, tensors)
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
    tags = _checked_tags(penalty, tags, caller)
    layers = as_layer_list(layer, caller)
    check_tag_names(layers, tags, caller)
    _check_penalty_kwargs(penalty, kwargs, layers, caller)
    params = []
    for each in layers:
        params.extend(each.get_params(**tags))
    return apply_penalty(unique(params), penalty, **kwargs)


def regularize_layer_params_weighted(layers, penalty, tags=DEFAULT_TAGS,
                                     **kwargs):
    """Weighted sum of the penalties of several layers' parameters.

    Parameters
    ----------
    layers : dict
        Layer -> coefficient (a non-negative number or a symbolic scalar).
        The keys may be variables of a symbolic graph (``{h1: 0.1, h2:
        0.2}``): each stands for the layer regkit reads at that variable,
        its parameters the shared variables it reads directly (not through
        another key or a named variable), as :func:`regkit.get_all_params`
        reads a graph.
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
        If `layers` is not a dict of layers (or of a graph's variables), or
        a coefficient is neither a number nor a symbolic scalar.
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
    tags = _checked_tags(penalty, tags, caller)
    if not isinstance(layers, Mapping):
        raise TypeError("%s: layers must be a dict {layer: coefficient}, got "
                        "%s" % (caller, describe(layers)))
    for layer in layers:
        if not is_layer(layer) and not (backend.is_tensor(layer) and not
                                        isinstance(layer, backend.Constant)):
            raise TypeError("%s: the keys of layers must be layers or "
                            "variables of a graph, got %s"
                            % (caller, describe(layer)))
    # a graph's variables: read together, so that each one's parameters
    # stop at the others (h2's weights are not h1's)
    variables = [key for key in layers if backend.is_tensor(key)]
    as_layers = dict(zip(variables, graph_layers(
        variables, find=False))) if variables else {}
    layers = OrderedDict((as_layers.get(key, key), coeff)
                         for key, coeff in layers.items())
    check_tag_names(layers, tags, caller)
    _check_penalty_kwargs(penalty, kwargs, list(layers), caller)
    pairs = []
    for layer, coeff in layers.items():
        coeff = _check_coefficient(coeff, layer, caller)
        params = layer.get_params(**tags)
        if not params:
            warnings.warn(
                "%s: the key %s has no parameter with tags %r; it adds 0%s"
                % (caller, describe(getattr(layer, "variable", layer)),
                   dict(tags), "" if not isinstance(layer, VariableLayer)
                   else " (an input of the graph has none; a variable's "
                   "are the shared variables it reads directly, not "
                   "through another key)"), UserWarning, stacklevel=2)
        pairs.append((coeff, apply_penalty(params, penalty, **kwargs)))
    return weighted_sum(pairs)


def weighted_sum(pairs):
    """``sum(coeff * term)`` over (coefficient, term) pairs.

    A term that is the literal 0 (nothing was selected) adds nothing; a
    numeric coefficient is cast to its term's dtype, so that float32 terms
    give a float32 sum (a symbolic one is used as it is).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> from regkit.regularization import weighted_sum
    >>> x = backend.shared(np.float32(2.0))
    >>> term = weighted_sum([(0.5, x), (1.0, 0)])
    >>> term.dtype, float(term.eval())
    ('float32', 1.0)
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
    return check_positive(coeff, caller, "the coefficient of %r" % (layer,),
                          allow_zero=True)


def regularize_network_params(layer, penalty, tags=DEFAULT_TAGS, **kwargs):
    """Penalty of every parameter below `layer`, each counted once.

    Parameters
    ----------
    layer : Layer or list of Layer
        The output layer(s) of the network.
    penalty, tags, **kwargs
        As for :func:`regularize_layer_params_weighted`.

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
    tags = _checked_tags(penalty, tags, caller)
    network = as_network(layer, caller)
    params = network.params(caller=caller, **tags)
    _check_penalty_kwargs(penalty, kwargs, network, caller)
    return apply_penalty(params, penalty, **kwargs)
