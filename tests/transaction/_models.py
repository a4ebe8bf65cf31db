"""Models shared by the transaction tests."""

from __future__ import annotations

from reinhardt_db import models


class Account(models.Model):
    name = models.CharField(max_length=40, unique=True)
    balance = models.IntegerField(default=0)

    class Meta:
        app_label = "tests_transaction"


class Entry(models.Model):
    n = models.IntegerField()

    class Meta:
        app_label = "tests_transaction"


# Statements that identify the server session, per vendor (SQLite: one file, no sessions).
PID_SQL = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
