"""Inline completion: the service, chat fill-in-the-middle, debounce, typing-through."""
