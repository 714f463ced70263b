"""Checks that a file or folder a user names can be written, made before any work is done.

Each raises one ValueError (TypeError for a value that is not a path) that names the argument,
what was found and what to do, so a figure or a search never fails at its end with an OSError
from deep inside matplotlib or keras-tuner. A check writes nothing that it leaves behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def as_path(path: str | os.PathLike, argument: str) -> Path:
    """`path` as a Path (TypeError when it is not a str or os.PathLike).

    Examples:
        >>> as_path("figure.png", "path").name
        'figure.png'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"`{argument}` must be a file path (str or Path), received {type(path).__name__}.")
    return Path(path)


def _writable_in(folder: Path, argument: str, path: Path) -> None:
    """Raise unless a file can be created in the existing folder `folder`."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(
            f"`{argument}` {path}: cannot create files in {folder} ({reason}); choose a place you can write."
        ) from None


def writable_file(path: str | os.PathLike, argument: str) -> Path:
    """Check that the file `path` can be written (created or replaced); return it as a Path.

    Examples:
        >>> writable_file("/nonexistent/dir/x.png", "path")
        Traceback (most recent call last):
        ...
        ValueError: `path` /nonexistent/dir/x.png: the folder /nonexistent/dir does not exist; create it or write the file elsewhere.
    """
    path = as_path(path, argument)
    if path.is_dir():
        raise ValueError(f"`{argument}` {path} is a folder; give a file name, e.g. {path / 'figure.png'}.")
    folder = path.parent
    if not folder.exists():
        raise ValueError(
            f"`{argument}` {path}: the folder {folder} does not exist; create it or write the file elsewhere."
        )
    if not folder.is_dir():
        raise ValueError(f"`{argument}` {path}: {folder} is a file, not a folder; write the file elsewhere.")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise ValueError(f"`{argument}` {path}: no permission to replace it; choose a path you can write.")
    else:
        _writable_in(folder, argument, path)
    return path


def writable_folder(path: str | os.PathLike, argument: str, must_exist: bool = False) -> Path:
    """Check that files can be written in the folder `path`, or in the folder that will be made
    there (its nearest existing parent); return it as a Path.

    Examples:
        >>> import tempfile
        >>> writable_folder(tempfile.mkdtemp(), "directory").is_dir()
        True
        >>> writable_folder("/nonexistent/dir", "output_dir", must_exist=True)
        Traceback (most recent call last):
        ...
        ValueError: `output_dir` /nonexistent/dir: no such folder; create it or pass another.
    """
    path = as_path(path, argument)
    if path.exists() and not path.is_dir():
        raise ValueError(f"`{argument}` {path} is a file, not a folder; pass a folder.")
    if must_exist and not path.exists():
        raise ValueError(f"`{argument}` {path}: no such folder; create it or pass another.")
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(f"`{argument}` {path}: {existing} is a file, so no folder can be made there; pass another.")
    _writable_in(existing, argument, path)
    return path
