"""``GenericForeignKey`` and ``GenericRelation``: a relation to a row of any model.

::

    class Comment(models.Model):
        content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
        object_id = models.PositiveIntegerField()
        content_object = GenericForeignKey("content_type", "object_id")

    class Post(models.Model):
        comments = GenericRelation(Comment, related_query_name="post")

    await Comment.objects.create(content_object=post, text="hi")
    comments = await Comment.objects.prefetch_related("content_object")
    await post.comments.count(); await Post.objects.filter(comments__text="hi")

No attribute read runs a query: ``comment.content_object`` is the object
loaded by ``prefetch_related("content_object")`` or
``await comment.fetch_related("content_object")`` (or assigned), else
``RelationNotLoaded``.

Assigning needs the target's ``ContentType`` id, which may take a query: it is
taken from the manager's cache when there (``get_for_model`` on that database
fills it; so do prefetches and ``post.comments``), else ``save()`` (and
``create()``) looks it up before writing (one query, then cached).
``bulk_create()`` sends no ``pre_save`` and cannot look it up: call
``await ContentType.objects.get_for_models(...)`` first.

Queries across a generic relation join on the object id *and* the content
type (``content_type_id = (SELECT id FROM reinhardt_content_type WHERE ...)``,
so nothing needs to be known before the query runs). An ``object_id`` held in
a text column is compared with the target's key cast to that column's type
(``db.ops.cast``: PostgreSQL compares no text with integers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reinhardt_db import exceptions as exc
from reinhardt_db.backends import connections
from reinhardt_db.contenttypes.models import ContentType, natural_key_of
from reinhardt_db.contenttypes.related_managers import GenericRelationDescriptor
from reinhardt_db.models.deletion import batch_size
from reinhardt_db.models.fields.related import _wait_for, lazy_related_operation
from reinhardt_db.models.fields.related_descriptors import PREFETCH_CACHE
from reinhardt_db.models.on_delete import CASCADE, DO_NOTHING
from reinhardt_db.models.signals import pre_save
from reinhardt_db.models.sql.joins import PathStep

__all__ = ["GenericForeignKey", "GenericRelation"]

_MISSING = object()


def _is_instance(value: Any) -> bool:
    return hasattr(type(value), "_meta") and not isinstance(value, type)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _sorted(keys: Iterable[Any]) -> list[Any]:
    try:
        return sorted(keys)
    except TypeError:
        return list(keys)


def _refuse_abstract(cls: type[Any], name: str, kind: str) -> None:
    if cls._meta.abstract:
        raise exc.FieldError(
            f"{cls.__name__}.{name}: a {kind} cannot be declared on an abstract model (models "
            "inheriting from it would not get it); declare it on each concrete model."
        )


class GenericForeignKey(property):
    """``content_object``: the row named by a content type column and an object id column.

    Not a column itself. ``ct_field`` names a ``ForeignKey`` to ``ContentType``,
    ``fk_field`` the field holding the target's primary key (an integer field,
    or a text field holding keys of any type). Filtering on it is refused
    (``FieldError``): filter on ``content_type=`` and ``object_id=``.
    """

    is_relation = True
    concrete = False
    many_to_one = True
    many_to_many = False
    one_to_one = False
    related_model = None  # rows of any model

    def __init__(self, ct_field: str = "content_type", fk_field: str = "object_id") -> None:
        super().__init__()
        self.ct_field = ct_field
        self.fk_field = fk_field
        self.name = ""
        self.model: Any = None
        self.cache_name = ""

    def __repr__(self) -> str:
        return f"GenericForeignKey({self.ct_field!r}, {self.fk_field!r})"

    # -- definition ------------------------------------------------------------------------
    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        """Register on ``cls`` as ``name``: checks the two fields and hooks ``save()``."""
        self.name = name
        self.model = cls
        self.cache_name = f"_{name}_cache"
        self.key_name = f"_{name}_key"  # (content type id, object id) the cache belongs to
        self.pending_name = f"_{name}_pending"  # the target's model, type id not known yet
        meta = cls._meta
        _refuse_abstract(cls, name, "GenericForeignKey")
        for role, field_name in (("ct_field", self.ct_field), ("fk_field", self.fk_field)):
            if field_name not in meta.fields_map:
                raise exc.FieldError(
                    f"{cls.__name__}.{name}: GenericForeignKey's {role} names "
                    f"{field_name!r}, which is no field of {cls.__name__}; declare it (a "
                    "ForeignKey to ContentType and a field holding the object's key)."
                )
        if not getattr(meta.fields_map[self.ct_field], "many_to_one", False):
            raise exc.FieldError(
                f"{cls.__name__}.{name}: {self.ct_field!r} must be a ForeignKey to ContentType."
            )
        meta.private_fields.append(self)
        setattr(cls, name, self)
        pre_save.connect(self._resolve_on_save, sender=cls)

    @property
    def ct(self) -> Any:
        """The content type foreign key field."""
        return self.model._meta.fields_map[self.ct_field]

    @property
    def fk(self) -> Any:
        """The object id field."""
        return self.model._meta.fields_map[self.fk_field]

    # -- instances -------------------------------------------------------------------------
    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        if instance is None:
            return self
        values = instance.__dict__
        key = (values.get(self.ct.attname), values.get(self.fk.attname))
        cached = values.get(self.cache_name, _MISSING)
        if cached is not _MISSING and values.get(self.key_name) == key:
            return cached
        if key[0] is None or key[1] is None:
            return None
        model = type(instance).__name__
        raise exc.RelationNotLoaded(
            f"{model}.{self.name} is not loaded, and reading it never runs a query. Load it "
            f"with {model}.objects.prefetch_related({self.name!r}) on the query, or with "
            f"await {model.lower()}.fetch_related({self.name!r}) on the instance."
        )

    def __set__(self, instance: Any, value: Any) -> None:
        values = instance.__dict__
        ct, fk = self.ct, self.fk
        values.pop(self.pending_name, None)
        if value is None:
            values[ct.attname] = values[fk.attname] = None
            values[ct.cache_name] = values[self.cache_name] = None
            values[self.key_name] = (None, None)
            return
        if not _is_instance(value):
            raise ValueError(
                f"Cannot assign {value!r}: {type(instance).__name__}.{self.name} must be a "
                "model instance (or None)."
            )
        if value.pk is None:
            raise ValueError(
                f"Cannot assign {value!r} to {type(instance).__name__}.{self.name}: it has no "
                "primary key yet; save it first."
            )
        object_id = fk.to_python(value.pk)
        type_ = ContentType.objects.cached_for_model(type(value), using=value._state.db)
        values[fk.attname] = object_id
        if type_ is None:  # resolved by save() (pre_save), see the module doc
            values[ct.attname] = None
            values.pop(ct.cache_name, None)
            values[self.pending_name] = type(value)
        else:
            values[ct.attname] = type_.pk
            values[ct.cache_name] = type_
        values[self.cache_name] = value
        values[self.key_name] = (values[ct.attname], object_id)

    async def _resolve_on_save(self, sender: Any, instance: Any, using: str, **kwargs: Any) -> None:
        values = instance.__dict__
        model = values.pop(self.pending_name, None)
        ct = self.ct
        if model is None or values.get(ct.attname) is not None:
            return  # nothing pending, or the column was set by hand since
        type_ = await ContentType.objects.db_manager(using).get_for_model(model)
        values[ct.attname] = type_.pk
        values[ct.cache_name] = type_
        if values.get(self.key_name) == (None, values.get(self.fk.attname)):
            values[self.key_name] = (type_.pk, values.get(self.fk.attname))

    def link(self, holder: Any, target: Any, type_: Any) -> None:
        """Record ``target`` (of content type ``type_``) as ``holder``'s loaded object."""
        values = holder.__dict__
        values[self.cache_name] = target
        values[self.key_name] = (values.get(self.ct.attname), values.get(self.fk.attname))
        if type_ is not None:
            values[self.ct.cache_name] = type_

    # -- prefetching -----------------------------------------------------------------------
    async def prefetch_objects(
        self, objs: list[Any], alias: str, queryset: Any, to_attr: str | None
    ) -> list[Any]:
        """Load the targets of ``objs``: the content types, then one query per target model."""
        ct_attname, fk_attname = self.ct.attname, self.fk.attname
        wanted: dict[Any, list[Any]] = {}
        for obj in objs:
            values = obj.__dict__
            key = (values.get(ct_attname), values.get(fk_attname))
            if key[0] is None or key[1] is None:
                if to_attr is not None:
                    setattr(obj, to_attr, None)
                continue
            if to_attr is None and self.cache_name in values and values.get(self.key_name) == key:
                continue  # loaded already
            wanted.setdefault(key[0], []).append(obj)
        if not wanted:
            return []
        types = await ContentType.objects.db_manager(alias).get_for_ids(*wanted)
        size = batch_size(connections[alias])
        found: dict[tuple[Any, Any], Any] = {}
        for type_id, holders in wanted.items():
            type_ = types.get(type_id)
            model = None if type_ is None else type_.model_class()
            if model is None:
                continue  # a stale or missing content type: nothing to load
            pk = model._meta.pk
            keys = set()
            for holder in holders:
                try:
                    keys.add(pk.to_python(holder.__dict__[fk_attname]))
                except (exc.ValidationError, ValueError, TypeError):
                    continue  # an id this model's key cannot be: no such row
            if queryset is not None and queryset.model is model:
                base = queryset if queryset._db is not None else queryset.using(alias)
            else:
                base = model._meta.base_manager.db_manager(alias).all()
            for chunk in _chunks(_sorted(keys), size):
                for row in await base.filter(pk__in=chunk):
                    found[(type_id, row.pk)] = row
        loaded = []
        for type_id, holders in wanted.items():
            type_ = types.get(type_id)
            model = None if type_ is None else type_.model_class()
            for holder in holders:
                target = None
                if model is not None:
                    try:
                        pk_value = model._meta.pk.to_python(holder.__dict__[fk_attname])
                    except (exc.ValidationError, ValueError, TypeError):
                        pk_value = None
                    target = found.get((type_id, pk_value))
                if to_attr is not None:
                    setattr(holder, to_attr, target)
                    if type_ is not None:
                        holder.__dict__[self.ct.cache_name] = type_
                else:
                    self.link(holder, target, type_)
                if target is not None:
                    loaded.append(target)
        return loaded


