"""The argument validators of regkit._checks (private helpers every
public function uses)."""
import numpy as np
import pytest

from regkit._checks import check_positive
from regkit._checks import normalize_axes


def test_check_positive():
    assert check_positive(np.float32(2), "f", "a") == 2.0
    assert check_positive(0, "f", "a", allow_zero=True) == 0.0
    with pytest.raises(TypeError, match="f: a must be a number"):
        check_positive(True, "f", "a")


def test_normalize_axes():
    assert normalize_axes(-1, 2, "f") == (1,)
    assert normalize_axes([3, 0], 4, "f") == (0, 3)
    assert normalize_axes(np.int64(1), 2, "f") == (1,)
