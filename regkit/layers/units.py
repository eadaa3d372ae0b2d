"""The layers of a symbolic graph that nobody named: its units and the
sums that join them.

:func:`~regkit.layers.graph_layers` reads a graph's inputs, outputs and
named variables as layers; :func:`find_units` finds the others, so that a
graph with nothing named has the layers Lasagne would have built:

* a **unit** starts at a matrix product or convolution of the data with a
  weight (an expression of floating shared variables and constants only:
  a parametrized weight counts; a product of weights alone does not),
  seen through the reshapes that ``dot`` of a 3-D tensor wraps around it.
  The elementwise steps and softmaxes that read only the unit, each
  other, parameters and statistics of the unit itself (batch
  normalization's mean and variance: reductions of it) finish it in
  place: a bias, a nonlinearity, a scale, ReLU written as
  ``0.5 * (z + abs(z))``, Theano's pooling.  Two products added before any
  nonlinearity (``dot(x, W) + dot(z, V)``) are one unit; a step that
  reads another unit (a residual branch, a gate) is not part of either.
  After a saturating nonlinearity (tanh, sigmoid, softmax...) a step may
  read parameters only, and a subtraction never reads a constant:
  ``log(p + 1e-8)`` and ``(z - 1) ** 2`` are a loss's, not the unit's.
  The unit is the last of its steps that every way from its start to
  what reads it passes (its one step read from outside, or, when a loss
  or an activity term reads a step inside, ``abs(h)``, ``exp(z)``, the
  step where the network goes on), named ``dense1``, ``dense2``...
  (``conv1``...), its unnamed weight ``W`` and bias ``b``;
* a **sum** of two or more values computed from the data, one of them
  such a layer's (a residual connection ``h + f(h)``), outside any unit,
  is a layer too, named ``sum1``...: what Lasagne's ``ElemwiseSumLayer``
  is; its role is ``internal``.

A unit or sum with a variable of the user's among its steps is not added
(that variable is the layer); an unnamed output given is named as the unit
it ends, so the names are the same whether the prediction or the loss
stands for the network.

Examples
--------
>>> import numpy as np
>>> from regkit import backend
>>> from regkit.layers import get_all_layers, graph_layers, layer_names
>>> x = backend.tensor.matrix("x")
>>> h = backend.tensor.tanh(backend.tensor.dot(x, backend.shared(np.eye(2))))
>>> list(layer_names(get_all_layers(graph_layers(h + 1))).values())
['x', 'dense1', 'variable1']
"""
from collections import OrderedDict, namedtuple

from .. import backend

__all__ = ["Unit", "find_units"]

#: How many variables a statistic of a unit (a mean, a variance) may take
#: to compute from it; a larger expression is not the unit's own.
_MAX_STATISTIC_SIZE = 64
#: How many variables a unit with several ends may hold for its last
#: common step to be looked for; a larger one is not a unit.
_MAX_REGION_SIZE = 64
#: Operations through which a statistic reads the unit (reductions, and
#: its shape), by class name.
_REDUCTIONS = frozenset(("Sum", "Mean", "Prod", "Max", "Min", "CAReduce",
                         "MaxAndArgmax", "All", "Any", "Shape", "Shape_i"))

#: What :func:`find_units` knows of a layer it found: the stem of its
#: automatic name (``"dense"``, ``"conv"``, ``"sum"``) and the short names
#: of its unnamed parameters (shared variable -> ``"W"``, ``"b"``).
Unit = namedtuple("Unit", "stem short_names")


