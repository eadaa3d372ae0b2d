"""Regularizers: named, weighted terms and graph changes, theanets style.

* :mod:`~regkit.regularizers.base`: :class:`Regularizer`, the registry of
  names, pattern matching;
* :mod:`~regkit.regularizers.weights`: penalties on parameters;
  :mod:`~regkit.regularizers.spectral`: those by power iteration;
* :mod:`~regkit.regularizers.activity`: penalties on layer outputs;
* :mod:`~regkit.regularizers.contractive`: the Jacobian penalty;
* :mod:`~regkit.regularizers.stochastic`: dropout and noise;
  :mod:`~regkit.regularizers.weight_changes`: changes of weights in the
  graph (DropConnect, spectral normalization);
  :mod:`~regkit.regularizers.depth`: stochastic depth;
  :mod:`~regkit.regularizers.montecarlo`: Monte Carlo dropout;
* :mod:`~regkit.regularizers.updates`: hooks on parameter updates (max-norm);
* :mod:`~regkit.regularizers.training`: what a training script calls,
  :func:`total_penalty`, :func:`penalty_terms` and
  :func:`apply_update_hooks`;
* :mod:`~regkit.regularizers.audit`: :func:`audit`, what each regularizer
  touches;
* :mod:`~regkit.regularizers.factory`: :func:`from_kwargs`,
  :func:`serialize` and :func:`deserialize`.
"""
from ..backend import random_updates
from .activity import (ConfidencePenalty, HiddenL1, HiddenL2, KLSparsity,
                       RecurrentNorm, RecurrentState)
from .audit import Audit, audit
from .base import REGISTRY, Regularizer, change_weights, term_labels
from .patterns import add_clean_suffix
from .contractive import Contractive, JacobianProjection, R1Penalty
from .factory import deserialize, from_kwargs, serialize
from .depth import StochasticDepth
from .montecarlo import mc_predict
from .parametrize import (MAX_ORTHOGONAL_SIZE, ORTHOGONAL_METHODS,
                          Orthogonal, Parametrized, WeightNorm, parametrize)
from .spectral import SRIP, SpectralNorm
from .stochastic import (AlphaDropout, BernoulliDropout, GaussianNoise,
                         dropout_mask, inverted_dropout)
from .training import (ParamUpdates, apply_update_hooks, penalty_terms,
                       total_penalty)
from .updates import (DecoupledWeightDecay, MaxNorm, MinMaxNorm, NonNeg,
                      UnitNorm)
from .weight_changes import DropConnect, SpectralNormalization
from .weights import L2SP, WeightL1, WeightL2

__all__ = [
    "Regularizer", "WeightL2", "WeightL1", "HiddenL1", "HiddenL2",
    "KLSparsity", "Contractive", "RecurrentNorm", "RecurrentState",
    "BernoulliDropout", "GaussianNoise", "MaxNorm", "DecoupledWeightDecay",
    "L2SP", "ConfidencePenalty", "NonNeg", "UnitNorm", "MinMaxNorm",
    "AlphaDropout", "mc_predict", "R1Penalty", "JacobianProjection",
    "SpectralNorm", "SRIP", "SpectralNormalization", "DropConnect",
    "StochasticDepth",
    "ParamUpdates", "REGISTRY", "from_kwargs", "total_penalty",
    "penalty_terms", "apply_update_hooks", "audit", "Audit", "term_labels",
    "serialize", "deserialize", "random_updates", "dropout_mask",
    "add_clean_suffix", "change_weights", "inverted_dropout",
    "WeightNorm", "Orthogonal", "Parametrized", "parametrize",
    "ORTHOGONAL_METHODS", "MAX_ORTHOGONAL_SIZE",
]
