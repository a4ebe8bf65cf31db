"""``ContentType``: one row per model, so a row can point at "any model".

::

    ct = await ContentType.objects.get_for_model(Post)     # created on first use, then cached
    ct.model_class() is Post
    post = await ct.get_object_for_this_type(pk=1)
    same = await ContentType.objects.get_for_id(ct.pk)    # cached too

The manager caches content types per database alias (ids differ between
databases): ``get_for_model`` / ``get_for_models`` / ``get_for_id`` run a
query only the first time (inside a transaction, a type is cached when the
transaction commits: a rollback may take its row away).
``ContentType.objects.clear_cache()`` forgets them (new settings do too).
Two tasks asking for a model's type at once are safe: the ``(app_label,
model)`` pair is unique and the loser of the insert reads the winner's row
(``get_or_create``).
"""

from __future__ import annotations

from typing import Any

from reinhardt_db import models
from reinhardt_db.apps import apps
from reinhardt_db.conf import on_settings_changed
from reinhardt_db.routers import db_for
from reinhardt_db.transaction import on_commit

__all__ = ["ContentType", "ContentTypeManager"]

# (alias, app_label, model_name) -> ContentType and (alias, id) -> ContentType.
_BY_NAME: dict[tuple[str, str, str], ContentType] = {}
_BY_ID: dict[tuple[str, Any], ContentType] = {}


def _clear() -> None:
    _BY_NAME.clear()
    _BY_ID.clear()


on_settings_changed(_clear)  # another database may now sit behind an alias


def _model_of(model: Any) -> Any:
    """The model class of ``model`` (a class or an instance); ``TypeError`` otherwise."""
    cls = model if isinstance(model, type) else type(model)
    meta = getattr(cls, "_meta", None)
    if meta is None or getattr(meta, "abstract", False):
        raise TypeError(
            f"get_for_model() takes a concrete model class or instance, got {model!r}"
        )
    return cls


def natural_key_of(model: Any) -> tuple[str, str]:
    """``(app_label, model_name)`` of a model class: what its ``ContentType`` row holds."""
    meta = model._meta
    return meta.app_label, meta.model_name


