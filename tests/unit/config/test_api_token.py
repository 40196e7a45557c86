from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hf_lsp.config.api_token import resolve_token, token_file_path
from hf_lsp.redact import MASK, redact, register_secret, scan_for_tokens

_serial = itertools.count()


def unique(name: str) -> str:
    """A token no other test registered (redaction remembers tokens process-wide)."""
    return f"{name}Tok{next(_serial):04d}Value"


# --- resolve_token: precedence -----------------------------------------------------------------

SOURCES = ("setting", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "XDG")


def arrange(tmp_path: Path, present: set[str]) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """Put a distinct token in each source in ``present``; return (setting, env, tokens)."""
    tokens = {source: unique(source.replace("_", "")) for source in SOURCES}
    env: dict[str, str] = {"HF_HOME": str(tmp_path / "empty-home")}  # never the real one
    if "HF_TOKEN" in present:
        env["HF_TOKEN"] = tokens["HF_TOKEN"]
    if "HUGGING_FACE_HUB_TOKEN" in present:
        env["HUGGING_FACE_HUB_TOKEN"] = tokens["HUGGING_FACE_HUB_TOKEN"]
    if "HF_TOKEN_PATH" in present:
        path = tmp_path / "custom" / "my-token"
        path.parent.mkdir(parents=True)
        path.write_text(tokens["HF_TOKEN_PATH"])
        env["HF_TOKEN_PATH"] = str(path)
    if "HF_HOME" in present:
        home = tmp_path / "hf-home"
        home.mkdir()
        (home / "token").write_text(tokens["HF_HOME"])
        env["HF_HOME"] = str(home)
    if "XDG" in present:
        xdg = tmp_path / "xdg"
        (xdg / "huggingface").mkdir(parents=True)
        (xdg / "huggingface" / "token").write_text(tokens["XDG"])
        env["XDG_CACHE_HOME"] = str(xdg)
        if "HF_HOME" not in present:
            del env["HF_HOME"]
    setting = tokens["setting"] if "setting" in present else None
    return setting, env, tokens


@pytest.mark.parametrize(
    ("present", "winner"),
    [
        pytest.param(set(SOURCES), "setting", id="setting-beats-all"),
        pytest.param(set(SOURCES) - {"setting"}, "HF_TOKEN", id="HF_TOKEN-next"),
        pytest.param(set(SOURCES) - {"setting", "HF_TOKEN"}, "HUGGING_FACE_HUB_TOKEN",
                     id="HUGGING_FACE_HUB_TOKEN-next"),
        pytest.param({"HF_TOKEN_PATH", "HF_HOME", "XDG"}, "HF_TOKEN_PATH",
                     id="HF_TOKEN_PATH-file-next"),
        pytest.param({"HF_HOME", "XDG"}, "HF_HOME", id="HF_HOME-token-next"),
        pytest.param({"XDG"}, "XDG", id="XDG_CACHE_HOME-last"),
        pytest.param({"setting"}, "setting", id="setting-alone"),
        pytest.param({"HUGGING_FACE_HUB_TOKEN"}, "HUGGING_FACE_HUB_TOKEN",
                     id="HUGGING_FACE_HUB_TOKEN-alone"),
        pytest.param({"HF_TOKEN_PATH"}, "HF_TOKEN_PATH", id="HF_TOKEN_PATH-alone"),
        pytest.param(set(), None, id="nothing"),
    ],
)
def test_precedence(tmp_path: Path, present: set[str], winner: str | None) -> None:
    setting, env, tokens = arrange(tmp_path, present)
    token, source = resolve_token(setting, env)
    if winner is None:
        assert (token, source) == (None, "none")
        return
    assert token == tokens[winner]
    assert tokens[winner] not in source  # the source names where, never what
    expected_source = {
        "setting": "the apiToken setting",
        "HF_TOKEN": "$HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN": "$HUGGING_FACE_HUB_TOKEN",
    }.get(winner)
    if expected_source is not None:
        assert source == expected_source
    else:
        assert Path(source).read_text().strip() == token


@pytest.mark.parametrize(
    ("setting", "env_token", "expected"),
    [
        pytest.param("  padded\n", None, "padded", id="setting-stripped"),
        pytest.param(None, "\tfrom-env \n", "from-env", id="env-stripped"),
        pytest.param("", "from-env", "from-env", id="empty-setting-is-none"),
        pytest.param("   ", "from-env", "from-env", id="blank-setting-is-none"),
        pytest.param(None, "", None, id="empty-env-is-none"),
        pytest.param(None, "  \n", None, id="blank-env-is-none"),
    ],
)
def test_whitespace(
    tmp_path: Path, setting: str | None, env_token: str | None, expected: str | None
) -> None:
    env = {"HF_HOME": str(tmp_path)}
    if env_token is not None:
        env["HF_TOKEN"] = env_token
    assert resolve_token(setting, env)[0] == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("file-token\n", "file-token", id="trailing-newline"),
        pytest.param("  file-token  \r\n", "file-token", id="surrounding-space"),
        pytest.param("", None, id="empty-file"),
        pytest.param(" \n\n", None, id="blank-file"),
    ],
)
def test_token_file_content(tmp_path: Path, content: str, expected: str | None) -> None:
    (tmp_path / "token").write_text(content)
    token, source = resolve_token(None, {"HF_HOME": str(tmp_path)})
    assert token == expected
    assert source == (str(tmp_path / "token") if expected else "none")