@dataclass(frozen=True)
class GenericJoin:
    """The join condition of a generic relation (``PathStep.join``).

    ``holder.object_id = key`` (the key cast to the object id's type when that
    is text and the key is not) and ``holder.content_type_id`` = the id of the
    target model's content type, read by a scalar subquery. ``holder_right``:
    the table holding the generic foreign key is the one the hop reaches.
    """

    app_label: str
    model_name: str
    key_field: Any
    object_id_field: Any
    ct_field: Any
    holder_right: bool

    def condition(self, step: Any, left: Any, right: Any, ctx: Any) -> Any:
        """Build ``holder.object_id = key AND holder.content_type_id = (SELECT ...)``."""
        holder, target = (right, left) if self.holder_right else (left, right)
        key = target.c[self.key_field.column]
        object_id = self.object_id_field
        if isinstance(object_id.column_type(), sa.String) and not isinstance(
            self.key_field.column_type(), sa.String
        ):
            key = ctx.ops.cast(key, object_id)
        types = ctx.new_alias(ContentType._meta.table)
        type_id = sa.select(types.c.id).where(
            types.c.app_label == ctx.const(self.app_label),
            types.c.model == ctx.const(self.model_name),
        ).scalar_subquery()
        return sa.and_(holder.c[object_id.column] == key, holder.c[self.ct_field.column] == type_id)


