"""Glob patterns: what a regularizer's ``pattern`` selects.

Patterns are shell globs matched case-sensitively against parameter
names (``"hid1.W"``) or output names (``"hid1:out"``); a unique name's
``"#<n>"`` suffix (``W#2``) also matches its base name's globs.
``pattern=None`` is a class's default: the ``:out`` of every layer with
one of its default roles, read from the network's record.  The keys under
which graph changes keep clean copies of outputs (``"hid:out-predrop"``)
are never selected.

Examples
--------
>>> from regkit.regularizers.patterns import _matcher
>>> match = _matcher(["hid*.W"])
>>> match("hid1.W"), match("hid1.W#2"), match("out.W")
(True, True, False)
"""
import difflib
import fnmatch
import re

from .._checks import describe
from ..layers.hooks import NetworkOutputs
from ..layers.network import as_network

__all__ = ["add_clean_suffix"]

#: Suffixes of the keys under which stochastic regularizers keep the clean
#: value of an output (``hid:out-predrop``): filled by
#: :func:`add_clean_suffix` as each stochastic class is defined.
_CLEAN_SUFFIXES = set()

#: The suffix of the keys under which a loss term records a random draw it
#: made in the outputs dict (JacobianProjection: ``"hid:out-projection"``),
#: so that ``random_updates(outputs)`` finds it; never an output to select.
_DRAW_SUFFIX = "-projection"
_CLEAN_SUFFIXES.add(_DRAW_SUFFIX)


def add_clean_suffix(suffix):
    """Declare `suffix` (``"-predrop"``) as the end of the keys under which
    a graph change keeps the clean value of an output: such keys are never
    selected by a pattern.

    Examples
    --------
    >>> from regkit.regularizers.patterns import add_clean_suffix, _is_clean_copy
    >>> add_clean_suffix("-premine")
    >>> _is_clean_copy("hid:out-premine"), _is_clean_copy("hid:out")
    (True, False)
    """
    _CLEAN_SUFFIXES.add(suffix)


def _is_clean_copy(name):
    """Whether `name` is the key of a clean copy kept by dropout or noise."""
    return any(name.endswith(suffix) for suffix in _CLEAN_SUFFIXES)


def _as_patterns(pattern, argname="pattern"):
    """None, or a tuple of non-empty glob strings."""
    if pattern is None:
        return None
    if isinstance(pattern, str):
        patterns = (pattern,)
    elif isinstance(pattern, (list, tuple)):
        patterns = tuple(pattern)
    else:
        raise TypeError("%s must be a string or a sequence of strings, got %s"
                        % (argname, describe(pattern)))
    if not patterns:
        raise ValueError("%s must not be empty" % argname)
    for item in patterns:
        if not isinstance(item, str):
            raise TypeError("%s must contain only strings, got %s"
                            % (argname, describe(item)))
        if not item:
            raise ValueError("%s must not contain an empty string: %r"
                             % (argname, pattern))
    return patterns


def _matcher(patterns):
    """A function ``name -> bool`` telling whether `name` matches one of
    the globs `patterns` (case-sensitive, like
    :func:`fnmatch.fnmatchcase`), in time independent of how many patterns
    there are: names without wildcards are looked up in a set, the others
    compiled into one regular expression.  A name made unique with
    ``"#<n>"`` (``W#2``, see :func:`regkit.layers.named_params`) also
    matches the globs its base name matches."""
    literals = frozenset(p for p in patterns if not _WILDCARDS & set(p))
    globs = [p for p in patterns if p not in literals]
    regex = re.compile("|".join("(?:%s)" % fnmatch.translate(p)
                                for p in globs)) if globs else None

    def match_one(name):
        return name in literals or (regex is not None
                                    and regex.match(name) is not None)

    def match(name):
        return match_one(name) or match_one(_base_name(name))
    return match


def _base_name(name):
    """`name` without the final ``"#<n>"`` that made a parameter's name
    unique (``"W#2"`` -> ``"W"``).  A layer's ``#<n>`` (``"hidden#2.W"``)
    stays: patterns built from layer names must match exactly."""
    base, sep, count = name.rpartition("#")
    return base if sep and count.isdigit() else name


def _glob_matches(glob, name):
    """Whether the one glob `glob` matches `name` or its base name."""
    return fnmatch.fnmatchcase(name, glob) \
        or fnmatch.fnmatchcase(_base_name(name), glob)


