"""Django's SQLite backend, with the database file made private the moment it is first opened.

SQLite gives its -wal and -shm files the database file's mode, so making the file, empty, with
mode 0600 before SQLite opens it (an empty file is an empty database) keeps all three the
owner's alone, whatever the umask. It happens here, at the first connection, and not when the
settings are read: a command that finds no database (`uphold backup`) must leave none behind.
"""

import contextlib
import os

from django.db.backends.sqlite3 import base


def make_private(name: str) -> None:
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError, FileNotFoundError):  # made, or no such folder
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict):
        make_private(str(conn_params["database"]))
        return super().get_new_connection(conn_params)