class GenericRelation:
    """The reverse side of a ``GenericForeignKey``, declared on the target model.

    ``post.comments`` is a manager of the rows pointing at the post;
    ``Post.objects.filter(comments__text="x")`` joins them;
    ``prefetch_related("comments")`` loads them; deleting a post deletes them
    (in batches, through the deletion collector). ``related_query_name`` lets
    queries go the other way: ``Comment.objects.filter(post__title="x")``.
    """

    is_relation = True
    concrete = False
    many_to_one = False
    many_to_many = False
    one_to_one = False
    one_to_many = True
    hidden = False
    null = True
    auto_created = False
    editable = False
    on_delete = CASCADE

    def __init__(
        self,
        to: Any,
        content_type_field: str = "content_type",
        object_id_field: str = "object_id",
        related_query_name: str | None = None,
    ) -> None:
        if not isinstance(to, (str, type)):
            raise TypeError(f"GenericRelation takes a model or a model name, got {to!r}")
        self.to = to
        self.content_type_field_name = content_type_field
        self.object_id_field_name = object_id_field
        self.related_query_name = related_query_name
        self.name = self.accessor_name = self.cache_name = ""
        self.model: Any = None
        self._related: Any = None
        self._steps: tuple[PathStep, ...] | None = None

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model is not None else "?"
        return f"<GenericRelation: {owner}.{self.name}>"

    # -- definition ------------------------------------------------------------------------
    def contribute_to_class(self, cls: type[Any], name: str) -> None:
        """Register on ``cls`` as ``name``; the target is resolved once both models exist."""
        self.name = self.accessor_name = self.cache_name = name
        self.model = cls
        _refuse_abstract(cls, name, "GenericRelation")
        setattr(cls, name, GenericRelationDescriptor(self))
        meta = cls._meta

        def resolve(model: type[Any]) -> None:
            lazy_related_operation(self._resolve, model, self.to)

        _wait_for(meta.app_label, meta.model_name, resolve)

    def _resolve(self, target: type[Any]) -> None:
        self._related = target
        self._steps = None
        meta = target._meta
        for kind, field_name in (
            ("content_type_field", self.content_type_field_name),
            ("object_id_field", self.object_id_field_name),
        ):
            if field_name not in meta.fields_map:
                raise exc.FieldError(
                    f"{self.model.__name__}.{self.name}: GenericRelation's {kind} "
                    f"{field_name!r} is no field of {target.__name__}; pass the names its "
                    "GenericForeignKey uses."
                )
        self.model._meta.add_related_object(self)
        if self.related_query_name:
            meta.add_related_object(GenericReverseRel(self))

    @property
    def related_model(self) -> Any:
        """The model holding the generic foreign key (``Comment``)."""
        if self._related is None:
            raise exc.FieldError(
                f"{self.model.__name__}.{self.name}: the related model {self.to!r} is not "
                "defined; define it, or name it as 'app_label.ModelName'."
            )
        return self._related

    @property
    def content_type_field(self) -> Any:
        """The related model's ``ForeignKey`` to ``ContentType``."""
        return self.related_model._meta.fields_map[self.content_type_field_name]

    @property
    def object_id_field(self) -> Any:
        """The related model's object id field."""
        return self.related_model._meta.fields_map[self.object_id_field_name]

    @property
    def field(self) -> Any:
        """The object id field (what the deletion collector reports)."""
        return self.object_id_field

    @property
    def target_field(self) -> Any:
        """The related model's key: what ``filter(comments=comment)`` compares."""
        return self.related_model._meta.pk

    @property
    def generic_foreign_key(self) -> GenericForeignKey | None:
        """The related model's ``GenericForeignKey`` over the same two fields, if any."""
        for private in self.related_model._meta.private_fields:
            if isinstance(private, GenericForeignKey) and (
                private.ct_field, private.fk_field
            ) == (self.content_type_field_name, self.object_id_field_name):
                return private
        return None

    def _join(self, holder_right: bool) -> GenericJoin:
        app_label, model_name = natural_key_of(self.model)
        return GenericJoin(
            app_label, model_name, self.model._meta.pk, self.object_id_field,
            self.content_type_field, holder_right,
        )

    def path_steps(self) -> tuple[PathStep, ...]:
        """The hop from the target model to the rows pointing at it (content type included)."""
        if self._steps is None:
            self._steps = (PathStep(
                self.model._meta.pk, self.object_id_field, multi=True, nullable=True,
                direct=False, name=self.name, join=self._join(holder_right=True),
            ),)
        return self._steps

    def key_of(self, instance: Any) -> Any:
        """The object id value that rows pointing at ``instance`` hold."""
        return self.object_id_field.to_python(instance.pk)

    # -- deleting and prefetching ----------------------------------------------------------
    async def _type_if_any(self, alias: str) -> Any:
        """The target's content type on ``alias`` without creating it (None: no row)."""
        manager = ContentType.objects.db_manager(alias)
        found = manager.cached_for_model(self.model, using=alias)
        if found is None:
            app_label, model_name = natural_key_of(self.model)
            found = await manager.filter(app_label=app_label, model=model_name).first()
            if found is not None:
                manager._remember(alias, found)
        return found

    async def referring_querysets(self, alias: str, pks: list[Any], size: int) -> list[Any]:
        """The rows pointing at the rows ``pks`` (for the deletion collector), in batches."""
        type_ = await self._type_if_any(alias)
        if type_ is None:
            return []  # no content type row: nothing can point here
        manager = self.related_model._meta.base_manager.db_manager(alias)
        ct_attname, oid = self.content_type_field.attname, self.object_id_field
        keys = [oid.to_python(pk) for pk in pks]
        return [
            manager.filter(**{ct_attname: type_.pk, f"{oid.attname}__in": chunk})
            for chunk in _chunks(keys, size)
        ]

    async def prefetch_objects(
        self, objs: list[Any], alias: str, queryset: Any, to_attr: str | None
    ) -> list[Any]:
        """Load the rows pointing at each of ``objs``: one query per batch of keys."""
        name = self.cache_name
        pending = objs if to_attr is not None else [
            obj for obj in objs if name not in (getattr(obj, PREFETCH_CACHE, None) or {})
        ]
        if pending:
            type_ = await ContentType.objects.db_manager(alias).get_for_model(self.model)
            if queryset is None:
                model = self.related_model
                base = (model._meta.default_manager or model._meta.base_manager).db_manager(
                    alias
                ).all()
            else:
                base = queryset if queryset._db is not None else queryset.using(alias)
            oid = self.object_id_field
            owners: dict[Any, list[Any]] = {}
            for obj in pending:
                owners.setdefault(self.key_of(obj), []).append(obj)
            groups: dict[Any, list[Any]] = {key: [] for key in owners}
            gfk = self.generic_foreign_key
            for chunk in _chunks(_sorted(owners), batch_size(connections[alias])):
                rows = await base.filter(**{
                    self.content_type_field.attname: type_.pk, f"{oid.attname}__in": chunk
                })
                for row in rows:
                    group = groups.get(row.__dict__.get(oid.attname))
                    if group is not None:
                        group.append(row)
            for key, holders in owners.items():
                for obj in holders:
                    found = list(groups[key])
                    if gfk is not None:
                        for child in found:
                            gfk.link(child, obj, type_)
                    if to_attr is not None:
                        setattr(obj, to_attr, found)
                    else:
                        cache = obj.__dict__.setdefault(PREFETCH_CACHE, {})
                        cache[name] = found
        gathered: list[Any] = []
        for obj in objs:
            items = obj.__dict__.get(to_attr) if to_attr is not None else (
                (getattr(obj, PREFETCH_CACHE, None) or {}).get(name)
            )
            gathered.extend(items or ())
        return gathered


