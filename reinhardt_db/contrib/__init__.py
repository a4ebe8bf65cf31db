"""Optional parts of reinhardt_db that only some projects need (``contrib.postgres``)."""
