"""Benchmarks: each workload against the raw driver on the same backend, in the same run."""
