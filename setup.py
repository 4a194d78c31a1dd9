"""Which packages the distribution holds; everything else is in pyproject.toml.

The repository's top-level search_spaces/ and configs/ folders stay where they are and ship inside
the package as automl_bench.search_spaces and automl_bench.configs, so the built-in spaces, the
example configs and the price table are found after ``pip install .`` from any folder
(automl_bench/locate.py finds them with importlib.resources), and after ``pip install -e .`` too.
"""

from setuptools import find_packages, setup

SHIPPED = {"automl_bench.search_spaces": "search_spaces", "automl_bench.configs": "configs"}

setup(
    packages=[*find_packages(include=["automl_bench", "automl_bench.*"]), *SHIPPED],
    package_dir=SHIPPED,
)