def test_unreadable_token_file_is_none(tmp_path: Path) -> None:
    (tmp_path / "token").mkdir()  # a directory where the file should be
    assert resolve_token(None, {"HF_HOME": str(tmp_path)}) == (None, "none")


def test_resolved_token_is_redacted(tmp_path: Path) -> None:
    secret = unique("resolved")
    token, _ = resolve_token(None, {"HF_TOKEN": secret, "HF_HOME": str(tmp_path)})
    assert token == secret
    assert secret not in redact(f"sending {secret} now")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"HF_TOKEN_PATH": "/p/tok", "HF_HOME": "/h", "XDG_CACHE_HOME": "/x"},
                     "/p/tok", id="HF_TOKEN_PATH"),
        pytest.param({"HF_HOME": "/h", "XDG_CACHE_HOME": "/x"}, "/h/token", id="HF_HOME"),
        pytest.param({"XDG_CACHE_HOME": "/x"}, "/x/huggingface/token", id="XDG_CACHE_HOME"),
        pytest.param({"HF_TOKEN_PATH": "", "HF_HOME": "/h"}, "/h/token", id="empty-is-unset"),
    ],
)
def test_token_file_path(env: dict[str, str], expected: str) -> None:
    assert token_file_path(env) == Path(expected)


def test_token_file_path_default_is_under_home() -> None:
    path = token_file_path({})
    assert path == Path("~/.cache/huggingface/token").expanduser()


# --- redact -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        pytest.param("token hf_abcdefghijklmnopqrstuvwxyz012345 here",
                     "hf_abcdefghijklmnopqrstuvwxyz012345", id="hf-token-pattern"),
        pytest.param("hf_ABCDEFGH", "hf_ABCDEFGH", id="hf-token-shortest"),
        pytest.param("Authorization: Bearer abc.def-123", "abc.def-123", id="bearer"),
        pytest.param('{"Authorization": "Bearer xyz987"}', "xyz987", id="bearer-in-json"),
        pytest.param('{"apiToken": "not-hf-shaped"}', "not-hf-shaped", id="json-key"),
        pytest.param('{"apiToken":"compact-json"}', "compact-json", id="json-key-compact"),
        pytest.param("{'apiToken': 'python-repr'}", "python-repr", id="python-repr"),
        pytest.param("Settings(api_token='attr-repr', model='m')", "attr-repr", id="attrs-repr"),
        pytest.param('{"apiToken":   "wide-json"}', "wide-json", id="json-key-wide"),
        pytest.param("authorization: bearer lower-case", "lower-case", id="bearer-lower"),
    ],
)
def test_redact_patterns(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("import hf_lsp.config.settings", id="module-name"),
        pytest.param("hf_short", id="short-hf-word"),
        pytest.param("no secrets here", id="plain"),
        pytest.param("Missing bearer token in the request", id="prose-about-bearer"),
        pytest.param('{"model": "bigcode/starcoder2-15b"}', id="settings-without-token"),
    ],
)
def test_redact_leaves_other_text(text: str) -> None:
    assert redact(text) == text


def test_registered_secret_is_hidden_everywhere() -> None:
    secret = unique("registered")
    text = f"a {secret} b {secret}c"
    register_secret(secret)
    assert redact(text) == f"a {MASK} b {MASK}c"


def test_longer_secret_wins_over_its_prefix() -> None:
    short = unique("prefix")
    long = short + "Extended"
    register_secret(short)
    register_secret(long)
    assert redact(f"[{long}]") == f"[{MASK}]"


@pytest.mark.parametrize(
    "value",
    [pytest.param(None, id="none"), pytest.param("", id="empty"), pytest.param("abc", id="short")],
)
def test_tiny_values_are_not_registered(value: str | None) -> None:
    register_secret(value)
    assert redact("abc abcd xabcx") == "abc abcd xabcx"


def test_scan_for_tokens_registers_the_setting() -> None:
    secret = unique("scanned")
    scan_for_tokens({"apiToken": f"  {secret} "})
    assert redact(f"model=m token={secret}") == f"model=m token={MASK}"


def test_scan_for_tokens_ignores_non_strings() -> None:
    scan_for_tokens({"apiToken": 12345678})
    scan_for_tokens({})
    assert redact("12345678") == "12345678"


def test_home_comes_from_the_given_environment(tmp_path: Path) -> None:
    from hf_lsp.config.api_token import token_file_path

    assert token_file_path({"HOME": str(tmp_path)}) == tmp_path / ".cache/huggingface/token"
    assert token_file_path({"HOME": str(tmp_path), "HF_HOME": "~/hf"}) == tmp_path / "hf/token"
