"""A regkit penalty on a PyMC model's free random variables.

In a PyMC model the parameters are random variables (``pm.Normal("w",
...)``), not shared variables: the shared variables of its graph are the
data (``pm.Data``) and coordinates.  So the network-wide helpers
(``regularize_network_params``, ``WeightL2()`` without a pattern), which
take a graph's shared variables for its parameters, would penalize the
data there.  :func:`potential` is the route for a PyMC model: the
penalty of the free random variables it chooses by name, added to the
model's log-density as a ``pm.Potential`` (with a minus sign: PyMC adds
potentials to the log-probability it maximises or samples).  An ``l1``
potential is a Laplace prior, ``l2`` a Gaussian one.

PyMC 6 needs Python 3.12 or later (the newest-PyTensor environment).

Examples
--------
>>> import regkit
>>> regkit.pymc.free_variable_names(None)
Traceback (most recent call last):
...
TypeError: free_variable_names: model must be a PyMC model (pymc.Model), got NoneType None
"""
import difflib
import fnmatch

from . import backend
from ._checks import check_positive, describe
from .regularization import _check_penalty, apply_penalty

__all__ = ["potential", "free_variable_names"]


def free_variable_names(model):
    """The names of `model`'s free random variables, in the model's order
    (what :func:`potential` chooses among).

    Parameters
    ----------
    model : pymc.Model

    Returns
    -------
    list of str
    """
    return [var.name for var in _free_variables(model, "free_variable_names")]


def potential(model, penalty, pattern=None, weight=1.0,
              name="regkit_penalty"):
    """Add ``-weight * penalty(free random variables)`` to `model`'s
    log-density as a ``pm.Potential``.

    Parameters
    ----------
    model : pymc.Model
    penalty : callable
        A penalty of a tensor (``regkit.l1``, ``regkit.l2``, ...).
    pattern : str, list of str or None
        Shell globs over the free random variables' names
        (``"w_*"``); None: every free random variable.  Data containers
        and deterministic variables are never chosen.
    weight : float or symbolic scalar
        Non-negative.
    name : str
        The potential's name in the model.

    Returns
    -------
    The potential (a symbolic scalar registered in the model).

    Raises
    ------
    TypeError
        `model` is not a PyMC model, `penalty` is not callable, `pattern`
        is not a string or a list of them, `weight` is not a number.
    ValueError
        `pattern` matches no free random variable (the message lists
        them, the closest first), or `weight` is negative or not finite.

    Examples
    --------
    The Backends page has a model; anything else is refused:

    >>> import regkit
    >>> regkit.pymc.potential("model", regkit.l1)
    Traceback (most recent call last):
    ...
    TypeError: regkit.pymc.potential: model must be a PyMC model (pymc.Model), got str 'model'
    """
    caller = "regkit.pymc.potential"
    free = _free_variables(model, caller)
    _check_penalty(penalty, caller)
    globs = _globs(pattern, caller)
    chosen = [var for var in free if globs is None or any(
        fnmatch.fnmatchcase(var.name, glob) for glob in globs)]
    if not chosen:
        names = [var.name for var in free]
        close = difflib.get_close_matches(globs[0] if globs else "", names,
                                          n=len(names), cutoff=0.0)
        raise ValueError(
            "%s: pattern %r matches no free random variable of the model; "
            "its free random variables are %s (data containers and "
            "deterministic variables are never chosen)"
            % (caller, pattern, ", ".join(map(repr, close)) or "none"))
    weight = _checked_weight(weight, caller)
    import pymc  # the caller has a PyMC model, so PyMC is installed
    term = apply_penalty(chosen, penalty)
    return pymc.Potential(name, -weight * term, model=model)


def _free_variables(model, caller):
    free = getattr(model, "free_RVs", None)
    if free is None or not hasattr(model, "named_vars"):
        raise TypeError("%s: model must be a PyMC model (pymc.Model), got %s"
                        % (caller, describe(model)))
    return list(free)


def _globs(pattern, caller):
    if pattern is None:
        return None
    globs = [pattern] if isinstance(pattern, str) else pattern
    if not isinstance(globs, (list, tuple)) or not globs \
            or not all(isinstance(glob, str) for glob in globs):
        raise TypeError("%s: pattern must be a glob or a non-empty list of "
                        "globs, got %s" % (caller, describe(pattern)))
    return list(globs)


def _checked_weight(weight, caller):
    """`weight`: a symbolic scalar as it is, a number finite and
    non-negative (as a float)."""
    if backend.is_tensor(weight):
        if weight.ndim != 0:
            raise ValueError("%s: weight must be a scalar, got %d "
                             "dimensions" % (caller, weight.ndim))
        if isinstance(weight, backend.Constant):  # a known value: checked
            check_positive(float(weight.data), caller, "weight",
                           allow_zero=True)
        return weight
    return check_positive(weight, caller, "weight", allow_zero=True)