def find_units(every, nodes, unnamed_outputs):
    """The layers nobody named in a graph (see the module documentation).

    Parameters
    ----------
    every : list of Variable
        The graph's variables (its outputs' ancestors).
    nodes : set of Variable
        The variables that are layers already (inputs, named variables,
        outputs).
    unnamed_outputs : set of Variable
        The outputs given that have no name of the user's.

    Returns
    -------
    OrderedDict
        Variable -> :data:`Unit`, for the units and sums found (the
        unnamed outputs that end a unit among them).
    """
    clients = {}
    for var in every:
        if var.owner is not None:
            for source in var.owner.inputs:
                clients.setdefault(source, []).append(var.owner)
    fixed = _fixed_values()
    starts = OrderedDict()  # the start of each unit -> its weight
    for var in every:
        node = var.owner
        if node is None or node.outputs[0] is not var \
                or (var in nodes and var not in unnamed_outputs):
            continue
        found = _weight_of(node, fixed)
        if found is not None:
            starts[_through_shapes(var, clients, nodes)] = found
    units, inside = OrderedDict(), set()
    for start, (kind, _) in starts.items():
        region, stop, statistics = _region(start, starts, clients, fixed,
                                           nodes)
        inside.update(region)
        if stop is not None and stop not in unnamed_outputs:
            continue  # a named variable is the layer
        # an unnamed output given ends the unit, unless something else (a
        # loss written on the logits) reads a step before it
        exits = [v for v in region if v in unnamed_outputs or any(
            client.outputs[0] not in region
            and client.outputs[0] not in statistics
            for client in clients.get(v, ()))]
        end = _end_of(region, starts, exits)
        if end is None or end in units:
            continue
        units[end] = Unit(kind, _short_names(region, starts, fixed))
    layers = set(units) | nodes
    for var in reversed(every):  # the inner sums first
        if var not in inside and var not in nodes \
                and _joins_layers(var, layers, fixed):
            units[var] = Unit("sum", {})
            layers.add(var)
    return units


def _weight_of(node, fixed):
    """(its kind, the weight operand) if `node` is a matrix product or
    convolution of data with a weight, else None."""
    kind = backend.unit_kind(node)
    if kind is None or len(node.inputs) < 2:
        return None
    operands = node.inputs[:2]
    weights = [v for v in operands if fixed(v)]
    if len(weights) != 1 or not _weights_in(
            weights[0], 1 if kind == "dense" else 2):
        return None
    return kind, weights[0]


def _weights_in(expr, ndim=2):
    """The floating shared variables of `ndim` or more dimensions that the
    expression `expr` reads."""
    return [v for v in backend.graph_inputs([expr])
            if isinstance(v, backend.SharedVariable) and backend.is_tensor(v)
            and v.ndim >= ndim and str(v.dtype).startswith("float")]


def _through_shapes(var, clients, nodes):
    """`var`, or the reshape that wraps it (``dot`` of a 3-D tensor is a
    matrix product between two reshapes): the unit starts outside."""
    while var not in nodes:
        readers = clients.get(var, ())
        if len(readers) != 1 or not backend.is_shape_step(readers[0]) \
                or readers[0].inputs[0] is not var:
            break
        var = readers[0].outputs[0]
    return var


def _region(start, starts, clients, fixed, nodes):
    """(the variables of the unit that `start` begins, with the starts of
    products added to it; the first of them that is a layer already, or
    None; the variables of the statistics of the unit its steps read)."""
    region, stack, squashed, statistics = {start}, [start], set(), set()
    affine = {start}  # before any nonlinearity: where products may join
    stop = None
    while stack:
        var = stack.pop()
        for node in clients.get(var, ()):
            out = node.outputs[0]
            step = backend.unit_step(node)
            if out in region or step is None:
                continue
            others = [v for v in node.inputs if v not in region]
            joined = [v for v in others if v in starts]
            rest = [v for v in others if v not in starts]
            constants = [] if step == "pool" else [
                v for v in rest if fixed(v) and not _weights_in(v, 0)]
            found = [_statistic(v, region, fixed) for v in rest
                     if not fixed(v)]
            if not all(found):
                continue
            read = [v for v in node.inputs if v in region]
            if joined and not all(v in affine for v in read):
                continue  # h + dot(relu(h), W): a residual, not one unit
            after_squash = any(v in squashed for v in node.inputs)
            if constants and (step == "param" or after_squash):
                continue
            for v in joined:  # a sum of products: one unit
                region.add(v)
                stack.append(v)
            for variables in found:
                statistics.update(variables)
            region.add(out)
            if step == "squash" or after_squash:
                squashed.add(out)
            if step in ("affine", "param") and all(v in affine for v in read):
                affine.add(out)
            if out in nodes:  # a layer already: the unit goes no further
                stop = out if stop is None else stop
                continue
            stack.append(out)
    return region, stop, statistics


