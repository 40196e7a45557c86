"""Where an edit planned on an older text of a document goes in the current one.

A code action plans its edit on the document as it was when it started; the user may type
elsewhere while the model answers. :func:`reanchor` finds the lines the edit depends on in
the current text: unchanged, they may have moved (lines added or removed above them) and the
edit moves with them; changed, the edit no longer applies.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence

DIFF_LIMIT = 4000  # lines of changed middle above which no full diff is run


def reanchor(old: Sequence[str], new: Sequence[str], guard: tuple[int, int]) -> int | None:
    """How many lines ``old[first..last]`` moved by in ``new``; ``None`` if any of them changed.

    Lines keep their endings (as :class:`~hf_lsp.language.document.Document` stores them), so a
    line joined with the next one counts as changed. Linear in the common case: the common
    head and tail of the two texts, then lines that occur once in each (a function's
    signature usually does); a line diff only of the changed middle, when it is small.
    """
    first, last = guard
    if not (0 <= first <= last < len(old)):
        return None
    if len(old) == len(new) and list(old) == list(new):
        return 0
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
    block = list(old[first : last + 1])
    delta = _by_unique_lines(old, new, first, last, block)
    if delta is not None:
        return delta
    old_mid = list(old[head : len(old) - tail])
    new_mid = list(new[head : len(new) - tail])
    if len(old_mid) + len(new_mid) > DIFF_LIMIT:
        return None
    matcher = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal" and i1 + head <= first and last < i2 + head:
            return j1 - i1
    return None


def _by_unique_lines(
    old: Sequence[str], new: Sequence[str], first: int, last: int, block: list[str]
) -> int | None:
    """The shift of the nearest line that occurs once in each text, if the block followed it."""
    old_count = Counter(old)
    new_count = Counter(new)
    where = {line: j for j, line in enumerate(new) if new_count[line] == 1}
    nearest = sorted(range(len(old)), key=lambda i: (0 if first <= i <= last else
                                                    min(abs(i - first), abs(i - last))))
    for i in nearest[:200]:
        line = old[i]
        if old_count[line] == 1 and line in where:
            delta = where[line] - i
            if list(new[first + delta : last + 1 + delta]) == block:
                return delta
            break  # lines moved between the anchor and the block: let the diff decide
    return None
