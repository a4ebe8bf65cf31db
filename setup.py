"""Package list for setuptools (metadata lives in pyproject.toml).

The templates ``makemigrations`` renders live in the top-level
``migrations_template/`` folder; they install as the package
``reinhardt_db._templates`` (read with ``importlib.resources``), in editable
and normal installs alike. One optional C extension makes the row readers'
blank instances (``reinhardt_db/models/_speedups.c``).
"""

from setuptools import Extension, find_packages, setup

setup(
    packages=[*find_packages(include=["reinhardt_db", "reinhardt_db.*"]), "reinhardt_db._templates"],
    package_dir={"reinhardt_db._templates": "migrations_template"},
    # Optional: without a C compiler the install goes on and the readers use
    # the same functions in Python (reinhardt_db/models/_instances.py).
    ext_modules=[
        Extension(
            "reinhardt_db.models._speedups", ["reinhardt_db/models/_speedups.c"], optional=True
        ),
    ],
)
