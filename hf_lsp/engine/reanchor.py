"""Where an edit planned on an older text of a document goes in the current one.

A code action plans its edit on the document as it was when it started; the user may type
elsewhere while the model answers. :func:`reanchor` finds the lines the edit depends on in
the current text: unchanged, they may have moved (lines added or removed above them) and the
edit moves with them; changed, the edit no longer applies.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def reanchor(old: Sequence[str], new: Sequence[str], guard: tuple[int, int]) -> int | None:
    """How many lines ``old[first..last]`` moved by in ``new``; ``None`` if any of them changed.

    Lines keep their endings (as :class:`~hf_lsp.engine.document.Document` stores them), so a
    line joined with the next one counts as changed.
    """
    first, last = guard
    if not (0 <= first <= last < len(old)):
        return None
    if list(old) == list(new):
        return 0
    # the common head and tail decide most cases without a diff of the whole file
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    if last < head:
        return 0
    if first >= len(old) - tail:
        return len(new) - len(old)
    matcher = difflib.SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal" and i1 <= first and last < i2:
            return j1 - i1
    return None
