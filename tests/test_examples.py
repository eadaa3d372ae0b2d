"""The example scripts run and do what they claim."""
import os
import runpy

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


def test_quickstart_loss_decreases(capsys):
    module = runpy.run_path(os.path.join(EXAMPLES, "quickstart.py"))
    module["main"](["--steps", "60"])
    out = capsys.readouterr().out
    first, last = [float(v) for v in
                   out.strip().splitlines()[-1].split()[-3::2]]
    assert last < first


def test_quickstart_rejects_bad_arguments():
    module = runpy.run_path(os.path.join(EXAMPLES, "quickstart.py"))
    with pytest.raises(SystemExit):
        module["main"](["--steps", "many"])
