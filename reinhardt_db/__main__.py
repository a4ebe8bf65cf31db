"""Run the ``reinhardt`` command line: ``python -m reinhardt_db ...``."""

from reinhardt_db.cli import main

if __name__ == "__main__":
    main(prog_name="python -m reinhardt_db")
