"""The generators a graph draws from, and their updates.

:func:`random_updates` collects the (generator, advanced generator) pairs
a training function needs so that every call draws afresh (a
:class:`RandomUpdates` list, which adds up without repeats);
:func:`private_generators` finds the generators a linker must copy.

Examples
--------
>>> import numpy as np
>>> from regkit import backend
>>> mask = backend.bernoulli((3,), 0.5, "float64", np.random.SeedSequence(0))
>>> len(backend.random_updates(mask))
1
"""
from .choice import (SharedVariable, Variable, _Scan, _holds_generator,
                     _shared_generator, clone_replace)
from .graph import ancestors
from .random import _is_draw

__all__ = ["random_updates", "RandomUpdates", "private_generators"]


def random_updates(*exprs):
    """The random-generator updates that the graphs of `exprs` need.

    Parameters
    ----------
    *exprs : symbolic variables, or lists or dicts of them

    Returns
    -------
    RandomUpdates
        A list of (shared variable, new value) pairs, for
        ``function(..., updates=...)``, one per generator however many of
        `exprs` reach it; adding two of them (or one to a plain list)
        drops the repeats.  Without them a compiled function may reuse
        the same random draw on every call.

    Raises
    ------
    ValueError
        If a ``scan`` in the graphs draws inside its step from a generator
        that the scan does not advance (the step did not return the
        updates of its draws): every step and every call would repeat the
        same draw.

    Notes
    -----
    Draws inside a ``scan`` step are found too: when the step returns
    ``random_updates`` of its own outputs, scan advances each generator
    from step to step, and the updates returned here for the scan's
    outputs are the ones ``scan`` itself returned (pass either, not both:
    the same key twice is an error in ``function``).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> mask = backend.bernoulli((4,), 0.5, "float64",
    ...                          np.random.SeedSequence(1))
    >>> len(backend.random_updates(mask))
    1
    """
    flat = []
    for expr in exprs:
        if isinstance(expr, dict):
            flat.extend(expr.values())
        elif isinstance(expr, (list, tuple)):
            flat.extend(expr)
        else:
            flat.append(expr)
    for expr in flat:
        if not isinstance(expr, Variable):
            raise TypeError("random_updates: expected symbolic variables, "
                            "got %r" % (expr,))
    updates, seen = [], set()
    for var in ancestors(flat):
        node = var.owner
        if node is None:
            continue
        if _is_draw(node):
            pairs = [(node.inputs[0], node.outputs[0])]
        elif isinstance(node.op, _Scan):
            pairs = _scan_generator_updates(node)
        else:
            continue
        for rng, advanced in pairs:
            if isinstance(rng, SharedVariable) and rng not in seen:
                seen.add(rng)
                updates.append((rng, advanced))
    return RandomUpdates(updates)


def private_generators(expr):
    """`expr` with every generator its draws read replaced by a private
    copy (a new shared variable holding a copy of the generator's current
    state).

    A function compiled on the result, with ``random_updates`` of it,
    advances only its copies: its calls never change the draws of the
    functions compiled on `expr` itself (what :func:`regkit.mc_predict`
    needs, so that its passes leave the training function's masks alone).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> mask = backend.bernoulli((3,), 0.5, "float64",
    ...                          np.random.SeedSequence(0))
    >>> copy = backend.private_generators(mask)
    >>> [rng for rng, _ in backend.random_updates(copy)] != [
    ...     rng for rng, _ in backend.random_updates(mask)]
    True
    """
    replace = {rng: _shared_generator(rng.get_value())
               for rng, _ in random_updates(expr)}
    return clone_replace(expr, replace) if replace else expr


class RandomUpdates(list):
    """The list :func:`random_updates` returns: (generator, advanced
    generator) pairs that add up without repeats.

    ``updates + random_updates(outputs) + random_updates(loss)`` keeps
    one pair per generator (the first), so asking for the draws of the
    outputs and then of a loss built on them never gives ``function`` the
    same shared variable twice.  Adding one to a plain list of updates
    (on either side) gives a RandomUpdates.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> mask = backend.bernoulli((2,), 0.5, "float64",
    ...                          np.random.SeedSequence(0))
    >>> len(backend.random_updates(mask) + backend.random_updates(2 * mask))
    1
    """

    def _merged(self, first, second):
        keys = set(pair[0] for pair in first)
        return RandomUpdates(list(first) + [
            pair for pair in second if pair[0] not in keys])

    def __add__(self, other):
        if not isinstance(other, list):
            return NotImplemented
        return self._merged(self, other)

    def __radd__(self, other):
        if not isinstance(other, list):
            return NotImplemented
        return self._merged(other, self)

    def __iadd__(self, other):
        return self.__add__(other)


def _scan_generator_updates(node):
    """(generator, advanced generator) pairs of the Scan `node`.

    A generator that a step advances is one of the scan's shared outputs,
    and only a generator can be: the scan's generator outputs pair, in
    order, with its first generator inputs (shared outputs come before the
    non-sequences among a Scan's inputs).  A generator input beyond them
    is a non-sequence that some draw inside reads without advancing."""
    advanced = [out for out in node.outputs if _holds_generator(out)]
    generators = [inp for inp in node.inputs if _holds_generator(inp)]
    frozen = [rng for rng in generators[len(advanced):]
              if isinstance(rng, SharedVariable)]
    if frozen:
        raise ValueError(
            "random_updates: a scan step draws from %s without advancing "
            "it, so every step and every call would repeat the same draw; "
            "return regkit.random_updates(...) of the step's outputs from "
            "the step function (as its updates), or draw one mask per "
            "sequence outside the scan with regkit.dropout_mask"
            % ", ".join(repr(rng.name or rng) for rng in frozen))
    return list(zip(generators, advanced))
