"""Synthetic data for the demo, the tests and the benchmarks: enterprises with valid codes
and realistic records of every category. Not part of the data contract (`schemas/`)."""
