"""Content types and generic relations (Django's ``contenttypes``), made async.

Add ``"reinhardt_db.contenttypes"`` to ``installed_apps``; ``reinhardt migrate``
then creates the ``reinhardt_content_type`` table. The public names live in
two modules, as in Django:

- ``reinhardt_db.contenttypes.models``: ``ContentType`` (one row per model:
  ``app_label``, ``model``) and its manager (``get_for_model`` ...);
- ``reinhardt_db.contenttypes.fields``: ``GenericForeignKey`` and
  ``GenericRelation``.

User docs: ``docs/contenttypes.md``.
"""
