"""Templates rendered by ``makemigrations`` (installed as ``reinhardt_db._templates``)."""
