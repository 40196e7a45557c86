"""Code actions that write code: the catalog, their prompts, the service, the answers' cleanup.

- ``catalog``: which actions apply where, and the Plan each one makes
- ``prompts``: the fill-in-the-middle and chat prompts an action sends
- ``service``: running a Plan through the generation client: request, generation, answers
- ``output``: a model's answer made into the text to put in the document
"""

from __future__ import annotations

__all__ = ["catalog", "prompts", "service", "output"]
