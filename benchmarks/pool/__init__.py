"""Pool benchmark (``python -m benchmarks pool``)."""
