"""How an error raised by another library is quoted inside one of ours: one line of it (the
first, or the last where a library puts the cause there), cut at a word with "..." where it is
long, so a message never ends mid-word."""

from __future__ import annotations

import re
import textwrap

# TensorFlow starts a kernel's error with where it ran: "{{function_node __wrapped__Op_device_...}} ".
_TENSORFLOW_NODE = re.compile(r"\{\{[^}]*\}\}\s*")


def quoted(error: BaseException, width: int = 160, line: int = 0) -> str:
    """Line `line` of `error`'s message (0: the first, -1: the last), at most `width` characters,
    cut between words.

    Examples:
        >>> quoted(ValueError("labels must lie outside the range of the output units\\nmore"), 40)
        'labels must lie outside the range...'
        >>> quoted(KeyError())
        'KeyError'
        >>> quoted(ValueError("{{function_node __wrapped__Op_device_/CPU:0}} Received a label value of 3"))
        'Received a label value of 3'
        >>> quoted(TypeError("Could not deserialize 'Block'.\\n\\nException encountered: unexpected 'units'"), line=-1)
        "Exception encountered: unexpected 'units'"
    """
    lines = _TENSORFLOW_NODE.sub("", str(error)).strip().splitlines()
    if not lines:
        return type(error).__name__
    return textwrap.shorten(lines[line], width, placeholder="...")
