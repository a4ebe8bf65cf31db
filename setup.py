"""Package list for setuptools (metadata lives in pyproject.toml).

The templates ``makemigrations`` renders live in the top-level
``migrations_template/`` folder; they install as the package
``reinhardt_db._templates`` (read with ``importlib.resources``), in editable
and normal installs alike.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["reinhardt_db", "reinhardt_db.*"]), "reinhardt_db._templates"],
    package_dir={"reinhardt_db._templates": "migrations_template"},
)
