"""A symbolic graph seen as a network of layers.

Every regkit function that takes a network also takes a symbolic
expression (a loss, a network's output) or a list of them.  regkit reads
such a graph as layers, one per variable that matters, so that the walk,
the tags, the names, the roles and the graph rewriting of
:func:`~regkit.layers.get_outputs` work on it as on layers:

* each **output** given, each **named variable** of the graph (a variable
  with a ``.name`` used by no other variable of the graph; the names the
  library gives itself, such as ``mean`` or ``x.T``, do not count) and each
  **input** (a variable computed from nothing: not a shared variable, not a
  constant) is a :class:`VariableLayer`, named by the variable's name (an
  unnamed one gets an automatic name: ``input1``, ``variable1``);
* so is each **unit** nobody named (a matrix product or convolution with
  a weight, with its bias and nonlinearity: ``dense1``, ``conv1``..., its
  weight ``dense1.W`` and bias ``dense1.b``) and each unnamed sum of
  layers (``sum1``: a residual connection), found by
  :mod:`regkit.layers.units`;
* a layer's inputs are the nearest such variables below it, and its
  output ``"<name>:out"`` is the variable, rebuilt on its inputs' values
  when a regularizer changed them (each input where this variable reads
  it, not inside another input that reads it too): dropout or noise on
  ``"h1:out"`` reaches everything computed from ``h1``;
* its parameters are the shared variables it reads directly (not through
  another such variable), in the order of the graph, each named by its
  ``.name``; the state regkit's regularizers keep in shared variables
  (power-iteration vectors, L2-SP starts) is never a parameter.

Roles: a variable no other reads is an ``output``, one read by another is
``hidden`` (an unnamed residual sum is ``internal``); a scalar output that
reads no parameter itself (a loss, a sum over the prediction) is
``internal`` and the variables it reads (not the inputs) are the model's
``output``, so the prediction is never hidden, whether the network is
given by its prediction or by its loss; the inputs only such a loss reads
(the targets) are ``internal`` too.

Default tags: a floating shared variable is ``trainable``; with two or
more dimensions also ``regularizable`` (weights, not biases or norm
scales: the usual rule of no decay on vectors).  Parameters of pytensor-ml
keep their kind: its non-trainable state (running statistics, step
counters) has no tag at all, so no penalty and no update hook sees it.

Examples
--------
>>> import numpy as np
>>> import regkit
>>> from regkit import backend
>>> x = backend.tensor.matrix("x")
>>> W = backend.shared(np.ones((3, 2)), name="W")
>>> b = backend.shared(np.zeros(2), name="b")
>>> h = backend.tensor.tanh(backend.tensor.dot(x, W) + b)
>>> h.name = "h"
>>> [p.name for p in regkit.get_all_params(h.sum(), regularizable=True)]
['W']
>>> list(regkit.layer_roles(h).values())
['input', 'output']
>>> list(regkit.layer_roles(h.sum()).values())  # h is the model's output
['input', 'output', 'internal']
"""
from collections import OrderedDict
import warnings

from .. import backend
from .._checks import check_tag_values, describe
from .base import filter_tags, unique, _unwrap
from .units import find_units

__all__ = ["VariableLayer", "graph_layers"]

# names Theano and PyTensor give variables themselves (x.mean() is named
# "mean", x.T "x.T"): not the user's names, so not layers
_LIBRARY_NAMES = frozenset(("mean", "var", "std", "argmax", "median"))