class ContentTypeManager(models.Manager["ContentType"]):
    """``ContentType.objects``: content types by model, id or natural key, cached per database."""

    def _write_alias(self) -> str:
        return db_for(self.model, self._db, write=True)

    def _remember(self, alias: str, ct: ContentType) -> ContentType:
        def store() -> None:
            _BY_NAME[(alias, ct.app_label, ct.model)] = ct
            _BY_ID[(alias, ct.pk)] = ct

        # Inside a transaction the row may be one it created: cache it once that commits
        # (a rollback would leave an id that exists nowhere). Outside one: at once.
        on_commit(store, using=alias)
        return ct

    def cached_for_model(self, model: Any, using: str | None = None) -> ContentType | None:
        """The cached ``ContentType`` of ``model`` on ``using``, or None (never a query)."""
        alias = using or self._write_alias()
        return _BY_NAME.get((alias, *natural_key_of(_model_of(model))))

    async def get_for_model(self, model: Any) -> ContentType:
        """Return the ``ContentType`` of ``model`` (class or instance), creating it if needed."""
        cls = _model_of(model)
        alias = self._write_alias()
        app_label, name = natural_key_of(cls)
        found = _BY_NAME.get((alias, app_label, name))
        if found is None:
            # get_or_create: a concurrent first call hits the unique pair and reads its row.
            found, _ = await self.db_manager(alias).get_or_create(app_label=app_label, model=name)
            self._remember(alias, found)
        return found

    async def get_for_models(self, *models_: Any) -> dict[Any, ContentType]:
        """Return ``{model: ContentType}`` for ``models_``: one query for the uncached ones
        (and an insert for each that has no row yet)."""
        alias = self._write_alias()
        classes = [_model_of(m) for m in models_]
        result: dict[Any, ContentType] = {}
        missing: dict[tuple[str, str], list[Any]] = {}
        for cls in classes:
            key = natural_key_of(cls)
            found = _BY_NAME.get((alias, *key))
            if found is None:
                missing.setdefault(key, []).append(cls)
            else:
                result[cls] = found
        if missing:
            labels = {label for label, _ in missing}
            names = {name for _, name in missing}
            rows = await self.db_manager(alias).filter(app_label__in=labels, model__in=names)
            for ct in rows:
                wanting = missing.pop((ct.app_label, ct.model), None)
                if wanting is not None:
                    self._remember(alias, ct)
                    for cls in wanting:
                        result[cls] = ct
            for wanting in missing.values():
                created = await self.get_for_model(wanting[0])
                for cls in wanting:
                    result[cls] = created
        return result

    async def get_for_id(self, id: Any) -> ContentType:
        """Return the ``ContentType`` with primary key ``id`` (cached); ``DoesNotExist`` else."""
        alias = db_for(self.model, self._db)
        found = _BY_ID.get((alias, id))
        if found is None:
            found = self._remember(alias, await self.db_manager(alias).get(pk=id))
        return found

    async def get_for_ids(self, *ids: Any) -> dict[Any, ContentType]:
        """Return ``{id: ContentType}`` for the ids that exist: one query for the uncached ones."""
        alias = db_for(self.model, self._db)
        result: dict[Any, ContentType] = {}
        missing = []
        for id_ in ids:
            found = _BY_ID.get((alias, id_))
            if found is None:
                missing.append(id_)
            else:
                result[id_] = found
        if missing:
            for ct in await self.db_manager(alias).filter(pk__in=missing):
                result[ct.pk] = self._remember(alias, ct)
        return result

    async def get_by_natural_key(self, app_label: str, model: str) -> ContentType:
        """Return the ``ContentType`` for ``(app_label, model)`` (cached); ``DoesNotExist`` else."""
        alias = db_for(self.model, self._db)
        found = _BY_NAME.get((alias, app_label, model.lower()))
        if found is None:
            found = self._remember(
                alias, await self.db_manager(alias).get(app_label=app_label, model=model.lower())
            )
        return found

    def clear_cache(self) -> None:
        """Forget every cached content type (on every database)."""
        _clear()


class ContentType(models.Model):
    """A model of the project, by ``app_label`` and lower-case ``model`` name."""

    app_label = models.CharField(max_length=100)
    model = models.CharField(max_length=100)

    objects = ContentTypeManager()

    class Meta:
        app_label = "contenttypes"
        db_table = "reinhardt_content_type"
        unique_together = [("app_label", "model")]
        verbose_name = "content type"

    def __str__(self) -> str:
        return f"{self.app_label}.{self.model}"

    def __repr__(self) -> str:
        return f"<ContentType: {self.app_label}.{self.model}>"

    @property
    def name(self) -> str:
        """The model's verbose name, or the stored model name for a stale type."""
        model = self.model_class()
        return str(self.model) if model is None else model._meta.verbose_name

    def natural_key(self) -> tuple[str, str]:
        """``(app_label, model)``."""
        return self.app_label, self.model

    def model_class(self) -> Any:
        """The model class this type stands for, or None when no such model is registered."""
        try:
            return apps.get_model(self.app_label, self.model)
        except LookupError:
            return None

    def _model_or_error(self) -> Any:
        model = self.model_class()
        if model is None:
            raise LookupError(
                f"ContentType {self.app_label}.{self.model} is stale: no model "
                f"'{self.app_label}.{self.model}' is registered (was it renamed or removed? "
                "Delete the row, or register the model)."
            )
        return model

    async def get_object_for_this_type(self, **kwargs: Any) -> Any:
        """Return the instance of this type matching ``kwargs`` (``DoesNotExist`` otherwise)."""
        model = self._model_or_error()
        return await model._meta.base_manager.db_manager(self._state.db).get(**kwargs)

    def get_all_objects_for_this_type(self, **kwargs: Any) -> Any:
        """Return a QuerySet of the instances of this type matching ``kwargs`` (await it)."""
        model = self._model_or_error()
        return model._meta.base_manager.db_manager(self._state.db).filter(**kwargs)
