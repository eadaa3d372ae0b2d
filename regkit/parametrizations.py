"""Parametrizations: a weight computed from new free parameters, trained
in its place (:class:`WeightNorm`, :class:`Orthogonal`,
:func:`parametrize`); see :mod:`regkit.regularizers.parametrize`.

Examples
--------
>>> import regkit
>>> regkit.parametrizations.Orthogonal("*.W", method="householder")
Orthogonal(pattern='*.W', tags={'regularizable': True}, method='householder', reflections=None)
"""
from .regularizers.parametrize import (MAX_ORTHOGONAL_SIZE,
                                       ORTHOGONAL_METHODS, Orthogonal,
                                       Parametrized, WeightNorm, parametrize)

__all__ = ["WeightNorm", "Orthogonal", "Parametrized", "parametrize",
           "ORTHOGONAL_METHODS", "MAX_ORTHOGONAL_SIZE"]