class VariableLayer(object):
    """One variable of a symbolic graph, seen as a layer (see the module
    documentation); built by :func:`graph_layers`, not by hand.

    Attributes
    ----------
    variable : symbolic variable
    input_layers : list of VariableLayer
        The nearest variables below it that are layers too.
    input_var : symbolic variable or None
        The variable itself if it is an input of the graph.
    params : OrderedDict
        Shared variable -> set of tag names.
    name : str or None
        The variable's name.
    automatic_name : str
        The stem of the automatic name :func:`~regkit.layers.layer_names`
        gives it when it has no name (``"input"``, ``"variable"``); any
        layer may carry one; a unit found in an unnamed graph is
        ``"dense"`` or ``"conv"``, a sum of layers ``"sum"``.
    param_names : OrderedDict
        Unnamed shared variable -> its short name in this layer (``W``,
        ``b``: a unit's weight and bias), used by
        :func:`~regkit.layers.named_params` as ``"dense1.W"``; empty but
        for units.
    joins : bool
        Whether it is a sum of layers' values nobody named (a residual
        connection): an ``internal`` layer, as Lasagne's
        ``ElemwiseSumLayer``.
    """

    def __init__(self, variable, input_layers, params, name):
        if not backend.is_tensor(variable):
            raise TypeError("VariableLayer: variable must be a symbolic "
                            "tensor, got %s" % describe(variable))
        self.variable = variable
        self.input_layers = list(input_layers)
        self.input_var = variable if variable.owner is None and not \
            isinstance(variable, backend.SharedVariable) else None
        self.params = params
        self.name = name
        self.automatic_name = "input" if self.input_var is not None \
            else "variable"
        self.param_names = OrderedDict()
        self.joins = False

    @property
    def output_shape(self):
        return backend.static_shape(self.variable)

    def get_params(self, unwrap_shared=True, **tags):
        """The shared variables this variable reads, filtered by tags (as
        :meth:`regkit.Layer.get_params`)."""
        check_tag_values(tags, "VariableLayer.get_params")
        return unique(_unwrap(filter_tags(self.params, tags), unwrap_shared))

    def get_output_for(self, inputs, **kwargs):
        """The variable, rebuilt on `inputs` (the values of its input
        layers, in order) where they differ from the originals."""
        replace = {layer.variable: value
                   for layer, value in zip(self.input_layers, inputs)}
        if all(value is var for var, value in replace.items()):
            return self.variable
        # the unchanged inputs are replaced by themselves, which stops the
        # rebuild there: an input changed is changed where this variable
        # reads it, not inside another input that reads it too
        return backend.clone_replace(self.variable, replace)

    def __repr__(self):
        return "VariableLayer(%r)" % (self.name or self.variable,)


def graph_layers(outputs, find=True):
    """The layers of the graph of `outputs` (see the module documentation).

    Parameters
    ----------
    outputs : symbolic variable or list of them
    find : bool
        Whether the units and sums nobody named are layers too
        (:mod:`regkit.layers.units`); False reads only the inputs, the
        outputs and the named variables (the keys of
        :func:`~regkit.regularize_layer_params_weighted`, whose parameters
        stop at each other only).

    Returns
    -------
    list of VariableLayer
        One per output, in the order given.

    Examples
    --------
    >>> from regkit import backend
    >>> from regkit.layers import graph_layers, get_all_layers
    >>> x = backend.tensor.vector("x")
    >>> y = 2 * x
    >>> y.name = "y"
    >>> [layer.name for layer in get_all_layers(graph_layers(y.sum()))]
    ['x', 'y', None]
    """
    if backend.is_tensor(outputs):
        outputs = [outputs]
    elif isinstance(outputs, (list, tuple)) and outputs \
            and all(backend.is_tensor(out) for out in outputs):
        outputs = list(outputs)
    else:
        raise TypeError("graph_layers: outputs must be a symbolic tensor or "
                        "a non-empty list of them, got %s"
                        % describe(outputs))
    every = backend.ancestors(outputs)
    _warn_if_random_weights(every)
    names = {}
    for var in every:
        if _user_name(var) is not None:
            names[var.name] = names.get(var.name, 0) + 1
    nodes = set(outputs)
    for var in every:
        if isinstance(var, (backend.SharedVariable, backend.Constant)) \
                or not backend.is_tensor(var):
            continue
        if var.owner is None or (_user_name(var) is not None
                                 and names[var.name] == 1):
            nodes.add(var)
    units = find_units(every, nodes, set(
        out for out in outputs if _user_name(out) is None)) if find else {}
    nodes.update(units)
    below = {var: _below(var, nodes) for var in nodes}
    layers = {}
    for var in _inputs_first(outputs, below):
        name = var.name if _user_name(var) is not None \
            and names[var.name] == 1 else None
        inputs, params = below[var]
        layers[var] = layer = VariableLayer(
            var, [layers[v] for v in inputs], params, name)
        if var in units:
            layer.automatic_name, short = units[var]
            layer.param_names = OrderedDict(
                (param, short[param]) for param in params if param in short)
            layer.joins = layer.automatic_name == "sum"
    return [layers[var] for var in outputs]


