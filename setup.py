"""Packaging for regkit."""
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(*parts):
    with open(os.path.join(HERE, *parts), encoding="utf-8") as handle:
        return handle.read()


VERSION = re.search(r'^__version__ = "([^"]+)"', read("regkit", "__init__.py"),
                    re.M).group(1)

setup(
    name="regkit-nn",
    version=VERSION,
    description="Regularization for symbolic Theano and PyTensor graphs: "
                "penalties, tagged layer parameters, dropout and noise",
    long_description=read("README.md"),
    long_description_content_type="text/markdown",
    author="The regkit developers",
    license="MIT",
    license_files=["LICENSE"],
    packages=find_packages(include=["regkit", "regkit.*"]),
    # Theano 1.0.5 runs on Python 3.11 only; PyTensor from 3.0.7 (the
    # newest release for Python 3.11) to the newest 3.x (Python >= 3.12)
    python_requires=">=3.11",
    install_requires=["numpy"],
    extras_require={
        "theano": ['Theano==1.0.5; python_version < "3.12"', "numpy<1.24",
                   "scipy<1.11"],
        "pytensor": ["pytensor>=3.0.7,<4"],
        "jax": ['jax; python_version >= "3.12"'],
        # PyTensor's MLX linker (PyTensor >= 3.3, so Python >= 3.12); the
        # CPU build on Linux, Apple's own on macOS
        "mlx": ['mlx[cpu]; python_version >= "3.12" and sys_platform == "linux"',
                'mlx; python_version >= "3.12" and sys_platform == "darwin"'],
        "torch": ["torch>=2.5"],
        "pymc": ['pymc>=6; python_version >= "3.12"'],
        "pytensor-ml": ['pytensor-ml>=0.3; python_version >= "3.12"'],
        "test": ["pytest>=7", "pytest-cov>=4", "pytest-xdist>=3",
                 "hypothesis>=6", "build>=1", "twine>=5"],
        "docs": ["sphinx>=7", "numpydoc>=1.6"],
        "demo": ["scikit-learn>=1.3", "matplotlib>=3.7", "tqdm>=4.60"],
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Science/Research",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
