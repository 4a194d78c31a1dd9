"""The built-in search spaces. This folder ships inside the package as
``automl_bench.search_spaces`` (see setup.py), so a config names a space from any folder by its
path (``search_spaces/mlp.py``) or by its bare name (``mlp``)."""
