"""``MigrationLoader``: find the migration files of the installed apps and build the graph.

For each installed app ``<package>``, migrations are the modules
``<package>/migrations/NNNN_name.py`` (names starting with ``_`` or ``~`` are
skipped). Each must define ``class Migration(migrations.Migration)``. The
state of the models at any point comes from replaying these files in graph
order (``project_state()``), never from the database.

The loader does no I/O on the database itself: pass the recorder's
``applied_migrations()`` (or use ``await MigrationLoader.from_database(db)``)
to know which squashed replacements apply.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from reinhardt_db.apps.hints import did_you_mean
from reinhardt_db.migrations.exceptions import (
    AmbiguityError,
    BadMigrationError,
    ConflictingMigrationsError,
    InconsistentMigrationHistory,
    NodeNotFoundError,
    format_key,
)
from reinhardt_db.migrations.graph import Key, MigrationGraph
from reinhardt_db.migrations.migration import Migration

if TYPE_CHECKING:
    from reinhardt_db.apps import Apps
    from reinhardt_db.backends import Database
    from reinhardt_db.migrations.state import ProjectState

__all__ = ["MIGRATIONS_MODULE_NAME", "MigrationLoader"]

MIGRATIONS_MODULE_NAME = "migrations"


class MigrationLoader:
    """Load migrations from disk and build ``self.graph``.

    ``applied``: the applied migrations (keys), used to choose between a
    squashed migration and the ones it replaces; ``None`` means unknown
    (replacements are used). ``replace_migrations=False`` keeps the replaced
    migrations in the graph instead.
    """

    def __init__(
        self,
        applied: Iterable[Key] | Mapping[Key, Any] | None = None,
        *,
        registry: Apps | None = None,
        replace_migrations: bool = True,
        load: bool = True,
    ) -> None:
        if registry is None:
            from reinhardt_db.apps import apps as project_apps

            registry = project_apps
        self.registry: Apps = registry
        self.applied: dict[Key, Any] = (
            dict(applied) if isinstance(applied, Mapping)
            else dict.fromkeys(applied or ()) if applied is not None else {}
        )
        self.replace_migrations = replace_migrations
        self.disk_migrations: dict[Key, Migration] = {}
        self.migrated_apps: set[str] = set()
        self.unmigrated_apps: set[str] = set()
        self.graph = MigrationGraph()
        self.replacements: dict[Key, Migration] = {}
        if load:
            self.build_graph()

    @classmethod
    async def from_database(cls, db: Database, **kwargs: Any) -> MigrationLoader:
        """Return a loader that knows what ``db`` has applied."""
        from reinhardt_db.migrations.recorder import MigrationRecorder

        applied = await MigrationRecorder(db).applied_migrations()
        return cls(applied, **kwargs)

    # -- discovery ------------------------------------------------------------------

    def migrations_module(self, app_label: str) -> str:
        """Return the dotted name of ``app_label``'s migrations package."""
        return f"{self.registry.get_app_config(app_label).name}.{MIGRATIONS_MODULE_NAME}"

    def load_disk(self) -> None:
        """Import the migration files of every installed app."""
        self.disk_migrations = {}
        self.migrated_apps = set()
        self.unmigrated_apps = set()
        importlib.invalidate_caches()
        for config in self.registry.get_app_configs():
            if not config.installed:
                continue
            module = self._import_package(f"{config.name}.{MIGRATIONS_MODULE_NAME}", config.label)
            if module is None:
                self.unmigrated_apps.add(config.label)
                continue
            self.migrated_apps.add(config.label)
            for name in sorted(self._migration_names(module)):
                migration = self._load_migration(module, name, config.label)
                self.disk_migrations[config.label, name] = migration

    def _import_package(self, module_name: str, app_label: str) -> ModuleType | None:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise BadMigrationError(
                f"Cannot import the migrations of app '{app_label}' ({module_name}): {exc}"
            ) from exc
        if not hasattr(module, "__path__"):
            return None  # a migrations.py module, not a package
        return module

    @staticmethod
    def _migration_names(module: ModuleType) -> set[str]:
        return {
            info.name for info in pkgutil.iter_modules(module.__path__)
            if not info.ispkg and info.name[0] not in "_~"
        }

    def _load_migration(self, package: ModuleType, name: str, app_label: str) -> Migration:
        module_name = f"{package.__name__}.{name}"
        path = _file_of(package, name)
        try:
            if module_name in sys.modules:
                module = importlib.reload(sys.modules[module_name])
            else:
                module = importlib.import_module(module_name)
        except SyntaxError as exc:
            raise BadMigrationError(
                f"Syntax error in migration file {exc.filename or path}, line {exc.lineno}: "
                f"{exc.msg}. Fix the file or delete it."
            ) from exc
        except Exception as exc:
            raise BadMigrationError(
                f"Migration file {path} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        migration_class = getattr(module, "Migration", None)
        if not (isinstance(migration_class, type) and issubclass(migration_class, Migration)):
            raise BadMigrationError(
                f"Migration file {path} has no Migration class (expected "
                "'class Migration(migrations.Migration):')."
            )
        return migration_class(name, app_label)

    # -- the graph ------------------------------------------------------------------

    def build_graph(self) -> None:
        """Load the files and build the graph; raise on missing dependencies and cycles."""
        self.load_disk()
        self.graph = graph = MigrationGraph()
        self.replacements = {}
        for key, migration in self.disk_migrations.items():
            graph.add_node(key, migration)
            if migration.replaces:
                self.replacements[key] = migration
        for key, migration in self.disk_migrations.items():
            for parent in migration.dependencies:
                self._add_dependency(key, parent)
            for child in migration.run_before:
                self._add_run_before(key, child)
        if self.replace_migrations:
            self._apply_replacements()
        graph.validate_consistency()
        graph.ensure_not_cyclic()

    def _add_dependency(self, key: Key, parent: Key) -> None:
        resolved = self._resolve(parent, key)
        if resolved is None:
            return
        if resolved not in self.graph:
            error = NodeNotFoundError(
                f"Migration {format_key(key)} depends on nonexistent migration "
                f"{format_key(resolved)}{self._hint(resolved)}. Fix its dependencies (or add the "
                "missing migration).",
                resolved, key,
            )
            self.graph.add_dummy_node(resolved, key, error)
        self.graph.add_dependency(key, resolved)

    def _add_run_before(self, key: Key, child: Key) -> None:
        """``key`` must run before ``child``: ``child`` depends on it."""
        resolved = self._resolve(child, key)
        if resolved is None:
            return
        if resolved not in self.graph:
            raise NodeNotFoundError(
                f"Migration {format_key(key)} lists nonexistent migration "
                f"{format_key(resolved)}{self._hint(resolved)} in run_before. Fix its "
                "run_before (or add the missing migration).",
                resolved, key,
            )
        self.graph.add_dependency(resolved, key)

    def _hint(self, key: Key) -> str:
        names = [name for app, name in self.disk_migrations if app == key[0]]
        return did_you_mean(key[1], names) if names else ""

    def _resolve(self, key: Key, origin: Key) -> Key | None:
        """Resolve ``__first__``/``__latest__``; return None for unmigrated apps."""
        app, name = key[0], key[1]
        if name not in ("__first__", "__latest__"):
            return app, name
        if app in self.unmigrated_apps:
            return None  # depending on an app without migrations is allowed
        if app not in self.migrated_apps:
            raise NodeNotFoundError(
                f"Migration {format_key(origin)} depends on app '{app}', which is not "
                "installed or has no migrations.",
                key, origin,
            )
        nodes = [k for k in self.disk_migrations if k[0] == app and k != origin]
        local = MigrationGraph()
        for node in nodes:
            local.add_node(node, None)
        for node in nodes:
            for dep in self.disk_migrations[node].dependencies:
                if dep[0] == app and tuple(dep) in local:
                    local.add_dependency(node, (dep[0], dep[1]))
        if name == "__first__":
            roots = local.root_nodes(app)
            return roots[0] if roots else None
        leaves = local.leaf_nodes(app)
        return leaves[-1] if leaves else None

    def _apply_replacements(self) -> None:
        for key, migration in self.replacements.items():
            replaced = [(r[0], r[1]) for r in migration.replaces]
            applied = [r in self.applied for r in replaced]
            if all(applied) or not any(applied):
                self.graph.remove_replaced_nodes(key, replaced)
                for old in replaced:
                    self.disk_migrations.pop(old, None)
            else:
                # Partly applied: go on with the original migrations until all are done.
                self.graph.remove_replacement_node(key, replaced)

    # -- queries --------------------------------------------------------------------

    def get_migration(self, app_label: str, name: str) -> Migration:
        """Return the migration ``app_label.name``."""
        migration = self.graph.nodes.get((app_label, name))
        if migration is None:
            raise NodeNotFoundError(
                f"Cannot find a migration {app_label}.{name}{self._hint((app_label, name))}.",
                (app_label, name),
            )
        return migration

    def get_migration_by_prefix(self, app_label: str, prefix: str) -> Migration:
        """Return the one migration of ``app_label`` whose name starts with ``prefix``."""
        matches = sorted(
            name for app, name in self.graph.nodes if app == app_label and name.startswith(prefix)
        )
        if len(matches) > 1:
            raise AmbiguityError(
                f"More than one migration of '{app_label}' matches '{prefix}': "
                f"{', '.join(matches)}. Give more of the name."
            )
        if not matches:
            if app_label not in self.migrated_apps:
                raise NodeNotFoundError(
                    f"App '{app_label}' has no migrations.", (app_label, prefix)
                )
            raise NodeNotFoundError(
                f"Cannot find a migration matching '{prefix}' from app '{app_label}'"
                f"{self._hint((app_label, prefix))}.",
                (app_label, prefix),
            )
        return self.get_migration(app_label, matches[0])

    def detect_conflicts(self) -> dict[str, list[str]]:
        """Return ``{app: [leaf names]}`` for apps with more than one leaf migration."""
        conflicts: dict[str, list[str]] = {}
        for app in sorted({k[0] for k in self.graph.nodes}):
            leaves = self.graph.leaf_nodes(app)
            if len(leaves) > 1:
                conflicts[app] = [name for _, name in leaves]
        return conflicts

    def check_conflicts(self) -> None:
        """Raise ``ConflictingMigrationsError`` naming the leaves of each conflicting app."""
        conflicts = self.detect_conflicts()
        if conflicts:
            raise ConflictingMigrationsError(conflicts)

    def check_consistent_history(self) -> None:
        """Raise when an applied migration has an unapplied dependency."""
        for key in self.applied:
            if key not in self.graph.nodes:
                continue
            for parent in sorted(self.graph.parents[key]):
                if parent not in self.applied and self._counts_as_unapplied(parent):
                    raise InconsistentMigrationHistory(
                        f"Migration {format_key(key)} is applied before its dependency "
                        f"{format_key(parent)} on this database. Apply or fake "
                        f"{format_key(parent)}, or unapply {format_key(key)}."
                    )

    def _counts_as_unapplied(self, key: Key) -> bool:
        migration = self.graph.nodes.get(key)
        if migration is not None and migration.replaces:
            # A squashed migration counts as applied when all it replaces are.
            return not all((r[0], r[1]) in self.applied for r in migration.replaces)
        return True

    def project_state(
        self, nodes: Key | Iterable[Key] | None = None, at_end: bool = True
    ) -> ProjectState:
        """Return the models' state after the migrations up to ``nodes`` (default: all)."""
        return self.graph.make_state(nodes, at_end)


def _file_of(package: ModuleType, name: str) -> str:
    for directory in getattr(package, "__path__", []):
        return f"{directory}/{name}.py"
    return f"{package.__name__}.{name}"
