"""What each regularizer touches: :func:`audit`, a table per parameter and
per named output, with warnings for the usual mistakes.

"Did weight decay hit the biases and the norm scales?"  The audit answers
before the first step: it reads the network's record and each
regularizer's pattern, tags and roles, the same way the regularizers do
when they build their terms, and compiles nothing and changes nothing
(warnings a regularizer would give, such as a pattern that matches
nothing, become lines of the audit instead).  Without the outputs of
:func:`~regkit.layers.get_outputs`, it builds the network's symbolic
outputs once, without regularizers, to learn their names (``:pre`` as
well as ``:out``).
"""
from collections import OrderedDict
from types import SimpleNamespace
import warnings

from .. import backend
from .._checks import describe
from ..layers.hooks import NetworkOutputs
from ..layers.network import as_network
from ..layers.outputs import get_outputs
from ..schedules import Schedule
from .base import (Regularizer, _as_regularizers, _ParamRegularizer,
                   term_labels)
from .patterns import _is_clean_copy, _names_by_role, _select_outputs
from .updates import DecoupledWeightDecay

__all__ = ["audit", "Audit"]


def _coefficient(weight):
    if isinstance(weight, Schedule):
        return repr(weight)
    if backend.is_tensor(weight):
        return "symbolic %s" % (weight.name or weight)
    return "%g" % weight


def _is_graph_change(reg):
    return type(reg).modify_graph is not Regularizer.modify_graph


def _outputs_of(reg, record, outputs, names):
    """The named outputs among `names` that `reg` changes or penalizes:
    those it changed while `outputs` was built with it, else those its own
    selection picks (StochasticDepth picks sum layers, not a role), else
    those its patterns match."""
    changed = outputs.changed_by(reg) \
        if isinstance(outputs, NetworkOutputs) else []
    if changed:
        return [name for name in names if name in changed]
    selects = getattr(reg, "_selects", None)
    if selects is not None and isinstance(outputs, NetworkOutputs):
        return [name for name in names if name.endswith(":out")
                and selects(SimpleNamespace(
                    layer=outputs.layers.get(name[:-len(":out")]),
                    name=name[:-len(":out")]))]
    patterns = reg.patterns(record.queried, outputs)
    return _select_outputs(patterns, names) if patterns else []


class Audit(object):
    """What :func:`audit` returns.

    Attributes
    ----------
    params : list of dict
        One row per parameter, in the network's order: ``name``,
        ``shape`` (a tuple, None where the value is symbolic), ``dtype``,
        ``size``, ``tags`` (sorted list), ``terms`` (list of (label,
        coefficient) of every regularizer touching it; the coefficient is
        the weight as text: a number, a schedule, a symbolic name).
    outputs : list of dict
        One row per named output: ``name``, ``role``, ``changes`` (labels
        of the graph changes applied to it), ``terms`` (labels of the
        penalties on it).
    warnings : list of str
    """

    def __init__(self, params, outputs, warnings_):
        self.params = params
        self.outputs = outputs
        self.warnings = warnings_

    def _tables(self):
        params = [[row["name"], "?" if row["shape"] is None
                   else "x".join(str(n) for n in row["shape"]) or "()",
                   row["dtype"], "?" if row["size"] is None
                   else str(row["size"]), ",".join(row["tags"]),
                   "; ".join("%s %s" % term for term in row["terms"])
                   or "-"] for row in self.params]
        outputs = [[row["name"], row["role"],
                    ", ".join(row["changes"]) or "-",
                    ", ".join(row["terms"]) or "-"] for row in self.outputs]
        return [(["parameter", "shape", "dtype", "size", "tags",
                  "terms (label coefficient)"], params),
                (["output", "role", "graph changes", "penalties"], outputs)]

    def __str__(self):
        lines = []
        for header, rows in self._tables():
            widths = [max([len(header[i])] + [len(row[i]) for row in rows])
                      for i in range(len(header))]
            for row in [header, ["-" * w for w in widths]] + rows:
                lines.append("  ".join(cell.ljust(width) for cell, width
                                       in zip(row, widths)).rstrip())
            lines.append("")
        lines += ["warning: " + text for text in self.warnings] or \
            ["no warnings"]
        return "\n".join(lines)

    def to_markdown(self):
        """The same tables in Markdown, then the warnings as a list."""
        lines = []
        for header, rows in self._tables():
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            for row in rows:
                lines.append("| " + " | ".join(
                    _markdown_cell(cell) for cell in row) + " |")
            lines.append("")
        lines += ["- " + text for text in self.warnings] or ["No warnings."]
        return "\n".join(lines)

    def __repr__(self):
        return "<Audit: %d parameters, %d outputs, %d warnings>" % (
            len(self.params), len(self.outputs), len(self.warnings))


