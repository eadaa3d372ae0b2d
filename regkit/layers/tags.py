"""The tags of a network's parameters: the standard ones, and the check
that a tag filter can select something.

Examples
--------
>>> from regkit.layers import DenseLayer, InputLayer, check_tag_names
>>> check_tag_names([DenseLayer(InputLayer((None, 3)), 2)],
...                 {"regularisable": True}, "mine")
Traceback (most recent call last):
...
ValueError: mine: no parameter of the given layers carries the tag ...
"""
from .._checks import check_tag_values

__all__ = ["STANDARD_TAGS", "check_tag_names", "tags_in_use"]


#: The tags :meth:`Layer.add_param` gives every parameter unless told not to.
STANDARD_TAGS = ("trainable", "regularizable")


def check_tag_names(layers, tags, caller):
    """Reject ``tag=True`` on a name no parameter of `layers` carries.

    Such a filter selects nothing, so a misspelt tag
    (``regularisable=True``) would give an empty list and a zero penalty
    without a word.  The standard tags are always accepted (a network may
    have no trainable parameters left), and so is ``tag=False`` on any
    name: it excludes nothing, which generic code relies on
    (``frozen=False`` in a script that only some networks freeze).
    """
    check_tag_values(tags, caller)
    unknown = [tag for tag, value in tags.items()
               if value and tag not in STANDARD_TAGS]
    if not unknown:
        return  # the common case: nothing to look up
    carried = tags_in_use(layers)
    unknown = [tag for tag in unknown if tag not in carried]
    if unknown:
        raise ValueError("%s: no parameter of the given layers carries the "
                         "tag %r, so %s=True would select nothing (tags in "
                         "use: %s)" % (caller, unknown[0], unknown[0],
                                       ", ".join(sorted(carried))))


def tags_in_use(layers):
    """The standard tags and every tag a parameter of `layers` carries.

    Examples
    --------
    >>> from regkit.layers import DenseLayer, InputLayer, tags_in_use
    >>> sorted(tags_in_use([DenseLayer(InputLayer((None, 3)), 2)]))
    ['regularizable', 'trainable']
    """
    carried = set(STANDARD_TAGS)
    for layer in layers:
        for have in layer.params.values():
            carried.update(have)
    return carried