class GenericReverseRel:
    """``Comment.objects.filter(post__title=...)``: the query name a ``GenericRelation``'s
    ``related_query_name`` gives the model holding the generic foreign key (queries only)."""

    is_relation = True
    concrete = False
    many_to_one = False
    many_to_many = False
    one_to_one = False
    one_to_many = False
    hidden = True  # no attribute on instances, nothing to prefetch
    null = True
    auto_created = True
    editable = False
    on_delete = DO_NOTHING  # deleting a comment leaves the post

    def __init__(self, relation: GenericRelation) -> None:
        self.relation = relation
        self.name = str(relation.related_query_name)
        self.accessor_name = f"+{self.name}"
        self.cache_name = ""
        self._steps: tuple[PathStep, ...] | None = None

    def __repr__(self) -> str:
        return f"<GenericReverseRel: {self.relation.related_model.__name__}.{self.name}>"

    @property
    def model(self) -> Any:
        return self.relation.related_model

    @property
    def related_model(self) -> Any:
        """The model the generic relation was declared on (``Post``)."""
        return self.relation.model

    @property
    def field(self) -> Any:
        return self.relation.object_id_field

    @property
    def target_field(self) -> Any:
        return self.relation.model._meta.pk

    def path_steps(self) -> tuple[PathStep, ...]:
        """The hop from the generic foreign key's rows to the target model's."""
        if self._steps is None:
            relation = self.relation
            self._steps = (PathStep(
                relation.object_id_field, relation.model._meta.pk, multi=False, nullable=True,
                direct=False, name=self.name, join=relation._join(holder_right=False),
            ),)
        return self._steps