def audit(network, regularizers=(), outputs=None):
    """What each regularizer touches, per parameter and per named output.

    Parameters
    ----------
    network : Layer, list of Layer, expression(s) or Network
        Any network form regkit takes (regkit or Lasagne layers, a plain
        graph, a pytensor-ml model's output).
    regularizers : list of Regularizer
    outputs : dict or None
        The named outputs from :func:`regkit.layers.get_outputs` (built
        with the same regularizers: the audit then lists what each graph
        change did change); None: the audit builds the outputs without
        regularizers to learn their names.

    Returns
    -------
    Audit
        ``str(audit)`` is a fixed-width table, ``audit.to_markdown()`` a
        Markdown one; ``audit.warnings``: a penalty or decay on a 1-D
        parameter (a bias, a norm scale), a regularizer that matches
        nothing, a parameter under two penalties of the same kind, dropout
        or noise on an output layer.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.DenseLayer(
    ...     regkit.InputLayer((None, 3), name="in"), 4, name="hid"), 2,
    ...     name="out")
    >>> regs = [regkit.WeightL2(weight=1e-4),
    ...         regkit.WeightL1("*.b", 1e-5, tags={"trainable": True}),
    ...         regkit.BernoulliDropout(weight=0.5)]
    >>> report = regkit.audit(net, regs)
    >>> print(report)  # doctest: +NORMALIZE_WHITESPACE
    parameter  shape  dtype    size  tags                     terms (label coefficient)
    ---------  -----  -------  ----  -----------------------  -------------------------
    hid.W      3x4    float64  12    regularizable,trainable  weight_l2 0.0001
    hid.b      4      float64  4     trainable                weight_l1 1e-05
    out.W      4x2    float64  8     regularizable,trainable  weight_l2 0.0001
    out.b      2      float64  2     trainable                weight_l1 1e-05
    <BLANKLINE>
    output   role    graph changes      penalties
    -------  ------  -----------------  ---------
    in:out   input   -                  -
    hid:pre  hidden  -                  -
    hid:out  hidden  bernoulli_dropout  -
    out:pre  output  -                  -
    out:out  output  -                  -
    <BLANKLINE>
    warning: weight_l1 (WeightL1) penalizes the 1-D parameter hid.b (a bias or a norm scale: usually left out)
    warning: weight_l1 (WeightL1) penalizes the 1-D parameter out.b (a bias or a norm scale: usually left out)
    """
    record = as_network(network, "audit", "network")
    regs = _as_regularizers(regularizers, "audit", parametrizations=True)
    labels = term_labels(regs)
    if outputs is not None and not hasattr(outputs, "keys"):
        raise TypeError("audit: outputs must be the dict that get_outputs "
                        "returns or None, got %s" % describe(outputs))
    notes = []
    if outputs is None:
        outputs = _output_names(record, notes)

    # --- parameters ----------------------------------------------------
    tags = OrderedDict()
    for layer in record.layers:
        for tag in sorted({t for ts in layer.params.values() for t in ts}):
            for param in layer.get_params(unwrap_shared=True, **{tag: True}):
                tags.setdefault(param, set()).add(tag)
    rows = OrderedDict()
    for name, param in record.named_params(caller="audit"):
        value = param.get_value(borrow=True) \
            if isinstance(param, backend.SharedVariable) else None
        rows[param] = {
            "name": name, "dtype": str(param.dtype),
            "shape": None if value is None else tuple(value.shape),
            "size": None if value is None else int(value.size),
            "tags": sorted(tags.get(param, ())), "terms": []}
    touched = OrderedDict()  # param -> [(reg, label)]
    for reg, label in zip(regs, labels):
        if not isinstance(reg, _ParamRegularizer):
            continue
        chosen = _quietly(lambda: reg.named_params(record), notes, label)
        for _, param in chosen:
            if param in rows:
                rows[param]["terms"].append((label,
                                             _coefficient(reg.weight)))
                touched.setdefault(param, []).append((reg, label))
    for param, hits in touched.items():
        name = rows[param]["name"]
        decays = [(reg, label) for reg, label in hits
                  if reg.has_loss_term()
                  or isinstance(reg, DecoupledWeightDecay)]
        if param.ndim <= 1:
            for reg, label in decays:
                notes.append("%s (%s) %s the %d-D parameter %s (a bias or a "
                             "norm scale: usually left out)" % (
                                 label, type(reg).__name__,
                                 "penalizes" if reg.has_loss_term()
                                 else "decays", param.ndim, name))
        kinds = OrderedDict()
        for reg, label in hits:
            if reg.has_loss_term():
                kinds.setdefault(type(reg).__name__, []).append(label)
        for kind, same in kinds.items():
            if len(same) > 1:
                notes.append("%s is under %d %s terms (%s): its penalty "
                             "counts %d times" % (name, len(same), kind,
                                                  ", ".join(same),
                                                  len(same)))

    # --- named outputs -------------------------------------------------
    roles = {}
    for role, names in _names_by_role(record.queried, outputs).items():
        for layer_name in names:
            roles[layer_name] = role
    names = [name for name in outputs if not _is_clean_copy(name)]
    out_rows = OrderedDict((name, {
        "name": name, "role": roles.get(name.rpartition(":")[0], "-"),
        "changes": [], "terms": []}) for name in names)
    for reg, label in zip(regs, labels):
        if isinstance(reg, _ParamRegularizer):
            continue
        hit = _outputs_of(reg, record, outputs, out_rows)
        if hit:  # a misspelt glob beside a good one, as the build warns
            _quietly(lambda: reg._warn_unmatched_globs(hit, "output"),
                     notes, label)
        if not hit:
            notes.append("%s (%s) with pattern %r matches no output; it "
                         "adds nothing" % (label, type(reg).__name__,
                                           reg.pattern))
        for name in hit:
            row = out_rows[name]
            if reg.has_loss_term():
                row["terms"].append(label)
            elif _is_graph_change(reg):
                row["changes"].append(label)
                if reg.training_only and row["role"] == "output":
                    notes.append("%s (%s) changes %s, the output of the "
                                 "network: dropout or noise there perturbs "
                                 "the predictions the loss sees" % (
                                     label, type(reg).__name__, name))
    return Audit(list(rows.values()), list(out_rows.values()), notes)


def _output_names(record, notes):
    """The network's named outputs, built once without regularizers and in
    inference mode (a Lasagne DropoutLayer draws nothing then, so no random
    stream moves); a network that cannot be built so (a layer made from a
    shape, a layer needing more arguments) falls back to each layer's
    ``:out``, with a note."""
    try:
        return _quietly(lambda: get_outputs(record.queried,
                                            deterministic=True),
                        notes, "get_outputs")
    except (TypeError, ValueError) as error:
        notes.append("the outputs could not be built to learn their names "
                     "(%s); only each layer's :out is listed: pass "
                     "outputs= from get_outputs" % (error,))
        return ["%s:out" % record.names[layer] for layer in record.layers
                if record.names.get(layer) is not None]


def _markdown_cell(text):
    """`text` as one cell of a Markdown table: backslashes and pipes
    escaped, line breaks as spaces."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|")
                    .splitlines())


def _quietly(call, notes, label):
    """``call()`` with its UserWarnings turned into lines of `notes`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    for item in caught:
        if issubclass(item.category, UserWarning):
            notes.append("%s: %s" % (label, item.message))
        else:
            warnings.warn_explicit(item.message, item.category,
                                   item.filename, item.lineno)
    return result

