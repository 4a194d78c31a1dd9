"""The example configs and the price table. This folder ships inside the package as
``automl_bench.configs`` (see setup.py), so ``cost.prices: configs/prices.yaml`` (the default) and
``automl-bench run quickstart`` work from any folder."""
