"""A small typed project using reinhardt_db, checked by mypy in tests/test_typing_project.py."""