def _end_of(region, starts, exits):
    """The unit's variable: the last variable of `region` that every way
    from its starts to its `exits` passes through (an activity term or a
    loss that reads a step inside the unit, ``abs(h)`` or ``exp(z)``,
    leaves the unit where the network goes on), or None if the region is
    too large to tell."""
    if len(exits) == 1:
        return exits[0]
    if not exits or len(region) > _MAX_REGION_SIZE:
        return None
    after = dict((v, []) for v in region)
    for var in region:
        if var not in starts and var.owner is not None:
            for source in set(var.owner.inputs):
                if source in region:
                    after[source].append(var)
    roots = [v for v in region if v in starts]
    passes = []
    for var in _reached(roots, after):
        without = _reached(roots, after, avoid=var)
        if not any(e in without for e in exits if e is not var):
            passes.append(var)
    # the last of them: the one the others lead to
    after_each = [_reached([other], after) for other in passes]
    return max(passes, key=lambda var: sum(
        1 for reached in after_each if var in reached), default=None)


def _reached(roots, after, avoid=None):
    """The variables reached from `roots` over `after` (a variable -> the
    variables that read it), not passing `avoid`."""
    seen, stack = set(), [v for v in roots if v is not avoid]
    while stack:
        var = stack.pop()
        if var not in seen:
            seen.add(var)
            stack.extend(v for v in after[var] if v is not avoid)
    return seen


def _statistic(var, region, fixed):
    """The variables of `var` if it is a statistic of the unit `region`:
    computed from it only through reductions (a mean, a variance, a sum
    over the units: batch normalization, a softmax written by hand) and
    from parameters, in a small expression without a product of its own;
    else an empty set."""
    seen, stack, reads_unit = set(), [(var, False)], False
    while stack:
        top, reduced = stack.pop()
        if top in region:
            if not reduced:  # a function of the unit itself: not a statistic
                return set()
            reads_unit = True
            continue
        if top in seen:
            continue
        seen.add(top)
        if len(seen) > _MAX_STATISTIC_SIZE:
            return set()
        if top.owner is None:
            if not fixed(top):
                return set()
            continue
        if backend.unit_kind(top.owner) is not None:
            return set()  # a product of its own: another unit's
        reduced = reduced or type(top.owner.op).__name__ in _REDUCTIONS \
            or type(getattr(top.owner.op, "scalar_op", None)).__name__ \
            in _REDUCTIONS
        stack.extend((v, reduced) for v in top.owner.inputs)
    return seen if reads_unit else set()


def _short_names(region, starts, fixed):
    """Shared variable -> ``"W"`` for the unit's one weight, ``"b"`` for
    its one bias (a vector or scalar added), if unnamed."""
    short = OrderedDict()
    weights = [w for var in region if var in starts
               for w in _weights_in(starts[var][1], 1)]
    if len(weights) == 1 and weights[0].name is None:
        short[weights[0]] = "W"
    biases = [p for v in region if backend.is_sum(v)
              for operand in v.owner.inputs
              if operand not in region and fixed(operand)
              for p in _weights_in(operand, 0) if p.ndim <= 1]
    if len(biases) == 1 and biases[0].name is None:
        short[biases[0]] = "b"
    return short


def _joins_layers(var, layers, fixed):
    """Whether `var` is a sum of two or more values computed from the data,
    one of them a layer's (a residual connection)."""
    if not backend.is_sum(var):
        return False
    data = [v for v in var.owner.inputs if not fixed(v)]
    return len(data) >= 2 and any(v in layers for v in data)


def _fixed_values():
    """A function telling whether a variable is computed from floating
    shared variables and constants only (a weight, a bias, a parametrized
    weight; not a random draw, whose generator is not a floating tensor),
    each variable found once."""
    def start(var):
        if var.owner is not None:
            return ()
        # a floating shared variable: an integer one is a counter or a
        # generator's state (Theano's MRG streams keep theirs in one)
        return (isinstance(var, backend.Constant) or (
            isinstance(var, backend.SharedVariable)
            and backend.is_tensor(var)
            and str(var.dtype).startswith("float")),)
    return backend.bottom_up(start, lambda var, values: all(values))
