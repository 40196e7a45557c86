"""``hf-lsp check``: one tiny request to the configured backend, and what to do if it fails."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from hf_lsp.cli.exchange import show_exchange
from hf_lsp.completion.chat_fim import completion_route
from hf_lsp.config.layered import Configuration
from hf_lsp.config.settings import Settings
from hf_lsp.errors import (
    AuthError,
    BackendTimeoutError,
    BadRequestError,
    CreditsError,
    HfLspError,
    MalformedResponseError,
    ModelLoadingError,
    ModelNotFoundError,
    ProviderError,
    RateLimitedError,
    TokenMissingError,
    TransportError,
)
from hf_lsp.generation.contract import GenerationRequest
from hf_lsp.generation.parameters import sampling_parameters
from hf_lsp.redact import redact

PREFIX = "def fibonacci(n):\n    "
SUFFIX = "\n"
URL_HINTS = {
    "huggingface": "the Inference Providers router, https://router.huggingface.co (or a URL "
    "ending in /models/{model} for the serverless API's body)",
    "tgi": "the server's base URL, without /generate (e.g. http://127.0.0.1:8080, or an "
    "Inference Endpoint's URL)",
    "openai": "the server's base URL, with or without /v1 (e.g. http://127.0.0.1:8000/v1)",
    "ollama": "Ollama's base URL (e.g. http://127.0.0.1:11434)",
    "llamacpp": "llama-server's base URL (e.g. http://127.0.0.1:8080)",
}


def exc_cause(exc: HfLspError) -> str | None:
    return getattr(exc, "cause", None)


def diagnose(exc: HfLspError, settings: Settings, token_source: str) -> str:
    """A plain-language reading of a failure, naming the setting to change."""
    backend = settings.backend
    if isinstance(exc, TokenMissingError):
        return "add a token (see above); nothing is sent without one"
    if isinstance(exc, (CreditsError, ProviderError)) or exc_cause(exc) in ("permission",
                                                                          "legacy"):
        return "see above: the message says what to change"
    if isinstance(exc, AuthError):
        if token_source.startswith("none"):
            return ("no token was sent (" + token_source + "): set hfLsp.apiToken or $HF_TOKEN, "
                    "or run `huggingface-cli login`")
        return (f"the token from {token_source} was refused: it is invalid, expired, or lacks "
                "permission for this model (a fine-grained token needs 'Make calls to Inference "
                "Providers')")
    if isinstance(exc, ModelNotFoundError):
        return (f"404: the model {settings.model!r} or the URL path is wrong. hfLsp.url should be "
                f"{URL_HINTS[backend]}; is hfLsp.backend ({backend!r}) the server you run?")
    if isinstance(exc, ModelLoadingError):
        return "the model is still loading: try again in a minute"
    if isinstance(exc, BadRequestError):
        text = str(exc).lower()
        if "infill" in text or "suffix" in text or "insert" in text:
            return ("the server or model cannot fill in the middle: use a FIM model, or the "
                    "`openai` backend with hfLsp.fim set for the model's tokens")
        return "the server rejected the request: its own message above says which parameter"
    if isinstance(exc, RateLimitedError):
        return ("rate limited: wait and try again (hf-lsp's own cap, if any, is "
                "hfLsp.rateLimit.requestsPerMinute)")
    if isinstance(exc, BackendTimeoutError):
        return ("the server did not answer in hfLsp.requestTimeout seconds: it may be overloaded "
                "or loading; raise the timeout or try again")
    if isinstance(exc, TransportError):
        text = str(exc)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            return ("TLS failed: trust the server's CA with hfLsp.network.caBundle, or (for a "
                    "self-signed local server only) set hfLsp.network.tlsVerify to false")
        return (f"cannot reach {settings.endpoint()}: is the server running and hfLsp.url right? "
                f"Expected {URL_HINTS[backend]}. A proxy? Set hfLsp.network.proxy or HTTPS_PROXY")
    if isinstance(exc, MalformedResponseError):
        return (f"the answer is not in the {backend!r} format: is hfLsp.backend right for this "
                "server, and hfLsp.url its address?")
    return "the server failed: its message above says why"


async def run_check(settings: Settings) -> int:
    """Print the set-up, one exchange and a verdict; 0 only when text came back."""

    def exchange(url: str, body: Mapping[str, Any], status: int, raw: str) -> None:
        show_exchange(url, body, status, raw, token=config.token is not None)

    config = Configuration(settings, on_exchange=exchange)
    engine = config.engine
    print(f"backend   {settings.backend}\nendpoint  {settings.endpoint()}\nmodel     "
          f"{settings.model}\ntoken     {config.token_source}\nstreaming {settings.streaming}")
    try:
        if settings.provider_routing:
            print(f"provider  {settings.provider}")
            try:
                route = await engine.backend.route(settings.model)  # type: ignore[attr-defined]
            except HfLspError as exc:
                print(f"route     FAILED: {redact(str(exc))}")
                print(f"diagnosis {diagnose(exc, settings, config.token_source)}")
                return 1
            print(f"route     {route.describe()}")
        limits = await engine.backend.limits()
        if limits is not None:
            print(f"limits    max_input_tokens {limits.max_input_tokens}, max_total_tokens "
                  f"{limits.max_total_tokens}, max_stop_sequences {limits.max_stop_sequences}")
        template = engine.template()
        request = GenerationRequest(
            prompt=template.render(PREFIX, SUFFIX) if settings.fim.enabled else PREFIX,
            parameters=sampling_parameters(settings.parameters, max_new_tokens=16,
                                           stops=(*settings.parameters.stop, *template.stop)),
            options={"use_cache": False, "wait_for_model": settings.options.wait_for_model},
            model=settings.model,
            prefix=PREFIX,
            suffix=SUFFIX if settings.fim.enabled else "",
            fim=settings.fim.enabled,
            chat=completion_route(settings, engine.backend) == "chat",
        )
        started = time.monotonic()
        try:
            generation = await engine.client.generate(request, max_wait=5.0, invoked=True)
        except HfLspError as exc:
            print(f"result    FAILED after {time.monotonic() - started:.2f} s: {redact(str(exc))}")
            print(f"diagnosis {diagnose(exc, settings, config.token_source)}")
            return 1
        elapsed = time.monotonic() - started
        text = generation.texts[0] if generation.texts else ""
        if not text.strip():
            print(f"result    FAILED: the backend answered with no text in {elapsed:.2f} s")
            print("diagnosis the model produced nothing: is it a code model, and hfLsp.fim "
                  "right for it?")
            return 1
        print(f"result    ok: {len(text)} characters in {elapsed:.2f} s "
              f"(finish reason {generation.finish_reason})")
        print(f"text      {text!r}")
        return 0
    finally:
        await config.aclose()

