"""The initialisers and the layer RNG (regkit/init.py)."""
import numpy as np
import pytest

from regkit import layers as L
from regkit.layers import Constant, GlorotUniform


def test_initialisers():
    w = GlorotUniform(gain=2.0, rng=np.random.default_rng(1))((10, 6))
    assert np.abs(w).max() <= 2.0 * np.sqrt(6.0 / 16)
    conv = GlorotUniform()((8, 4, 3, 3))
    assert np.abs(conv).max() <= np.sqrt(6.0 / ((4 + 8) * 9))
    with pytest.raises(ValueError, match="at least 2"):
        GlorotUniform()((5,))
    np.testing.assert_array_equal(Constant(2.0)((2, 2)), np.full((2, 2), 2.0))
    # Lasagne's gain="relu" means sqrt(2); seeds are taken as rng
    assert GlorotUniform(gain="relu").gain == np.sqrt(2.0)
    np.testing.assert_array_equal(GlorotUniform(rng=5)((3, 2)),
                                  GlorotUniform(rng=5)((3, 2)))
    for gain in (0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="GlorotUniform: gain"):
            GlorotUniform(gain=gain)
    for gain in ("tanh", None):
        with pytest.raises(TypeError, match="GlorotUniform: gain"):
            GlorotUniform(gain=gain)
    with pytest.raises(TypeError, match="GlorotUniform: rng"):
        GlorotUniform(rng="seed")
    with pytest.raises(TypeError, match="Constant: value"):
        Constant("0")
    with pytest.raises(ValueError, match="Constant: value must be finite"):
        Constant(np.nan)
    with pytest.raises(TypeError, match="rng"):
        L.set_rng("seed")
    L.set_rng(np.random.RandomState(3))
    assert isinstance(L.get_rng(), np.random.RandomState)
    L.set_rng(L.DEFAULT_SEED)
