"""The errors hf-lsp raises and translates, in one hierarchy.

::

    HfLspError
    ├── SettingsError            a setting is malformed; the message names it
    └── BackendError             the backend did not give us text
        ├── HttpStatusError      the backend answered with an error status
        │   ├── AuthError            401 / 403: invalid or missing token
        │   │   └── TokenMissingError    no token for Inference Providers: nothing was sent
        │   ├── CreditsError         402: the account's Inference Providers credits ran out
        │   ├── ModelNotFoundError   404
        │   ├── ModelLoadingError    503 "... is currently loading" (estimated_time)
        │   ├── RateLimitedError     429 (retry_after)
        │   ├── BadRequestError      400 / 422: the server's own validation text
        │   │   ├── UnusedParametersError  400 "model_kwargs are not used": names them
        │   │   └── ProviderError    the model is not served by the provider (or by any)
        │   └── ServerError          5xx and anything else
        ├── MalformedResponseError   2xx whose body is not the expected shape
        └── TransportError           no answer: connection refused or dropped, TLS
            └── BackendTimeoutError  the answer took too long

Backends raise these at their edge (no httpx exception leaves ``hf_lsp.backends``); the
engine decides what the user sees. Every message includes the raw error body, with the
token redacted by the logging layer and by :func:`hf_lsp.redact.redact` before it is
stored here.
"""

from __future__ import annotations


class HfLspError(Exception):
    """Base class of every error hf-lsp raises on purpose."""


class SettingsError(HfLspError):
    """A setting has the wrong type or is out of range."""


class BackendError(HfLspError):
    """The backend did not give us generated text.

    ``cause``: which problem the user has to fix, for one pop-up per cause (``None``: the
    engine decides from the class).
    """

    cause: str | None = None

    def __init__(self, message: str, *, body: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.body = body

    def __str__(self) -> str:
        if self.body and self.body not in self.message:
            return f"{self.message} (response: {_clip(self.body)})"
        return self.message


class HttpStatusError(BackendError):
    """The backend answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int, body: str = "") -> None:
        super().__init__(message, body=body)
        self.status = status


class AuthError(HttpStatusError):
    """401 or 403: the token is invalid, missing or lacks permission."""


class TokenMissingError(AuthError):
    """No token anywhere, for a service that needs one: the request was not sent."""

    cause = "token-missing"

    def __init__(self, message: str) -> None:
        super().__init__(message, status=0)


class CreditsError(HttpStatusError):
    """402: the account has no Inference Providers credits left."""

    cause = "credits"


class ModelNotFoundError(HttpStatusError):
    """404: the model (or the URL path) does not exist."""


class ModelLoadingError(HttpStatusError):
    """503 while the model is being loaded; retry with ``wait_for_model``."""

    def __init__(
        self, message: str, *, status: int, body: str = "", estimated_time: float | None = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.estimated_time = estimated_time


class RateLimitedError(HttpStatusError):
    """429: too many requests; ``retry_after`` seconds from the header when given."""

    def __init__(
        self, message: str, *, status: int, body: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class BadRequestError(HttpStatusError):
    """400 or 422: the server rejected the request; its own text says why."""


class UnusedParametersError(BadRequestError):
    """400 from a non-TGI model that does not accept some generation parameters."""

    def __init__(self, message: str, *, status: int, body: str = "", names: list[str]) -> None:
        super().__init__(message, status=status, body=body)
        self.names = names


class ProviderError(BadRequestError):
    """The model is not served by the configured provider, or by any provider now."""

    cause = "provider"


class ServerError(HttpStatusError):
    """5xx or another unexpected status."""


class MalformedResponseError(BackendError):
    """A success status whose body is not what the wire format promises."""


class TransportError(BackendError):
    """No answer at all: connection refused, dropped, TLS failure."""


class BackendTimeoutError(TransportError):
    """The backend did not answer in time."""


def _clip(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"