_WILDCARDS = frozenset("*?[")


def _unmatched_globs(patterns, names):
    """The globs of `patterns` that match none of `names`, in order.  A
    glob without wildcards (a role's layer names) is looked up, so that a
    pattern of thousands of names costs linear time."""
    names = list(names)
    exact = set(names) | set(_base_name(name) for name in names)
    unmatched = []
    for glob in patterns:
        if _WILDCARDS & set(glob):
            found = any(_glob_matches(glob, name) for name in names)
        else:
            found = glob in exact
        if not found:
            unmatched.append(glob)
    return unmatched


def _resolve(pattern, default_roles, network, outputs=None):
    """The globs of `pattern`, or the ``:out`` of every layer of the
    network with one of `default_roles` when `pattern` is None (the roles
    that `outputs` carries when it comes from get_outputs, else those of a
    walk of `network`)."""
    patterns = _as_patterns(pattern)
    if patterns is not None:
        return patterns
    by_role = _names_by_role(network, outputs)
    return tuple("%s:out" % _glob_escape(name) for role in default_roles
                 for name in by_role[role])


def _glob_escape(name):
    """`name` as a glob that matches exactly it: the glob characters a
    layer's name may hold (``fc[1]``, ``conv*``) are escaped
    (``fc[[]1]``), as :func:`glob.escape` does for paths.

    Examples
    --------
    >>> from regkit.regularizers.patterns import _glob_escape
    >>> _glob_escape("fc[1]"), _glob_escape("hid")
    ('fc[[]1]', 'hid')
    """
    return re.sub(r"([*?[])", r"[\1]", name)


def _select_outputs(patterns, outputs):
    """Names in `outputs` matching `patterns`, leaving out the clean copies
    kept by dropout and noise."""
    match = _matcher(patterns)
    return [name for name in outputs if match(name)
            and not _is_clean_copy(name)]


def _names_by_role(network, outputs=None):
    """Role -> names of the layers with that role: from `outputs` when
    get_outputs built it, else from the network's record."""
    if isinstance(outputs, NetworkOutputs):
        by_role = outputs.names_by_role()
        by_role.setdefault("internal", [])
        return by_role
    return as_network(network).names_by_role()


def _short_name_hint(pattern, names):
    """A hint for a pattern that names a parameter as its layer knows it
    (Lasagne's ``"W"``) where regkit's names carry the layer
    (``"hid.W"``): ``"; did you mean '*.W'?"``, when that would match."""
    patterns = _as_patterns(pattern) or ()
    short = [glob for glob in patterns if "." not in glob]
    wider = ["*." + glob for glob in short
             if any(_glob_matches("*." + glob, name) for name in names)]
    return "; did you mean %s? (parameter names carry their layer's " \
           "name, as hid.W)" % " or ".join(map(repr, wider)) if wider else ""


#: How many names a "matches nothing" warning lists.
MAX_LISTED_NAMES = 8


def _available_hint(pattern, names, what):
    """``"; the network's parameters are 'a', 'b' (closest first)"``: what
    a pattern that matched nothing could have matched, the names most like
    its globs first, at most :data:`MAX_LISTED_NAMES` of them, and how to
    name a graph's variables when its names are automatic ones."""
    names = list(dict.fromkeys(names))
    if not names:
        return "; the network has no %s at all" % what
    globs = [glob.replace("*", "").replace("?", "")
             for glob in (_as_patterns(pattern) or ())]

    def likeness(name):
        return max([difflib.SequenceMatcher(None, glob, name).ratio()
                    for glob in globs] or [0.0])
    ranked = sorted(names, key=lambda name: -likeness(name))
    shown = ", ".join(map(repr, ranked[:MAX_LISTED_NAMES]))
    more = len(ranked) - MAX_LISTED_NAMES
    hint = "; the network's %ss are %s%s%s" % (
        what, shown, " and %d more" % more if more > 0 else "",
        " (closest first)" if globs and len(ranked) > 1 else "")
    if what == "output":
        hint += ("; on a symbolic graph, give a variable a name (h.name = "
                 "'h1') and select its output as 'h1:out'")
    elif any(re.match(r"^(variable|input|dense|conv)\d+\.(\d+|W|b)$", name)
             for name in names):
        hint += ("; the names are automatic: to choose by your own, name "
                 "the layers (name='fc1'), or on a symbolic graph give the "
                 "shared variables names (backend.shared(value, name='W1'))")
    return hint
