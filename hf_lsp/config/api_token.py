"""Find the Hugging Face API token the way huggingface_hub does."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from hf_lsp.redact import register_secret

log = logging.getLogger(__name__)


def token_file_path(env: Mapping[str, str] | None = None) -> Path:
    """Where ``huggingface-cli login`` keeps the token: ``$HF_TOKEN_PATH`` or ``$HF_HOME/token``."""
    env = os.environ if env is None else env

    def expand(path: str) -> Path:  # `~` is the HOME of ``env``, not of this process
        if (path == "~" or path.startswith("~/")) and env.get("HOME"):
            return Path(env["HOME"] + path[1:])
        return Path(path).expanduser()

    if env.get("HF_TOKEN_PATH"):
        return expand(env["HF_TOKEN_PATH"])
    if env.get("HF_HOME"):
        home = expand(env["HF_HOME"])
    elif env.get("XDG_CACHE_HOME"):
        home = expand(env["XDG_CACHE_HOME"]) / "huggingface"
    else:
        home = expand("~/.cache/huggingface")
    return home / "token"


def resolve_token(
    setting: str | None, env: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """Return ``(token, source)``: the setting, ``HF_TOKEN``, ``HUGGING_FACE_HUB_TOKEN``, the file.

    Whitespace is stripped and an empty value counts as none. ``source`` names where the
    token came from (never the token itself) so it can be logged.
    """
    env = os.environ if env is None else env
    candidates = [
        ("the apiToken setting", setting),
        ("$HF_TOKEN", env.get("HF_TOKEN")),
        ("$HUGGING_FACE_HUB_TOKEN", env.get("HUGGING_FACE_HUB_TOKEN")),
    ]
    for source, value in candidates:
        if value and value.strip():
            token = value.strip()
            register_secret(token)
            return token, source
    path = token_file_path(env)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None, "none"
    except OSError as exc:
        log.warning("Cannot read the token file %s: %s", path, exc.strerror)
        return None, "none"
    if not token:
        return None, "none"
    register_secret(token)
    return token, str(path)
