"""``Migrator``: test a data migration end to end on a real database.

::

    async def test_full_name_is_filled(migrator):
        apps = await migrator.migrate("people", "0002_person_full_name")
        Person = apps.get_model("people", "Person")      # the model as of 0002
        await Person.objects.create(first="Ada", last="Lovelace")

        apps = await migrator.migrate("people", "0003_fill_full_name")
        Person = apps.get_model("people", "Person")
        assert (await Person.objects.get()).full_name == "Ada Lovelace"

The ``migrator`` pytest fixture (``reinhardt_db.testing.pytest_plugin``) gives
one and unapplies every migration at the end of the test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reinhardt_db.conf import DEFAULT_DATABASE_ALIAS

if TYPE_CHECKING:
    from reinhardt_db.apps import Apps
    from reinhardt_db.migrations._rendering import StateApps
    from reinhardt_db.migrations.executor import Plan

__all__ = ["Migrator"]


class Migrator:
    """Migrate a test database step by step and hand out the historical models of each step.

    ``database`` is the alias to migrate; ``registry`` the app registry whose
    apps' migrations count (default: the project's, ``reinhardt_db.apps``).
    """

    def __init__(
        self, database: str = DEFAULT_DATABASE_ALIAS, *, registry: Apps | None = None
    ) -> None:
        self.database = database
        self.registry = registry
        #: Every plan run so far, in order.
        self.history: list[Plan] = []

    def __repr__(self) -> str:
        return f"<Migrator {self.database!r}>"

    def _loader_kwargs(self) -> dict[str, Any]:
        return {} if self.registry is None else {"registry": self.registry}

    async def migrate(
        self, app_label: str | None = None, migration: str | None = None
    ) -> StateApps:
        """Migrate to ``[app_label [migration|"zero"]]`` (as ``reinhardt migrate`` would).

        Return the historical models as of the migrations now applied:
        ``apps.get_model("blog", "Post")``. ``migration`` may be a number
        prefix (``"0002"``).
        """
        from reinhardt_db.backends import connections
        from reinhardt_db.migrations.executor import MigrationExecutor, migrate_database

        _load_project()
        db = connections[self.database]
        plan = await migrate_database(db, app_label, migration, **self._loader_kwargs())
        self.history.append(plan)
        executor = await MigrationExecutor.create(db, **self._loader_kwargs())
        return executor.applied_state().apps

    async def reset(self) -> None:
        """Unapply every migration of every app, last first (the database is left empty)."""
        from reinhardt_db.backends import connections
        from reinhardt_db.migrations.executor import MigrationExecutor

        _load_project()
        db = connections[self.database]
        executor = await MigrationExecutor.create(db, **self._loader_kwargs())
        targets = [(label, None) for label in sorted(executor.loader.migrated_apps)]
        plan = executor.migration_plan(targets)
        await executor.migrate(plan)


def _load_project() -> None:
    # The installed apps (and their models) must be imported for their migrations
    # to be found, as the CLI does before every command.
    from reinhardt_db.cli.commands.makemigrations import load_project

    load_project()
