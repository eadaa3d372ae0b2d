"""Monte Carlo dropout at inference (Gal and Ghahramani 2016): the mean
and variance of several stochastic passes of a compiled prediction.
"""
import numpy as np

from .. import backend
from .._checks import as_float_tensor, check_count, describe, short_repr

__all__ = ["mc_predict"]


#: The most passes :func:`mc_predict` runs (``n``).
MAX_MC_PASSES = 100000
#: How many compiled functions :func:`mc_predict` keeps.
MC_CACHE_SIZE = 8
# (id(prediction), ids of the input variables, mode key) -> (prediction,
# input variables, mode, compiled function), least recently used first;
# each entry holds its prediction, variables and mode, so no id in a key
# can be reused by another object while the entry exists.
_MC_FUNCTIONS = {}


def mc_predict(prediction, inputs, n=30, mode=None):
    """Monte Carlo dropout at inference: the mean and variance of `n`
    stochastic passes (Gal and Ghahramani, "Dropout as a Bayesian
    approximation", 2016).

    Parameters
    ----------
    prediction : symbolic tensor
        A training-mode output, with its masks: ``get_output(net,
        regularizers=regs)`` (``deterministic=False``, the default), or
        ``apply_regularizers(...).train``.
    inputs : dict
        Symbolic input -> value, for one batch: a value for every input
        the prediction is computed from (shared variables and constants
        need none).  The keys are symbolic variables, not names.
    n : int
        Number of passes, from 2 to 100000 (``MAX_MC_PASSES`` in this
        module).
    mode : None, str or compilation mode
        None (the backend's default), a name from
        :func:`regkit.backend.linker_modes` or ``"FAST_RUN"``, or a mode
        object (``backend.c_linker_mode()``).

    Returns
    -------
    (mean, variance) : numpy arrays of the prediction's shape
        Over the `n` passes, each with fresh masks; the variance is the
        usual uncertainty estimate (0 where nothing is random).

    Raises
    ------
    TypeError
        If `inputs` is not a dict, one of its keys is not a symbolic
        variable (a string, a shared variable, a constant), or `mode` is
        of another kind.
    ValueError
        If `inputs` lacks an input the prediction needs, `mode` is a name
        the backend does not know, or `n` is out of range.

    Notes
    -----
    The function of `n` passes is compiled once and kept: a later call
    with the same `prediction`, the same input variables (in the same
    order) and the same `mode` (the same name, or the same mode object)
    reuses it, with fresh masks on every pass.  Variables are matched by
    identity, not by structure; the 8 (``MC_CACHE_SIZE``) most recently
    used compiled functions are kept, with their graphs.  The passes draw
    from private copies of the prediction's generators (taken when it is
    first compiled, :func:`regkit.backend.private_generators`), so they
    never change the draws of the training function or of any other.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> l_in = regkit.InputLayer((None, 4), name="in")
    >>> out = regkit.DenseLayer(l_in, 1, W=np.ones((4, 1)), nonlinearity=None)
    >>> drop = regkit.BernoulliDropout("in:out", 0.5, rng=0)
    >>> prediction = regkit.get_output(out, regularizers=[drop])
    >>> mean, var = regkit.mc_predict(prediction,
    ...                               {l_in.input_var: np.ones((2, 4))}, n=200)
    >>> mean.shape, bool(abs(mean.mean() - 4) < 0.5), bool((var > 0).all())
    ((2, 1), True, True)
    """
    caller = "mc_predict"
    prediction = as_float_tensor(prediction, caller, "prediction")
    # a variance needs two passes
    n = check_count(n, caller, "n", 2, maximum=MAX_MC_PASSES)
    variables = _mc_inputs(prediction, inputs)
    mode_key, mode_value = _mc_mode(mode)
    key = (id(prediction), tuple(id(var) for var in variables), mode_key)
    entry = _MC_FUNCTIONS.pop(key, None)
    if entry is None:
        # private copies of the generators: the passes never move the
        # draws of the training function (or of any other)
        private = backend.private_generators(prediction)
        fn = backend.function(variables, private, mode=mode_value,
                              updates=backend.random_updates(private),
                              on_unused_input="ignore")
        entry = (prediction, variables, mode, fn)
        while len(_MC_FUNCTIONS) >= MC_CACHE_SIZE:
            del _MC_FUNCTIONS[next(iter(_MC_FUNCTIONS))]
    _MC_FUNCTIONS[key] = entry  # now the most recently used
    fn = entry[-1]
    values = [inputs[var] for var in variables]
    passes = np.stack([np.asarray(fn(*values)) for _ in range(n)])
    return passes.mean(axis=0), passes.var(axis=0)


def _mc_inputs(prediction, inputs):
    """The keys of `inputs`, in order, once checked: symbolic variables
    (not shared variables or constants, whose values are in the graph),
    together giving every input the graph of `prediction` starts from."""
    if not isinstance(inputs, dict):
        raise TypeError("mc_predict: inputs must be a dict symbolic input -> "
                        "value, got %s" % describe(inputs))
    variables = list(inputs)
    for var in variables:
        if not backend.is_tensor(var) or isinstance(
                var, (backend.SharedVariable, backend.Constant)):
            raise TypeError("mc_predict: the keys of inputs must be symbolic "
                            "input variables (not names, shared variables "
                            "or constants), got %s" % describe(var))
    given = set(variables)
    # the inputs below a given variable are not needed: it is given
    missing = [var for var in backend.ancestors([prediction], variables)
               if var.owner is None and not isinstance(
                   var, (backend.SharedVariable, backend.Constant))
               and var not in given]
    if missing:
        raise ValueError("mc_predict: inputs has no value for %s, which the "
                         "prediction is computed from"
                         % ", ".join(short_repr(var) for var in missing[:6]))
    return variables


def _mc_mode(mode):
    """(cache key, value for ``backend.function``) of `mode`, or a
    TypeError / ValueError naming it."""
    if mode is None:
        return None, None
    if isinstance(mode, str):
        modes = backend.linker_modes()
        modes.setdefault("FAST_RUN", "FAST_RUN")
        if mode not in modes:
            raise ValueError("mc_predict: mode must be one of %s (or None, "
                             "or a mode object), got %s"
                             % (", ".join(repr(name) for name in modes),
                                short_repr(mode)))
        return mode, modes[mode]
    if isinstance(mode, type(backend.c_linker_mode())):
        # by identity: the cache entry keeps the object, so its id stays its
        return id(mode), mode
    raise TypeError("mc_predict: mode must be None, a mode name or a mode "
                    "object (see regkit.backend.linker_modes), got %s"
                    % describe(mode))
