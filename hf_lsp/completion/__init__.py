"""Inline completion: the service, chat fill-in-the-middle, debounce, typing-through.

- ``service``: CompletionEngine: document + cursor -> prompt -> generation -> clean suggestions
- ``chat_fim``: fill-in-the-middle through a chat model's prompt, and its answer's cleanup
- ``debounce``: the server-side debounce that follows the typing rhythm
- ``typing_through``: answering from the suggestion shown while the user types it
"""

from __future__ import annotations

__all__ = ["service", "chat_fim", "debounce", "typing_through"]
