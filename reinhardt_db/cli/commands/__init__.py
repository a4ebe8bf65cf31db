"""The commands of ``reinhardt``: one module each, registered on ``app`` when imported.

To add a command, write ``commands/<name>.py`` with an ``@app.command()`` function
and import it here.
"""

from reinhardt_db.cli.commands import check as check
from reinhardt_db.cli.commands import dbshell as dbshell
from reinhardt_db.cli.commands import graphmigrations as graphmigrations
from reinhardt_db.cli.commands import inspectdb as inspectdb
from reinhardt_db.cli.commands import makemigrations as makemigrations
from reinhardt_db.cli.commands import migrate as migrate
from reinhardt_db.cli.commands import showmigrations as showmigrations
from reinhardt_db.cli.commands import sqlmigrate as sqlmigrate
from reinhardt_db.cli.commands import squashmigrations as squashmigrations
from reinhardt_db.cli.commands import startapp as startapp
