"""Sphinx configuration for the regkit documentation."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))

import regkit  # noqa: E402

project = "regkit"
author = "The regkit developers"
copyright = "2026, The regkit developers"
version = release = regkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
]
numpydoc_show_class_members = False
autodoc_member_order = "bysource"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
