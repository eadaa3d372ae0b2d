"""Regularizers: named, weighted terms and graph changes, theanets style.

* :mod:`~regkit.regularizers.base`: :class:`Regularizer`, the registry of
  names, pattern matching;
* :mod:`~regkit.regularizers.weights`: penalties on parameters;
* :mod:`~regkit.regularizers.activity`: penalties on layer outputs;
* :mod:`~regkit.regularizers.contractive`: the Jacobian penalty;
* :mod:`~regkit.regularizers.stochastic`: dropout and noise;
* :mod:`~regkit.regularizers.updates`: hooks on parameter updates (max-norm);
* :mod:`~regkit.regularizers.factory`: :func:`from_kwargs`,
  :func:`total_penalty`, :func:`serialize` and :func:`deserialize`.
"""
from ..backend import random_updates
from .activity import (ConfidencePenalty, HiddenL1, HiddenL2, KLSparsity,
                       RecurrentNorm, RecurrentState)
from .base import REGISTRY, Regularizer
from .contractive import Contractive, JacobianProjection, R1Penalty
from .factory import deserialize, from_kwargs, serialize, total_penalty
from .stochastic import (AlphaDropout, BernoulliDropout, DropConnect,
                         GaussianNoise, StochasticDepth, dropout_mask,
                         mc_predict)
from .updates import (DecoupledWeightDecay, MaxNorm, MinMaxNorm, NonNeg,
                      ParamUpdates, UnitNorm, apply_update_hooks)
from .weights import (L2SP, SRIP, SpectralNorm, SpectralNormalization,
                      WeightL1, WeightL2)

__all__ = [
    "Regularizer", "WeightL2", "WeightL1", "HiddenL1", "HiddenL2",
    "KLSparsity", "Contractive", "RecurrentNorm", "RecurrentState",
    "BernoulliDropout", "GaussianNoise", "MaxNorm", "DecoupledWeightDecay",
    "L2SP", "ConfidencePenalty", "NonNeg", "UnitNorm", "MinMaxNorm",
    "AlphaDropout", "mc_predict", "R1Penalty", "JacobianProjection",
    "SpectralNorm", "SRIP", "SpectralNormalization", "DropConnect",
    "StochasticDepth",
    "ParamUpdates", "REGISTRY", "from_kwargs", "total_penalty", "apply_update_hooks",
    "serialize", "deserialize", "random_updates", "dropout_mask",
]
