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


def test_readme_code_runs():
    import re

    import numpy as np

    readme = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
    with open(readme, encoding="utf-8") as handle:
        blocks = re.findall(r"```python\n(.*?)```", handle.read(), re.S)
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks:
        exec(block, namespace)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 784)).astype(namespace["backend"].floatX)
    Y = np.arange(8).astype("int32")
    first = float(namespace["train"](X, Y))
    for _ in range(5):
        last = float(namespace["train"](X, Y))
    assert np.isfinite(first) and last < first


def test_penalty_figure_script_shows_what_the_docs_say():
    script = os.path.join(os.path.dirname(__file__), os.pardir, "docs",
                          "penalty_shapes.py")
    module = runpy.run_path(script)
    x, y, _ = module["make_data"]()
    trained = {title: module["train"](penalty, coefficient, kwargs, x, y,
                                      steps=400)
               for title, penalty, coefficient, kwargs in module["SETUPS"]
               if title in ("none", "l2", "group_lasso")}
    import numpy as np

    def irrelevant(w):  # mean |w| on the 10 inputs that do not matter
        return np.abs(w[6:]).mean()

    assert irrelevant(trained["group_lasso"]) < 0.2 * irrelevant(
        trained["none"])
    assert (trained["l2"] ** 2).sum() < (trained["none"] ** 2).sum()
