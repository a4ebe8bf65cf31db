"""A short tour of models and QuerySets on the demo's SQLite database.

The tables come from `reinhardt migrate` (demo.py runs it first); scripts and
tests can make them without migrations with `reinhardt_db.models.schema.create_tables`.
"""

from __future__ import annotations

import datetime as dt

from journal_app.models import Author, Entry, Level

from reinhardt_db import models
from reinhardt_db.exceptions import IntegrityError, ValidationError


async def models_tour() -> None:
    print("\n-- models --")

    ann = await Author.objects.create(name="ann", email="ann@example.com")
    bob, created = await Author.objects.get_or_create(name="bob", defaults={"email": "b@example.com"})
    print(f"authors: {[a.name for a in await Author.objects.all()]} (bob created={created})")

    entries = [
        Entry(level=i % 4, text=f"{'disk' if i % 3 else 'net'} event {i}", author_name=("ann", "bob")[i % 2],
              duration=dt.timedelta(milliseconds=10 * i), data={"seq": i, "tags": ["demo"]})
        for i in range(1, 41)
    ]
    await Entry.objects.bulk_create(entries)
    print(f"entries: {await Entry.objects.count()}")

    errors = Entry.objects.filter(level__gte=Level.WARNING, text__startswith="disk")
    print(f"disk warnings and errors: {await errors.count()}; first three by id:")
    for e in await errors.order_by("id")[:3]:
        print(f"  #{e.pk} {Level(e.level).label:<7} {e.text!r} took {e.duration}")

    slow = Entry.objects.filter(Entry.duration > dt.timedelta(milliseconds=350), ~models.Q(author_name="bob"))
    print(f"slow entries by ann (class-level expression + ~Q): {await slow.values_list('id', flat=True)}")

    print("per level:", await Entry.objects.values("level").annotate(n=models.Count("id")).order_by("level"))
    print("stats:", await Entry.objects.aggregate(n=models.Count("id"), avg_level=models.Avg("level")))

    updated = await Entry.objects.filter(author_name="bob").update(level=models.F("level") + 1)
    print(f"bumped the level of {updated} entries by bob")

    first = await Entry.objects.order_by("id").first()
    assert first is not None
    first.text = "edited"
    await first.save(update_fields=["text"])
    await first.refresh_from_db()
    print(f"entry #{first.pk} now reads {first.text!r} (data={first.data})")

    try:
        await Author.objects.create(name="ann")
    except IntegrityError as error:
        print(f"duplicate author refused: IntegrityError ({type(error.__cause__).__name__})")
    try:
        await Author(name="x" * 60).full_clean()
    except ValidationError as error:
        print(f"validation: {error.message_dict}")

    deleted, per_model = await Entry.objects.filter(level=0).delete()
    print(f"deleted {deleted} debug entries: {per_model}")
    streamed = 0
    async for _entry in Entry.objects.all().iterator(chunk_size=10):
        streamed += 1
    print(f"streamed {streamed} entries in chunks of 10; ann={ann.pk}, bob={bob.pk}")
