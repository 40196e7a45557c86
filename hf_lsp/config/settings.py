"""The settings model: typed, fully defaulted, validated; camelCase on the wire.

The generation ``parameters`` and ``options`` keep the Hugging Face wire names (``top_k``,
``max_new_tokens``, ``use_cache`` …): they are the user's single vocabulary for every backend.
Everything else is camelCase, as editors write settings. ``parse_settings`` turns the JSON an
editor sends into :class:`Settings` or raises :class:`SettingsError` with one message naming
every bad setting; the caller keeps its last good settings.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from hf_lsp.errors import SettingsError

SECTION = "hfLsp"
DEFAULT_MODEL = "Qwen/Qwen2.5-Coder-7B"
ROUTER_URL = "https://router.huggingface.co"
DEFAULT_URL = ROUTER_URL
HUB_URL = "https://huggingface.co"
# the retired serverless API: it answers 410 Gone; its requests go to the router instead
LEGACY_HOSTS = ("api-inference.huggingface.co",)
BACKENDS = ("huggingface", "tgi", "openai", "ollama", "llamacpp")
DEFAULT_URLS = {
    "huggingface": DEFAULT_URL,
    "tgi": "http://127.0.0.1:8080",
    "openai": "http://127.0.0.1:8000/v1",
    "ollama": "http://127.0.0.1:11434",
    "llamacpp": "http://127.0.0.1:8080",
}
MAX_NEW_TOKENS = 8192
FIM_FAMILIES = ("starcoder", "codellama", "deepseek", "qwen", "codestral", "codegemma")
SERVERLESS_MAX_NEW_TOKENS = 250

T = TypeVar("T")


def _setting(
    default: Any,
    doc: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] | None = None,
    factory: Callable[[], Any] | None = None,
    check: Callable[[Any, attrs.Attribute[Any], Any], None] | None = None,
) -> Any:
    """Declare one setting: its default, its documentation and its allowed values."""
    validators: list[Callable[[Any, attrs.Attribute[Any], Any], None]] = []
    if lo is not None or hi is not None:
        validators.append(_RangeValidator(lo, hi))
    if choices is not None:
        validators.append(_ChoiceValidator(choices))
    if check is not None:
        validators.append(check)
    # the checks also run while structuring, so that every bad setting is reported at once
    metadata = {"doc": doc, "lo": lo, "hi": hi, "choices": choices, "checks": tuple(validators)}
    if factory is not None:
        return attrs.field(factory=factory, metadata=metadata, validator=validators)
    return attrs.field(default=default, metadata=metadata, validator=validators)


class _FieldError(ValueError):
    """A validator's complaint about one field (attrs validators run at class level)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@attrs.frozen
