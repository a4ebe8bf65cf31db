"""The commands of ``reinhardt``: one module each, registered on ``app`` when imported.

To add a command, write ``commands/<name>.py`` with an ``@app.command()`` function
and import it here.
"""

from reinhardt_db.cli.commands import check as check
from reinhardt_db.cli.commands import dbshell as dbshell
from reinhardt_db.cli.commands import makemigrations as makemigrations
from reinhardt_db.cli.commands import showmigrations as showmigrations
