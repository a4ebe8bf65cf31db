"""The demo's app: a journal of log entries."""
