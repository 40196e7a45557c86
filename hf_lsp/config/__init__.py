"""Settings: the typed model, the layered configuration in force, the token, the generated docs.

- ``settings``: the settings model: typed, defaulted, validated, camelCase on the wire
- ``layered``: Configuration: the settings in force from every source, applied without restart
- ``api_token``: finding the Hugging Face token the way huggingface_hub does
- ``docs``: docs/configuration.md generated from the settings model
"""

from __future__ import annotations

__all__ = ["settings", "layered", "api_token", "docs"]
