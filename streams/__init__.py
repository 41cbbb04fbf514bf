"""Enforcement in flight: the faust worker, its fan-out, audit and dead letters."""
