"""Integrations with web frameworks; each imports its framework only when imported itself.

- ``reinhardt_db.integrations.fastapi``: ``lifespan`` and the ``atomic`` request
  dependency (``pip install 'reinhardt_db[fastapi]'``). User docs: docs/integrations.md.
"""