def _warn_if_random_weights(every):
    """Warn if the graph of the variables `every` may be a PyMC model's: it
    multiplies data by an expression of named random variables (PyMC
    names every random variable of a model; a named noise draw added to a
    plain graph is not one), or it holds PyMC's own operations (a model's
    log-density).  A PyMC model's weights are random variables (or their
    values), which regkit does not take for parameters, and its shared
    variables (PyMC's data) would be."""
    drawn = set(var for var in every if var.owner is not None
                and _user_name(var) is not None
                and backend.is_random_variable(var.owner))
    weights = []
    if drawn:
        draw_of = _first_draw(drawn)
        for var in every:
            if var.owner is not None \
                    and backend.unit_kind(var.owner) is not None:
                draws = map(draw_of, var.owner.inputs)
                weights.extend(draw.name for draw in draws
                               if draw is not None)
    pymc_ops = [type(var.owner.op).__name__ for var in every
                if var.owner is not None
                and type(var.owner.op).__module__.split(".")[0] == "pymc"]
    if not weights and not pymc_ops:
        return
    data = [var.name or "unnamed" for var in every
            if isinstance(var, backend.SharedVariable)
            and backend.is_tensor(var)]
    found = ("it multiplies data by named random variables (%s)"
             % ", ".join(map(repr, list(dict.fromkeys(weights))[:5]))
             if weights else "it holds PyMC's operations (%s), as a "
             "model's log-density does" % pymc_ops[0])
    warnings.warn(
        "this graph may be a PyMC model's: %s.  A PyMC model's parameters "
        "are its free random variables, which regkit's parameter selection "
        "does not see: it takes the graph's shared variables (%s) for "
        "parameters, and a PyMC model's are data.  For a penalty on a PyMC "
        "model's weights use regkit.pymc.potential(model, penalty, "
        "pattern); if the shared variables are your weights (PyMC's logp "
        "as a prior term, random features), this does not apply"
        % (found, ", ".join(map(repr, data[:5])) or "none"),
        UserWarning, stacklevel=4)


def _first_draw(drawn):
    """A function giving a named random variable of `drawn` that a
    variable is computed from (or None), each variable found once."""
    def start(var):
        if var in drawn:
            return (var,)
        return (None,) if var.owner is None else ()
    return backend.bottom_up(start, lambda var, values: next(
        (value for value in values if value is not None), None))


def _user_name(var):
    """The name the user gave `var`, or None."""
    name = var.name
    if name is None or name in _LIBRARY_NAMES or name.endswith(".T") \
            or "[" in name or "{" in name:  # scan's slices: "X[0:]"
        return None
    return name


def _inputs_first(outputs, below):
    """The variables of `below` reachable from `outputs`, each after the
    variables it reads (an explicit stack: no recursion limit)."""
    order, done, entered = [], set(), set()
    stack = list(reversed(outputs))
    while stack:
        var = stack[-1]
        if var in done:
            stack.pop()
        elif var not in entered:
            entered.add(var)
            stack.extend(v for v in reversed(below[var][0]) if v not in done)
        else:
            stack.pop()
            done.add(var)
            order.append(var)
    return order


def _below(var, nodes):
    """(the nearest `nodes` below `var`, in graph order; OrderedDict of the
    shared variables read on the way, with their default tags)."""
    if var.owner is None:  # an input; or a shared variable given as output
        params = OrderedDict()
        if isinstance(var, backend.SharedVariable):
            params[var] = _default_tags(var)
        return [], params
    below = backend.ancestors(var.owner.inputs, blockers=nodes)
    inputs = [v for v in below if v in nodes]
    params = OrderedDict((v, _default_tags(v)) for v in below
                         if isinstance(v, backend.SharedVariable)
                         and backend.is_tensor(v)
                         and not backend.is_state_variable(v))
    return inputs, params


def _default_tags(var):
    dtype = getattr(var, "dtype", "")
    if backend.is_untrained_state(var) or not str(dtype).startswith("float"):
        return set()
    if var.ndim >= 2:
        return {"trainable", "regularizable"}
    return {"trainable"}
