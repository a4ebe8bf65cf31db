"""ORM benchmark (``python -m benchmarks orm [sqlite|postgresql|mysql ...]``)."""