class _RangeValidator:
    lo: float | None
    hi: float | None

    def __call__(self, inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if (
            value != value  # NaN (Python's json accepts it) compares false with every bound
            or (self.lo is not None and value < self.lo)
            or (self.hi is not None and value > self.hi)
        ):
            bounds = describe_range(self.lo, self.hi)
            raise _FieldError(attr.name, f"must be {bounds} (got {value!r})")


@attrs.frozen
class _ChoiceValidator:
    choices: tuple[str, ...]

    def __call__(self, inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and value not in self.choices:
            allowed = ", ".join(self.choices)
            raise _FieldError(attr.name, f"must be one of {allowed} (got {value!r})")


def _check_url(inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if "{" in value.replace("{model}", "") or not re.match(r"https?://[^/\s]+", value):
        raise _FieldError(
            attr.name, f"must be an http(s) URL, optionally with {{model}} (got {value!r})"
        )


def _check_proxy(inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not re.match(r"(https?|socks5h?)://[^/\s]+", value):
        raise _FieldError(attr.name, f"must be an http(s) or socks5 URL (got {value!r})")


def _check_file(inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not os.path.isfile(os.path.expanduser(value)):
        raise _FieldError(attr.name, f"must be an existing file (got {value!r})")


def _check_not_blank(inst: object, attr: attrs.Attribute[Any], value: Any) -> None:
    if not value.strip():
        raise _FieldError(attr.name, "must not be empty")


def describe_range(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"from {lo:g} to {hi:g}"
    if lo is not None:
        return f"at least {lo:g}"
    return f"at most {hi:g}"


@attrs.frozen
class Parameters:
    """Text-generation parameters, sent with their Hugging Face wire names."""

    max_new_tokens: int | None = _setting(
        None,
        "Tokens to generate. Unset: chosen by context from `maxNewTokens` (always sent — "
        "without it the API answers with a few tokens). Set: used for every request. At most "
        f"{SERVERLESS_MAX_NEW_TOKENS} with the `huggingface` backend (the serverless API's cap).",
        lo=1,
        hi=MAX_NEW_TOKENS,
    )
    temperature: float | None = _setting(
        0.2, "Sampling temperature; low values give focused code.", lo=0, hi=100
    )
    top_p: float | None = _setting(0.95, "Nucleus sampling probability mass.", lo=0, hi=1)
    top_k: int | None = _setting(None, "Sample only from the k most likely tokens.", lo=1)
    repetition_penalty: float | None = _setting(
        None, "Penalty for repeated tokens (1.0 means none).", lo=0, hi=100
    )
    max_time: float | None = _setting(
        None, "Soft limit, in seconds, on the time the backend spends generating.", lo=0, hi=120
    )
    return_full_text: bool = _setting(
        False,
        "Whether the backend should echo the prompt. hf-lsp strips an echo either way; "
        "leave it false to save bandwidth.",
    )
    num_return_sequences: int = _setting(
        1, "How many alternative completions to ask for.", lo=1, hi=10
    )
    do_sample: bool = _setting(True, "Sample (true) or decode greedily (false).")
    stop: list[str] = _setting(
        None,
        "Extra stop sequences, added to the model family's own end and FIM tokens.",
        factory=list,
    )


@attrs.frozen
class Options:
    """Hugging Face Inference API request options, sent with their wire names."""

    use_cache: bool = _setting(
        True, "Let the API answer an identical request from its own cache."
    )
    wait_for_model: bool = _setting(
        False,
        "Wait for a cold model instead of answering 503. hf-lsp retries with it set when "
        "the API says the model is loading.",
    )


@attrs.frozen
class Fim:
    """Fill-in-the-middle prompt format."""

    enabled: bool = _setting(
        True, "Send the code after the cursor too (fill-in-the-middle); off sends only the prefix."
    )
    template: str | None = _setting(
        None,
        "Model family whose FIM tokens to use. Unset: chosen from the model id (StarCoder "
        "when nothing matches).",
        choices=FIM_FAMILIES,
    )
    prefix: str | None = _setting(None, "Custom prefix token; with `suffix` and `middle` it "
                                  "replaces the family template.")
    suffix: str | None = _setting(None, "Custom suffix token.")
    middle: str | None = _setting(None, "Custom middle token.")


@attrs.frozen
class Context:
    """How much of the document around the cursor goes into the prompt."""

    max_prefix_lines: int = _setting(120, "Lines before the cursor, at most.", lo=0, hi=100_000)
    max_prefix_chars: int = _setting(
        6000, "Characters before the cursor, at most (cut on a line boundary).", lo=0,
        hi=1_000_000,
    )
    max_suffix_lines: int = _setting(40, "Lines after the cursor, at most.", lo=0, hi=100_000)
    max_suffix_chars: int = _setting(
        2000, "Characters after the cursor, at most (cut on a line boundary).", lo=0,
        hi=1_000_000,
    )
    include_file_path: bool = _setting(
        True, "Start the prompt with a comment naming the file's path and language."
    )


@attrs.frozen
class MaxNewTokens:
    """`max_new_tokens` by where the cursor is (when `parameters.max_new_tokens` is unset)."""

    mid_line: int = _setting(
        24, "Cursor before other text on its line: finish this line only.", lo=1, hi=4096
    )
    end_of_line: int = _setting(
        64, "Cursor at the end of a line with code on it.", lo=1, hi=4096
    )
    empty_line: int = _setting(96, "Cursor on an empty or blank line.", lo=1, hi=4096)
    block_opener: int = _setting(
        160, "Cursor right after a block opener (`:`, `{`, `(`, `=>` …) or on the line after it.",
        lo=1, hi=4096,
    )


@attrs.frozen
class Cache:
    """The completion cache: identical requests are answered without a backend call."""

    size: int = _setting(512, "Completions kept (LRU); 0 disables the cache.", lo=0, hi=1_000_000)
    ttl_seconds: float = _setting(
        600, "How long a cached completion stays valid, in seconds.", lo=0, hi=86_400
    )
    persistent: bool = _setting(
        False,
        "Also keep completions on disk across restarts (SQLite, file mode 0600). The file "
        "holds generated text and hashes of the prompts, never the prompts or the token.",
    )
    path: str | None = _setting(
        None,
        "The persistent cache file. Unset: `completions.sqlite3` in the user cache directory "
        "(`~/.cache/hf-lsp` on Linux).",
    )
    persistent_size: int = _setting(
        5000, "Completions kept on disk (the least recently used go first).", lo=1,
        hi=1_000_000,
    )
    persistent_ttl_seconds: float = _setting(
        7 * 86_400, "How long a completion stays valid on disk, in seconds.", lo=1,
        hi=365 * 86_400,
    )


@attrs.frozen
class Network:
    """How hf-lsp reaches the backend. `HTTPS_PROXY` / `NO_PROXY` are honoured too."""

    connect_timeout: float = _setting(
        10.0, "Seconds to wait for the connection to open.", lo=0.1, hi=120
    )
    proxy: str | None = _setting(
        None, "Proxy URL for every request (overrides `HTTPS_PROXY`).", check=_check_proxy
    )
    ca_bundle: str | None = _setting(
        None,
        "Path to a PEM file of certificate authorities to trust (a private CA).",
        check=_check_file,
    )
    tls_verify: bool = _setting(
        True,
        "Verify TLS certificates. Turn off only for a self-signed local server; hf-lsp logs a "
        "warning every time it starts a client that way.",
    )


@attrs.frozen
class RateLimit:
    """Limits of hf-lsp's own; a 429 is waited out (`Retry-After`, else backoff with jitter)."""

    requests_per_minute: int | None = _setting(
        None,
        "At most this many requests a minute. Unset or 0: no cap of hf-lsp's own, for any "
        "backend.",
        lo=0,
        hi=100_000,
    )
    max_concurrent: int = _setting(
        2, "At most this many requests at once to one backend.", lo=1, hi=64
    )
    max_wait: float = _setting(
        2.0,
        "Seconds an automatic completion may wait for its turn while a limit holds it before "
        "it is dropped (counted as `dropped` in `hfLsp/status`). An invoked one (asked for "
        "explicitly, a code action, `hf-lsp complete`) waits up to `requestTimeout`.",
        lo=0,
        hi=60,
    )


@attrs.frozen
class LongGeneration:
    """Continuing a generation that stopped at the length limit of one request."""

    max_total_new_tokens: int = _setting(
        2048,
        "Tokens in all, across continued requests. No more is asked once the code is whole "
        "(its scope closed); a budget that stops it first keeps the last complete line.",
        lo=1,
        hi=32_768,
    )
    max_total_time: float = _setting(
        60.0,
        "Seconds in all, across continued requests (keep it below `actions.maxTime`, which "
        "abandons the whole action).",
        lo=1,
        hi=3600,
    )


ACTION_MODES = ("auto", "fim", "chat")
ACTION_OUTPUTS = ("replace", "insert", "show")


@attrs.frozen
class ActionPrompt:
    """One built-in code action (see docs/actions.md for its default prompts)."""

    enabled: bool = _setting(True, "Offer this action.")
    mode: str | None = _setting(
        None,
        "`fim` (a fill-in-the-middle prompt, for base code models), `chat` "
        "(`/v1/chat/completions`, for instruction models) or `auto`. Unset: `actions.mode`.",
        choices=ACTION_MODES,
    )
    max_new_tokens: int | None = _setting(
        None,
        "Tokens this action may generate. Unset: the action's own default (a docstring is "
        "short, a function body long). Above the serverless API's 250 the generation is "
        "continued, up to `longGeneration.maxTotalNewTokens`.",
        lo=1,
        hi=32_768,
    )
    fim_prompt: str | None = _setting(
        None,
        "The text before the fill-in-the-middle hole, with `{before}`, `{indent}`, `{comment}`, "
        "`{code}`, `{instruction}`, `{diagnostic}`, `{language}`. Unset: the built-in one.",
    )
    chat_prompt: str | None = _setting(
        None,
        "The user message of the chat prompt, with `{language}`, `{code}`, `{context}`, "
        "`{instruction}`, `{diagnostic}`, `{file}`. Unset: the built-in one.",
    )


@attrs.frozen
class CustomAction:
    """A code action of the user's own: a title and a prompt template."""

    title: str = attrs.field(
        metadata={"doc": "What the editor lists.", "checks": (_check_not_blank,)},
        validator=_check_not_blank,
    )
    prompt: str = attrs.field(
        metadata={
            "doc": "The chat user message, with the placeholders of `chatPrompt` "
            "(`{code}` is the selection, or the function or line under the cursor).",
            "checks": (_check_not_blank,),
        },
        validator=_check_not_blank,
    )
    output: str = _setting(
        "replace",
        "`replace` the code, `insert` the answer below it, or `show` it without editing.",
        choices=ACTION_OUTPUTS,
    )
    mode: str | None = _setting(None, "As for the built-in actions.", choices=ACTION_MODES)
    fim_prompt: str | None = _setting(None, "As for the built-in actions.")
    max_new_tokens: int | None = _setting(None, "Tokens to generate.", lo=1, hi=32_768)


@attrs.frozen
class Actions:
    """Code actions that write code: generate, implement, document, fix, rewrite, explain."""

    enabled: bool = _setting(True, "Offer hf-lsp's code actions at all.")
    mode: str = _setting(
        "auto",
        "How actions ask the model: `fim`, `chat`, or `auto` (chat when the model id looks "
        "instruction-tuned: it contains `instruct`, `chat` or `-it`).",
        choices=ACTION_MODES,
    )
    chat_url: str | None = _setting(
        None,
        "OpenAI-compatible server for chat prompts. Unset: the router's `/v1` for `huggingface` "
        "(`https://router.huggingface.co/v1`, with `model` `<id>:<provider>` when `provider` "
        "names one), the backend's own `url` for the others.",
        check=_check_url,
    )
    chat_model: str | None = _setting(None, "Model for chat prompts. Unset: `model`.")
    max_time: float = _setting(
        90.0, "Seconds an action may take in all before it is abandoned.", lo=1, hi=3600
    )
    show_inline_chars: int = _setting(
        300,
        "An explanation up to this long is shown as a message; a longer one opens as a "
        "Markdown document (when the editor can show documents).",
        lo=0,
        hi=100_000,
    )
    alternatives: int | None = _setting(
        None,
        "Answers to ask for; above 1 the editor offers them to choose from. Unset: "
        "`parameters.num_return_sequences`.",
        lo=1,
        hi=10,
    )
    generate: ActionPrompt = _setting(
        None, "Generate code from the comment under the cursor.", factory=ActionPrompt
    )
    implement: ActionPrompt = _setting(
        None, "Implement the function whose body is empty or a stub.", factory=ActionPrompt
    )
    docstring: ActionPrompt = _setting(
        None, "Add a docstring or doc comment.", factory=ActionPrompt
    )
    fix: ActionPrompt = _setting(
        None, "Fix a diagnostic from any server.", factory=ActionPrompt
    )
    rewrite: ActionPrompt = _setting(
        None, "Rewrite the selection following an instruction.", factory=ActionPrompt
    )
    explain: ActionPrompt = _setting(None, "Explain the selection.", factory=ActionPrompt)
    custom: list[CustomAction] = _setting(
        None,
        "Actions of your own, each `{\"title\", \"prompt\", \"output\"?, \"mode\"?, "
        "\"fimPrompt\"?, \"maxNewTokens\"?}`; they act on the selection.",
        factory=list,
    )


@attrs.frozen
class Debounce:
    """Hold a request that needs the backend while the user is still typing."""

    enabled: bool = _setting(
        True, "Wait, after a keystroke, about as long as the user's next keystroke usually "
        "takes; a newer request cancels the held one. Cache hits are never held."
    )
    min_ms: int = _setting(10, "Shortest hold, in milliseconds (first keystroke, after a pause).",
                           lo=0, hi=2000)
    max_ms: int = _setting(250, "Longest hold, in milliseconds.", lo=0, hi=5000)
    pause_ms: int = _setting(
        1000, "A gap between keystrokes longer than this is a pause, not typing.", lo=50,
        hi=60_000,
    )


@attrs.frozen
class Suggestions:
    """How suggestions are reused and how many are asked for."""

    typing_through: bool = _setting(
        True, "While the user types the start of a suggestion already shown, answer with the "
        "rest of it at once, without a request (backspace within it too).",
    )
    cancel_previous: bool = _setting(
        True, "A newer request for the same document cancels the older one's backend call."
    )
    invoked_count: int = _setting(
        3, "Alternatives asked for (`num_return_sequences`) when the user invokes completion "
        "explicitly; automatic requests ask for `parameters.num_return_sequences`.", lo=1, hi=10,
    )


@attrs.frozen
class Tokens:
    """The prompt's token budget: context window − `max_new_tokens` − the template's tokens."""

    context_window: int = _setting(
        8192, "Tokens the model reads and writes in one request.", lo=64, hi=2_000_000
    )
    prefix_ratio: float = _setting(
        0.75, "Share of the budget for the code before the cursor (the rest is for the code "
        "after it; what one side leaves unused goes to the other).", lo=0, hi=1,
    )
    tokenizer_path: str | None = _setting(
        None, "A `tokenizer.json` to count tokens exactly. Unset: a calibrated estimate "
        "(`charsPerToken`), or one from the Hub (`tokenizerRepository`, `allowDownload`).",
    )
    tokenizer_url: str | None = _setting(
        None, "Where to download `tokenizerPath` from when that file does not exist yet "
        "(once, in the background, with the `network` settings; tokens are estimated "
        "until it is there). An existing file is never replaced.",
        check=_check_url,
    )
    tokenizer_repository: str | None = _setting(
        None, "A Hub repository (`org/name`) whose `tokenizer.json` counts tokens when "
        "`tokenizerPath` is unset: naming it allows that one download (once, in the "
        "background), whatever `allowDownload` says.",
    )
    allow_download: bool = _setting(
        False, "Fetch the model's `tokenizer.json` from the Hugging Face Hub (once, in the "
        "background) when `tokenizerPath` and `tokenizerRepository` are unset.",
    )
    chars_per_token: float = _setting(
        3.2, "The estimate used without a tokenizer: characters per token (code tokenizers "
        "give 3–4; lower is safer).", lo=0.5, hi=16,
    )


@attrs.frozen
class CrossFile:
    """Snippets from other open documents and recent edits, similar to the code being written."""

    enabled: bool = _setting(True, "Add snippets from other open documents to the prompt.")
    max_snippets: int = _setting(3, "Snippets added, at most.", lo=0, hi=20)
    window_lines: int = _setting(20, "Lines per snippet (the sliding window).", lo=2, hi=400)
    min_similarity: float = _setting(
        0.1, "Jaccard similarity to the code before the cursor below which a snippet is "
        "left out.", lo=0, hi=1,
    )
    budget_share: float = _setting(
        0.3, "Share of the prompt's token budget the snippets may take.", lo=0, hi=0.9
    )


@attrs.frozen
class Settings:
    """Everything hf-lsp can be told. Every field has a default."""

    backend: str = _setting("huggingface", "Which wire format to speak.", choices=BACKENDS)
    url: str | None = _setting(
        None,
        "Endpoint. Unset: the backend's usual address (`huggingface`: "
        f"`{DEFAULT_URL}`; `tgi`: `{DEFAULT_URLS['tgi']}`; `openai`: "
        f"`{DEFAULT_URLS['openai']}`; `ollama`: `{DEFAULT_URLS['ollama']}`; `llamacpp`: "
        f"`{DEFAULT_URLS['llamacpp']}`). For `huggingface`, a base URL is the Inference "
        "Providers router (requests take the route of `provider`); a URL with `{model}` or "
        "ending in `/models/<id>` (a proxy, a private deployment of the old API) gets the "
        "serverless API's body as it is; the retired `https://api-inference.huggingface.co` is "
        "replaced by the router. For the others it is the server's base URL (`openai` "
        "accepts it with or without `/v1`).",
        check=_check_url,
    )
    provider: str = _setting(
        "auto",
        "`huggingface` only: the Inference Provider that serves `model`. `auto`: the first "
        "provider the Hub lists as live for `text-generation` (raw fill-in-the-middle), else "
        "the first live for `conversational` (chat). A provider name (`featherless-ai`, "
        "`together`, `deepinfra`, `novita`, `hf-inference`, … any name is passed on), or a "
        "router policy for chat: `fastest`, `cheapest`, `preferred`.",
        check=_check_not_blank,
    )
    hub_url: str | None = _setting(
        None,
        "The Hub API, where the providers serving `model` are looked up. Unset: `$HF_ENDPOINT`, "
        f"else `{HUB_URL}`.",
        check=_check_url,
    )
    url_path_completion: bool = _setting(
        True,
        "Complete `url` with the backend's route (`/generate` or `/generate_stream`, "
        "`/v1/completions`, `/api/generate`, `/infill` or `/completion`, `/models/{model}`). "
        "Off: requests are POSTed to `url` exactly as written (llm-ls's "
        "`disableUrlPathCompletion`); `tgi` and `huggingface` then stream only when it ends "
        "in `/generate_stream` (otherwise they ask for the whole answer), and `tgi` reads its "
        "limits from `/info` only beside a `/generate` or `/generate_stream` URL. No effect "
        "while `url` is unset.",
    )
    model: str = _setting(
        DEFAULT_MODEL,
        "Model id on the Hub (`huggingface`), or the model name the server knows (`openai`, "
        "`ollama`; `tgi` and `llamacpp` serve one model and use it only to pick FIM tokens).",
        check=_check_not_blank,
    )
    api_token: str | None = _setting(
        None,
        "Hugging Face token. Unset: `$HF_TOKEN`, `$HUGGING_FACE_HUB_TOKEN`, then the file "
        "`$HF_TOKEN_PATH` or `$HF_HOME/token` (`~/.cache/huggingface/token`).",
    )
    parameters: Parameters = _setting(None, "Generation parameters.", factory=Parameters)
    options: Options = _setting(None, "Inference API options.", factory=Options)
    fim: Fim = _setting(None, "Fill-in-the-middle format.", factory=Fim)
    completion_mode: str = _setting(
        "auto",
        "How completions ask the model: `fim` (a fill-in-the-middle prompt, for base code "
        "models), `chat` (`/v1/chat/completions` with the hole marked in a chat prompt, for "
        "instruction models; `openai`, `tgi`, `ollama` and `llamacpp`) or `auto` (chat for "
        "`openai` when the model id looks instruction-tuned: it contains `instruct`, `chat` or "
        "`-it`). `huggingface` picks its route from the model's providers.",
        choices=ACTION_MODES,
    )
    context: Context = _setting(None, "Prompt window.", factory=Context)
    max_new_tokens: MaxNewTokens = _setting(
        None, "Generation length by cursor position.", factory=MaxNewTokens
    )
    cache: Cache = _setting(None, "Completion cache.", factory=Cache)
    debounce: Debounce = _setting(None, "Adaptive debounce.", factory=Debounce)
    suggestions: Suggestions = _setting(
        None, "Typing-through, cancel-previous, alternatives.", factory=Suggestions
    )
    tokens: Tokens = _setting(None, "Token budget.", factory=Tokens)
    cross_file: CrossFile = _setting(None, "Cross-file context.", factory=CrossFile)
    request_timeout: float = _setting(
        30.0, "Seconds to wait for the backend's answer before giving up: in all, for a "
        "completion's stream too.", lo=0.1, hi=600
    )
    slow_request_seconds: float = _setting(
        3.0, "Log a backend request slower than this, with what would make it faster (once "
        "per burst of slow requests). 0: never.", lo=0, hi=600
    )
    stream: bool | None = _setting(
        None,
        "Stream the answer (SSE / NDJSON): cancelling closes the stream so the server stops "
        "decoding, and a single-line completion stops at its newline. Unset: on for `tgi`, "
        "`openai`, `ollama`, `llamacpp` and `huggingface` through the router; off for a "
        "`huggingface` URL of one model.",
    )
    request_body: dict[str, Any] = _setting(
        None,
        "Extra fields merged into every request body, for what no setting maps (e.g. "
        '`{"seed": 1}` or `{"options": {"num_ctx": 8192}}` for Ollama).',
        factory=dict,
    )
    tokens_to_clear: list[str] = _setting(
        None,
        "Strings removed from every generated text wherever they appear, once the stop "
        "sequences and the model family's end and FIM tokens have cut it (e.g. a marker of a "
        "model hf-lsp has no template for). llm-ls's `tokensToClear`.",
        factory=list,
    )
    network: Network = _setting(None, "Network and TLS.", factory=lambda: Network())
    rate_limit: RateLimit = _setting(
        None, "Client-side rate limiting, per backend.", factory=lambda: RateLimit()
    )
    long_generation: LongGeneration = _setting(
        None,
        "Generations longer than one request allows (code actions).",
        factory=lambda: LongGeneration(),
    )
    actions: Actions = _setting(
        None, "Code actions (docs/actions.md).", factory=lambda: Actions()
    )

    def endpoint(self) -> str:
        """The URL requests go to (for `huggingface`: the router, or the model's own URL)."""
        url = self.url or DEFAULT_URLS[self.backend]
        if self.backend == "huggingface" and is_legacy(url):
            return ROUTER_URL
        if self.verbatim:
            return url.strip().replace("{model}", self.model)
        if self.backend == "huggingface" and not self.provider_routing:
            return resolve_url(url, self.model)
        return url.strip().rstrip("/")

    @property
    def provider_routing(self) -> bool:
        """`huggingface` through the Inference Providers router (not one model's own URL)."""
        if self.backend != "huggingface":
            return False
        url = self.url or DEFAULT_URL
        if is_legacy(url):
            return True
        return not self.verbatim and "{model}" not in url and not _MODELS_SUFFIX.search(url)

    @property
    def verbatim(self) -> bool:
        """Requests go to `url` exactly as written: no route is appended to it."""
        return not self.url_path_completion and self.url is not None

    @property
    def streaming(self) -> bool:
        if self.stream is not None:
            return self.stream
        return self.backend != "huggingface" or self.provider_routing


def hub_endpoint(settings: Settings | None = None, env: Mapping[str, str] | None = None) -> str:
    """The Hub API base: the `hubUrl` setting, else `$HF_ENDPOINT`, else huggingface.co."""
    env = os.environ if env is None else env
    chosen = (settings.hub_url if settings is not None else None) or env.get("HF_ENDPOINT", "")
    return (chosen.strip() or HUB_URL).rstrip("/")


def is_legacy(url: str) -> bool:
    """A URL on the retired serverless API's host."""
    host = (urlsplit(url.strip()).hostname or "").lower()
    return host in LEGACY_HOSTS


_MODELS_SUFFIX = re.compile(r"/models/[^/]+(/[^/]+)?/?$")


def resolve_url(url: str, model: str) -> str:
    """Turn the `url` setting into the endpoint for `model`."""
    url = url.strip()
    if "{model}" in url:
        return url.replace("{model}", model)
    if _MODELS_SUFFIX.search(url):
        return url.rstrip("/")
    base = url.rstrip("/")
    if base.endswith("/models"):  # the legacy base written with its `/models`
        return base + "/" + model
    return base + "/models/" + model


# --- conversion ---------------------------------------------------------------------------

_WIRE_NAMED = (Parameters, Options)
_NESTED = (
    Parameters, Options, Fim, Context, MaxNewTokens, Cache, Debounce, Suggestions, Tokens,
    CrossFile, Network, RateLimit, LongGeneration, ActionPrompt, CustomAction, Actions, Settings,
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def wire_name(cls: type, name: str) -> str:
    return name if cls in _WIRE_NAMED else camel(name)


def _strict(kind: type, label: str) -> Callable[[Any, type], Any]:
    def structure(value: Any, _: type) -> Any:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"must be {label} (got {value!r})")
        if not isinstance(value, kind):
            raise TypeError(f"must be {label} (got {value!r})")
        return value

    return structure


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False)
    conv.register_structure_hook(int, _strict(int, "a whole number"))
    conv.register_structure_hook(float, _strict(float, "a number"))
    conv.register_structure_hook(bool, _strict(bool, "true or false"))
    conv.register_structure_hook(str, _strict(str, "a string"))

    def structure_str_list(value: Any, _: type) -> list[str]:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"must be a list of strings (got {value!r})")
        return list(value)

    conv.register_structure_hook_func(lambda t: t == list[str], structure_str_list)

    def structure_object(value: Any, _: type) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise TypeError(f"must be a JSON object (got {value!r})")
        return dict(value)

    conv.register_structure_hook_func(lambda t: t == dict[str, Any], structure_object)
    for cls in _NESTED:
        attrs.resolve_types(cls)
        renames = {f.name: override(rename=wire_name(cls, f.name)) for f in attrs.fields(cls)}
        # each field is checked as it is structured, not by the constructor: the constructor
        # stops at the first bad field, and does not run at all when a nested object is bad
        checked = {
            f.name: override(
                rename=wire_name(cls, f.name),
                struct_hook=_checked(conv.get_structure_hook(f.type), f),
            )
            for f in attrs.fields(cls)
            if f.metadata.get("checks")
        }
        # cattrs types the per-field overrides as **kwargs of its boolean options: hence Any
        structure_overrides: dict[str, Any] = {**renames, **checked}
        unstructure_overrides: dict[str, Any] = dict(renames)
        conv.register_structure_hook(
            cls, make_dict_structure_fn(cls, conv, **structure_overrides)
        )
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, **unstructure_overrides)
        )
    return conv


def _checked(
    hook: Callable[[Any, Any], Any], field: attrs.Attribute[Any]
) -> Callable[[Any, Any], Any]:
    def structure(value: Any, type_: Any) -> Any:
        result = hook(value, type_)
        for check in field.metadata["checks"]:
            try:
                check(None, field, result)
            except _FieldError as exc:  # cattrs already knows the path
                raise ValueError(str(exc)) from None
        return result

    return structure


# built on first use (~25 ms, mostly compiling its hooks): the server's start-up does not wait
converter = functools.cache(_make_converter)


def _format_exception(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, _FieldError):
        return f"{exc}\x00{exc.field}"
    if isinstance(exc, (TypeError, ValueError)) and str(exc).startswith("must"):
        return str(exc)
    if isinstance(exc, KeyError):
        return "is required"
    if isinstance(exc, (TypeError, ValueError, AttributeError)):
        name = getattr(type_, "__name__", None) or str(type_)
        return f"must be {_article(name)}"
    return f"is invalid ({exc})"


def _article(name: str) -> str:
    if any(cls.__name__ == name for cls in _NESTED):
        return "an object"
    return name


def parse_settings(data: Any) -> Settings:
    """Build validated settings from the JSON an editor sent (``None`` means all defaults)."""
    if data is None:
        return Settings()
    if not isinstance(data, Mapping):
        raise SettingsError(f"{SECTION}: settings must be a JSON object (got {data!r})")
    lines = []
    try:
        settings = converter().structure(dict(data), Settings)
    except Exception as exc:  # cattrs raises ClassValidationError; anything else is a bug here
        problems = (
            cattrs.transform_error(exc, path=SECTION, format_exception=_format_exception)
            if isinstance(exc, cattrs.BaseValidationError)
            else [f"{exc} @ {SECTION}"]
        )
        for problem in problems:
            message, _, where = problem.rpartition(" @ ")
            message, _, field = message.partition("\x00")
            segments = where.split(".")[1:] + ([field] if field else [])
            lines.append(f"{_wire_path(segments)} {message}")
    # checked on the raw object so that it is reported along with any other bad setting
    fim = data.get("fim")
    if isinstance(fim, Mapping):
        custom = [fim.get("prefix"), fim.get("suffix"), fim.get("middle")]
        if any(t is not None for t in custom) and not all(isinstance(t, str) and t for t in custom):
            lines.append(f"{SECTION}.fim: a custom template needs all of prefix, suffix and middle")
        elif all(isinstance(t, str) and t for t in custom):
            from hf_lsp.generation.fim_templates import misordered

            wrong = misordered(*(str(t) for t in custom))
            if wrong:
                lines.append(f"{SECTION}.fim: mis-ordered template: {wrong}")
    if lines:
        raise SettingsError("; ".join(sorted(set(lines)))) from None
    cap = settings.parameters.max_new_tokens
    if settings.backend == "huggingface" and cap is not None and cap > SERVERLESS_MAX_NEW_TOKENS:
        raise SettingsError(
            f"{SECTION}.parameters.max_new_tokens must be at most {SERVERLESS_MAX_NEW_TOKENS} "
            f"with the huggingface backend, the serverless API's cap (got {cap})"
        )
    return settings


def _wire_path(segments: list[str]) -> str:
    """``["cache", "ttl_seconds"]`` → ``hfLsp.cache.ttlSeconds``: the names the user wrote."""
    out = [SECTION]
    cls: type | None = Settings
    for segment in segments:
        field = None
        if cls is not None:
            field = next(
                (f for f in attrs.fields(cls) if segment in (f.name, wire_name(cls, f.name))),
                None,
            )
        if field is None or cls is None:
            out.append(segment)
            cls = None
            continue
        out.append(wire_name(cls, field.name))
        cls = field.type if field.type in _NESTED else None
    return ".".join(out)


def unknown_keys(data: Any, cls: type = Settings, path: str = SECTION) -> list[str]:
    """The keys in ``data`` that no setting reads (typos, or settings of another version)."""
    if not isinstance(data, Mapping):
        return []
    fields = {wire_name(cls, f.name): f for f in attrs.fields(cls)}
    found = []
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            found.append(f"{path}.{key}")
        elif field.type in _NESTED:
            found.extend(unknown_keys(value, field.type, f"{path}.{key}"))
    return found


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two raw settings objects; ``top`` wins; a ``null`` in ``top`` is ignored."""
    out = dict(base)
    for key, value in top.items():
        if value is None:
            continue
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def to_json(settings: Settings) -> dict[str, Any]:
    """Settings as the JSON an editor would send (the token is left out)."""
    data: dict[str, Any] = converter().unstructure(settings)
    data.pop("apiToken", None)
    return data
