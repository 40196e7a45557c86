"""The completion service: document + cursor → prompt → backend (cached, retried) → clean text.

It knows no LSP and no HTTP: handlers hand it a :class:`Document` and a position, and a
backend built by whoever configures it. Failures never escape :meth:`CompletionEngine.complete`:
they are logged, turned into at most one alert per cause, and answered with no completion.

A request is answered, cheapest first: from the suggestion already shown when the user is
typing it (typing-through), from the cache, or from the backend after an adaptive debounce;
a newer request for the same document cancels an older one still waiting or in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hf_lsp.completion.chat_fim import (
    HEADROOM,
    ROLE_TOKENS,
    completion_route,
    messages_prompt,
    prompt_overhead,
)
from hf_lsp.completion.debounce import Rhythm
from hf_lsp.completion.typing_through import Shown, remainders, rest_after, snapshot, typed_since
from hf_lsp.config.settings import Settings
from hf_lsp.errors import (
    HfLspError,
)
from hf_lsp.generation.cache import CompletionCache
from hf_lsp.generation.client import CallFigures, GenerationClient
from hf_lsp.generation.contract import Backend, Generation, GenerationRequest
from hf_lsp.generation.fim_templates import (
    COMMON_SPECIAL,
    FimTemplate,
    custom_template,
    template_for,
)
from hf_lsp.generation.parameters import sampling_parameters
from hf_lsp.language.context import Spot, Window, window
from hf_lsp.language.crossfile import CrossFile
from hf_lsp.language.document import Document
from hf_lsp.language.languages import language_from_path, path_header
from hf_lsp.language.postprocess import Cleanup, clean, clean_with_range
from hf_lsp.language.token_count import Counters, fit, plan

log = logging.getLogger(__name__)

Alert = Callable[[str, str], None]
"""Called with (cause, message) when the user must act; the engine calls it once per cause."""

MAX_LOADING_WAIT = 120.0  # seconds: the longest the API's own `max_time` allows
RETRY_NOW_BELOW = 1.0  # a 429 asking to wait less than this is retried at once
ISSUED_KEPT = 512  # suggestions remembered for accept/shown tracking
LATENCIES_KEPT = 1000
CLEANED_KEPT = 256
ADOPT_GRACE = 1.0  # seconds a stream whose request was cancelled waits for one typing through it
ATTEMPTS = 8  # backend calls one generation may make (loading, dropped parameters, 429s)
SLOW_BURST_GAP = 60.0  # seconds without a slow request before the next one is logged again


@dataclass(frozen=True)
class Completion:
    """Text to insert at the cursor, ``(line, index)`` in Python string units.

    ``replace`` characters after the cursor (auto-closed brackets or quotes the text writes
    itself) are replaced by it; ``id`` names the suggestion for accept/shown tracking.
    """

    text: str
    line: int
    index: int
    replace: int = 0
    id: str = ""


@dataclass
class Outcome:
    """What one completion request produced, with what it cost."""

    completions: list[Completion]
    from_cache: bool = False
    request: GenerationRequest | None = None
    error: str | None = None
    spot: Spot | None = None
    typing_through: bool = False
    cancelled: bool = False


@dataclass(eq=False)
class Flight:
    """A backend call made for one cursor, which a request typing through it may adopt.

    ``anchor`` is the document around the cursor the call was made for; ``streamed`` the
    text that has arrived so far. The call is cancelled when its last owner goes, except
    that a stream whose request the editor cancelled lingers for :data:`ADOPT_GRACE` seconds:
    the editor cancels a request on the very keystroke that types into its suggestion.
    """

    key: str
    anchor: Shown
    request: GenerationRequest
    win: Window
    language_id: str
    ranges: bool  # the items may replace auto-closed characters (see ``complete``)
    streams: bool  # the answer arrives as a stream, so a typist can be checked against it
    task: asyncio.Future[tuple[Generation, bool]] = field(init=False)
    streamed: str = ""
    started: bool = False  # past the debounce: the backend has been asked
    superseded: bool = False  # cancelled for a newer request for the same document
    owners: int = 1  # requests waiting for the answer
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    linger: asyncio.TimerHandle | None = None
    invoked: bool = False  # the user asked: never debounced, never dropped by a limit
    go: asyncio.Event = field(default_factory=asyncio.Event)  # ends the debounce at once

    def arrived(self, text: str) -> None:
        self.streamed = text
        self.changed.set()

    def join(self) -> None:
        """One more request waits for the answer: a lingering stream stays open."""
        self.owners += 1
        self.stop_lingering()

    def stop_lingering(self) -> None:
        if self.linger is not None:
            self.linger.cancel()
            self.linger = None


@dataclass
class Figures(CallFigures):
    """Running figures for ``hfLsp/status`` and the log."""

    requests: int = 0
    cache_hits: int = 0
    typing_through: int = 0
    typing_through_streams: int = 0
    cancellations: int = 0
    debounced_ms: float = 0.0
    last_max_new_tokens: int | None = None
    last_latency_ms: float | None = None
    last_prompt_tokens: int | None = None
    token_counter: str = "estimate"
    cross_file_snippets: int = 0
    skipped: int = 0
    items: int = 0
    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCIES_KEPT))
    by_spot: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def percentile(values: Iterable[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


class CompletionEngine:
    """Owns the settings in force, the backend, the cache and the retry policy."""

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        *,
        alert: Alert | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        counters: Counters | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self.cache: CompletionCache[Generation] = CompletionCache(
            settings.cache.size, settings.cache.ttl_seconds, timer=clock
        )
        self.figures = Figures()
        self.client = GenerationClient(
            settings, backend, figures=self.figures, alert=alert, clock=clock, sleep=sleep
        )
        self.counters = counters or Counters()
        self.crossfile = CrossFile()
        self.rhythm = self._rhythm(settings)
        self._shown: dict[str, Shown] = {}
        self._pending: dict[str, Flight] = {}
        self._issued: OrderedDict[str, bool] = OrderedDict()  # id → shown already
        self._ids = itertools.count(1)
        # a cache hit needs no second clean-up: the same answer for the same request
        self._cleaned: OrderedDict[tuple[Any, ...], dict[str, int]] = OrderedDict()

    @staticmethod
    def _rhythm(settings: Settings) -> Rhythm:
        d = settings.debounce
        return Rhythm(d.min_ms / 1000, d.max_ms / 1000, d.pause_ms / 1000)

    # --- configuration ------------------------------------------------------------------

    async def reconfigure(self, settings: Settings, backend: Backend | None) -> None:
        """Take new settings; ``backend`` replaces the current one when the endpoint changed."""
        old = self.settings
        self.settings = settings
        await self.client.reconfigure(settings, backend)
        if (old.cache.size, old.cache.ttl_seconds) != (
            settings.cache.size,
            settings.cache.ttl_seconds,
        ):
            self.cache = CompletionCache(
                settings.cache.size, settings.cache.ttl_seconds, timer=self._clock
            )
        if old.debounce != settings.debounce:
            self.rhythm = self._rhythm(settings)
        if old != settings:
            self._shown.clear()  # a suggestion from another model or template is stale

    async def aclose(self) -> None:
        await self.client.aclose()

    @property
    def backend(self) -> Backend:
        """The backend in use (the client's)."""
        return self.client.backend

    # --- documents ----------------------------------------------------------------------

    def edited(self, uri: str, line: int) -> None:
        """A document changed at ``line`` (for cross-file context from recent edits)."""
        self.crossfile.edited(uri, line)

    def typed(self, uri: str) -> None:
        """The user changed the document (``didChange``): the typing rhythm's keystroke."""
        self.rhythm.keystroke(uri, self._clock())

    def closed(self, uri: str) -> None:
        self._shown.pop(uri, None)
        flight = self._pending.pop(uri, None)
        if flight is not None and flight.owners <= 0 and not flight.task.done():
            flight.task.cancel()  # a lingering stream for a document no one can type in
        self.crossfile.forget(uri)
        self.rhythm.forget(uri)

    # --- the prompt ---------------------------------------------------------------------

    def template(self) -> FimTemplate:
        fim = self.settings.fim
        base = template_for(self.settings.model, fim.template)
        if fim.prefix and fim.suffix and fim.middle:
            return custom_template(fim.prefix, fim.suffix, fim.middle, base)
        return base

    def build_request(
        self,
        doc: Document,
        line: int,
        index: int,
        path: str | None = None,
        *,
        others: Iterable[Document] = (),
        repo: str = "",
        invoked: bool = False,
    ) -> tuple[GenerationRequest, Window]:
        """The generation request for a cursor at ``(line, index)`` of ``doc``.

        ``path`` is how the prompt names the file (e.g. relative to the workspace); by
        default, the path of the document's URI. ``others`` are the other open documents,
        for cross-file context; ``invoked`` asks for several alternatives.
        """
        s = self.settings
        win = window(doc, line, index, s.context)
        template = self.template()
        max_new = self.max_new_tokens(win.spot)
        path = path or _display_path(doc.uri)
        language = doc.language_id or language_from_path(path)
        header = path_header(path, language) if s.context.include_file_path else ""
        t = s.tokens
        counter = self.counters.get(
            t.tokenizer_path, s.model, t.allow_download, t.chars_per_token,
            repository=t.tokenizer_repository, url=t.tokenizer_url,
        )
        self.figures.token_counter = counter.name
        markers = counter.count(template.render("", "")) + counter.count(header)
        chat = completion_route(s, self.backend) == "chat"
        if chat:  # the chat prompt's words, not the FIM tokens
            markers = (counter.count(prompt_overhead(language, path)) + ROLE_TOKENS + HEADROOM
                       + counter.count(header))
        window_tokens = s.tokens.context_window
        limits = self.client.server_limits
        if limits is not None and limits.max_total_tokens:
            window_tokens = min(window_tokens, limits.max_total_tokens)  # TGI's /info
        total, _, _ = plan(window_tokens, max_new, markers, s.tokens.prefix_ratio)
        if limits is not None and limits.max_input_tokens:
            total = min(total, max(0, limits.max_input_tokens - markers))
        context = comments = ""
        snippets = 0
        if s.cross_file.enabled and s.cross_file.max_snippets and win.spot is not Spot.MID_WORD:
            found = self.crossfile.snippets(
                win.prefix[-4000:],
                doc,
                line,
                others,
                window_lines=s.cross_file.window_lines,
                max_snippets=s.cross_file.max_snippets,
                min_similarity=s.cross_file.min_similarity,
                near=s.context.max_prefix_lines,
            )
            full = _display_path(doc.uri)
            root = full[: len(full) - len(path)] if path != full and full.endswith(path) else ""
            room = int(total * s.cross_file.budget_share)
            files: list[tuple[str, str]] = []
            for snippet in found:
                cost = counter.count(snippet.text) + 8  # + its path line
                if cost > room:
                    continue
                room -= cost
                other = _display_path(snippet.uri)
                if root and other.startswith(root):
                    other = other[len(root) :]  # relative to the workspace, as `path` is
                files.append((other, snippet.text))
            snippets = len(files)
            if files and template.file_sep and s.fim.enabled and not chat:
                context = template.files(files, path, repo)
                header = ""  # the file separator names the file
            elif files:
                comments = "".join(
                    path_header(p, language_from_path(p) or language) + _ending(t)
                    for p, t in files
                )
            total -= counter.count(context) + counter.count(comments)
        prefix, suffix = fit(
            win.prefix, win.suffix, counter, total, int(max(0, total) * s.tokens.prefix_ratio)
        )
        prefix = comments + header + prefix
        prompt = template.render(prefix, suffix, context) if s.fim.enabled else context + prefix
        if chat:
            prompt = messages_prompt(prefix, suffix if s.fim.enabled else "", language=language,
                                     path=path)
        self.figures.cross_file_snippets = snippets
        self.figures.last_prompt_tokens = counter.count(prompt)
        return GenerationRequest(
            prompt=prompt,
            parameters=self._parameters(win, template, invoked),
            options=self._options(invoked),
            model=s.model,
            prefix=prefix,
            suffix=suffix if s.fim.enabled else "",
            fim=s.fim.enabled,
            language=language,
            path=path,
            chat=chat,
        ), win

    def max_new_tokens(self, spot: Spot) -> int:
        chosen = self.settings.parameters.max_new_tokens
        if chosen is not None:
            return chosen
        by_spot = self.settings.max_new_tokens
        return {
            Spot.MID_WORD: by_spot.mid_line,
            Spot.MID_LINE: by_spot.mid_line,
            Spot.END_OF_LINE: by_spot.end_of_line,
            Spot.EMPTY_LINE: by_spot.empty_line,
            Spot.BLOCK_OPENER: by_spot.block_opener,
        }[spot]

    def _options(self, invoked: bool) -> dict[str, Any]:
        o = self.settings.options
        # asked for alternatives: the API's own cache would answer the same text again
        return {"use_cache": o.use_cache and not invoked, "wait_for_model": o.wait_for_model}

    def _parameters(self, win: Window, template: FimTemplate, invoked: bool = False
                    ) -> dict[str, Any]:
        p = self.settings.parameters
        sequences = p.num_return_sequences
        if invoked:
            sequences = max(sequences, self.settings.suggestions.invoked_count)
        # a single line stops the server at its end: this line only, and the tokens saved
        stops = [*p.stop, *(["\n"] if win.single_line else []), *template.stop]
        return sampling_parameters(
            p, max_new_tokens=self.max_new_tokens(win.spot), stops=stops, sequences=sequences,
            full_text=p.return_full_text, dropped=self.client.dropped.get(self.settings.model, ()),
        )

    # --- the request --------------------------------------------------------------------

    async def complete(
        self,
        doc: Document,
        line: int,
        index: int,
        path: str | None = None,
        *,
        others: Iterable[Document] = (),
        repo: str = "",
        invoked: bool = False,
        ranges: bool = True,
        alternatives: bool | None = None,
    ) -> Outcome:
        """Completions for the cursor at ``(line, index)``; never raises a backend error.

        ``invoked``: the user asked (not typing): never debounced, never dropped by a
        limit, and (unless ``alternatives`` is false) several alternatives are asked for.
        ``ranges``: the client can replace auto-closed characters after the cursor (an
        inline item's ``range``); otherwise the text is trimmed so as not to repeat them.
        """
        f = self.figures
        f.requests += 1
        started = self._clock()
        uri = doc.uri
        s = self.settings
        if s.suggestions.typing_through and not invoked:
            through = self._typing_through(doc, line, index, started)
            if through is None and uri in self._pending:
                through = await self._adopt(self._pending[uri], doc, line, index, started)
            if through is not None:
                return through
        await self.client.learn_limits()
        several = invoked if alternatives is None else alternatives
        request, win = self.build_request(
            doc, line, index, path, others=others, repo=repo, invoked=several
        )
        if win.spot is Spot.MID_WORD:
            f.skipped += 1
            log.debug("no completion in the middle of a word")
            return Outcome([], spot=win.spot)
        max_new = request.parameters.get("max_new_tokens")
        f.last_max_new_tokens = max_new
        spot = f.by_spot.setdefault(win.spot.value, {"requests": 0, "backendCalls": 0})
        spot["requests"] += 1
        spot["maxNewTokens"] = max_new
        key = request.cache_key(getattr(self.backend, "endpoint", ""))
        cached = self.cache.get(key)
        flight: Flight | None = None
        if cached is not None:
            self._supersede(uri, None)
            self.cache.hits += 1
            generation, from_cache = cached, True
        else:
            flight = self._launch(doc, line, index, key, request, win, ranges, invoked)
            try:
                generation, from_cache = await asyncio.shield(flight.task)
            except asyncio.CancelledError:
                if flight.superseded and flight.task.cancelled():
                    return Outcome([], request=request, spot=win.spot, cancelled=True)
                raise  # the editor cancelled this request
            except HfLspError as exc:
                self.client.report(exc)
                return Outcome([], request=request, error=str(exc), spot=win.spot)
            finally:
                self._release(flight)
            if not from_cache:
                elapsed = (self._clock() - started) * 1000
                f.last_latency_ms = round(elapsed, 1)
                spot["backendCalls"] += 1
                spot.setdefault("latencies", deque(maxlen=200)).append(elapsed)
        if from_cache:
            f.cache_hits += 1
        f.latencies.append((self._clock() - started) * 1000)
        if flight is not None:  # the document may have changed while the model wrote
            seen = self._settle(flight, generation, from_cache)
        else:
            seen = self._cleaned_texts(generation, from_cache, key, request, win,
                                       doc.language_id, ranges)
            if seen:
                self._shown[uri] = snapshot(doc, line, index, tuple(seen), tuple(seen.values()))
        completions = [self._issue(Completion(t, line, index, r)) for t, r in seen.items()]
        if not completions or not s.suggestions.typing_through:
            self._shown.pop(uri, None)
        return Outcome(completions, from_cache=from_cache, request=request, spot=win.spot)

    def _typing_through(
        self, doc: Document, line: int, index: int, started: float
    ) -> Outcome | None:
        """The rest of the suggestion shown when the user is typing it, or ``None``."""
        shown = self._shown.get(doc.uri)
        if shown is None:
            return None
        rest = remainders(shown, doc, line, index)
        if rest == []:  # typed out in full: time for the next suggestion
            del self._shown[doc.uri]
            return None
        if rest is None:
            return None
        self._supersede(doc.uri, None)  # an older request still waiting is moot now
        return self._through(rest, line, index, started)

    def _through(
        self, rest: list[tuple[str, int]], line: int, index: int, started: float,
        flight: Flight | None = None,
    ) -> Outcome:
        f = self.figures
        f.typing_through += 1
        f.latencies.append((self._clock() - started) * 1000)
        completions = [self._issue(Completion(t, line, index, r)) for t, r in rest]
        if flight is None:
            return Outcome(completions, from_cache=True, typing_through=True)
        f.typing_through_streams += 1
        return Outcome(completions, from_cache=True, typing_through=True,
                       request=flight.request, spot=flight.win.spot)

    async def _adopt(
        self, flight: Flight, doc: Document, line: int, index: int, started: float
    ) -> Outcome | None:
        """Answer from a stream in flight that the user is typing through, or ``None``.

        The stream is followed while what has arrived agrees with what was typed since its
        cursor; once it is known to say something else, the caller asks afresh (and that
        request cancels this call). A call still in its debounce is not worth waiting for.
        """
        if not flight.streams or not flight.started or flight.superseded:
            return None
        typed = typed_since(flight.anchor, doc, line, index)
        if not typed:
            return None
        typed = typed.replace("\r\n", "\n")
        flight.join()
        try:
            while not flight.task.done():
                if flight.streamed.startswith(typed):
                    break
                if not typed.startswith(flight.streamed):
                    return None  # the model is writing something else
                flight.changed.clear()
                await flight.changed.wait()
            generation, from_cache = await asyncio.shield(flight.task)
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if me is not None and me.cancelling():
                raise  # the editor cancelled this request
            if flight.superseded:
                return Outcome([], cancelled=True)
            return None  # the call was closed under it: ask afresh
        except HfLspError:
            return None  # a fresh request meets the error, and reports it
        finally:
            self._release(flight)
        seen = self._settle(flight, generation, from_cache)
        rest = rest_after(tuple(seen), tuple(seen.values()), typed)
        if not rest:  # it said something else after all, or has been typed out in full
            return None
        return self._through(rest, line, index, started, flight)

    def _launch(
        self, doc: Document, line: int, index: int, key: str, request: GenerationRequest,
        win: Window, ranges: bool, invoked: bool = False,
    ) -> Flight:
        """Start the backend call for a cursor (after the debounce), replacing an older one.

        The same request again (an editor asking twice at one cursor) joins the call; an
        invoked request is never held, so it ends the debounce of a call it joins.
        """
        s = self.settings
        current = self._pending.get(doc.uri)
        if current is not None and current.key == key and not current.task.done():
            current.join()
            if invoked:
                current.invoked = True
                current.go.set()
            return current
        streams = s.streaming and request.parameters.get("num_return_sequences", 1) == 1
        flight = Flight(key, snapshot(doc, line, index, (), ()), request, win, doc.language_id,
                        ranges, streams, invoked=invoked)
        delay = self.rhythm.delay(doc.uri) if s.debounce.enabled and not invoked else 0.0
        enough = _first_line_done if win.single_line else None
        flight.task = asyncio.ensure_future(self._fetch(flight, delay, enough))
        flight.task.add_done_callback(lambda _: self._landed(flight))
        self._supersede(doc.uri, flight)
        return flight

    def _release(self, flight: Flight) -> None:
        """A request waiting on ``flight`` has gone: cancel the call, or let a stream linger."""
        flight.owners -= 1
        if flight.owners > 0 or flight.task.done():
            return
        lingers = (
            flight.streams
            and flight.started
            and self.settings.suggestions.typing_through
            and self._pending.get(flight.anchor.uri) is flight
        )
        if lingers:
            flight.linger = asyncio.get_running_loop().call_later(
                ADOPT_GRACE, self._drop, flight
            )
        else:
            flight.task.cancel()

    def _drop(self, flight: Flight) -> None:
        """No request came to type through a lingering stream: close it."""
        flight.linger = None
        if flight.owners <= 0 and not flight.task.done():
            if self._pending.get(flight.anchor.uri) is flight:
                del self._pending[flight.anchor.uri]
            flight.task.cancel()

    def _landed(self, flight: Flight) -> None:
        """The call has ended; a stream that outlived its request keeps its suggestion."""
        flight.changed.set()
        flight.stop_lingering()
        uri = flight.anchor.uri
        if self._pending.get(uri) is not flight:
            return
        del self._pending[uri]
        if flight.owners > 0 or flight.task.cancelled() or flight.task.exception() is not None:
            return
        generation, from_cache = flight.task.result()
        self._settle(flight, generation, from_cache)

    def _settle(self, flight: Flight, generation: Generation, from_cache: bool) -> dict[str, int]:
        """Clean a flight's answer at its own cursor, and keep it for typing through."""
        seen = self._cleaned_texts(generation, from_cache, flight.key, flight.request, flight.win,
                                   flight.language_id, flight.ranges)
        if seen:
            self._shown[flight.anchor.uri] = replace(
                flight.anchor, texts=tuple(seen), replaced=tuple(seen.values())
            )
        return seen

    def _cleaned_texts(
        self, generation: Generation, from_cache: bool, key: str, request: GenerationRequest,
        win: Window, language_id: str, ranges: bool,
    ) -> dict[str, int]:
        """Each distinct non-blank text the model gave, cleaned, with what it replaces."""
        template = self.template()
        cleanup = Cleanup(
            prompt=request.prompt,
            prefix=win.prefix,
            suffix=win.suffix,
            line_after=win.line_after,
            stops=tuple(self.settings.parameters.stop),
            special_tokens=tuple(dict.fromkeys((*template.special_tokens, *COMMON_SPECIAL))),
            single_line=win.single_line,
            language_id=language_id,
            clear=tuple(self.settings.tokens_to_clear),
        )
        memo = (key, ranges, win.line_after, language_id, win.prefix[-200:], cleanup.clear)
        seen = self._cleaned.get(memo) if from_cache else None
        if seen is None:
            seen = {}
            for raw in dict.fromkeys(generation.texts):  # alternatives are often the same text
                text, replaced = (
                    clean_with_range(raw, cleanup) if ranges else (clean(raw, cleanup), 0)
                )
                if text.strip() and text not in seen:
                    seen[text] = replaced
            self._cleaned[memo] = seen
            while len(self._cleaned) > CLEANED_KEPT:
                self._cleaned.popitem(last=False)
        return seen

    async def _fetch(
        self, flight: Flight, delay: float, enough: Callable[[str], bool] | None = None
    ) -> tuple[Generation, bool]:
        if delay > 0:
            held = time.monotonic()
            # a newer keystroke cancels this: no backend call; an invoked request joining it
            # ends the hold at once (no wait_for: it can swallow a cancellation on 3.11)
            timer = asyncio.get_running_loop().call_later(delay, flight.go.set)
            try:
                await flight.go.wait()
            finally:
                timer.cancel()
                self.figures.debounced_ms += (time.monotonic() - held) * 1000
        flight.started = True
        return await self.cache.get_or_compute(
            flight.key,
            lambda: self.client.stored_or_generated(
                flight.key, flight.request, enough, flight.arrived, flight.invoked,
                _budget(self.settings, flight.win),
            ),
            keep=lambda g: bool(g.texts) and not g.partial,
        )

    def _supersede(self, uri: str, new: Flight | None) -> None:
        """Cancel the older request for ``uri``: a newer one, or an answer, has taken over."""
        previous = self._pending.pop(uri, None)
        if new is not None:
            self._pending[uri] = new
        if previous is None or previous.task.done():
            return
        if not self.settings.suggestions.cancel_previous and previous.owners > 0:
            return
        previous.superseded = True
        previous.task.cancel()
        self.figures.cancellations += 1

    # --- accept / shown tracking --------------------------------------------------------

    def _issue(self, completion: Completion) -> Completion:
        ident = f"s{next(self._ids)}"
        self._issued[ident] = False
        while len(self._issued) > ISSUED_KEPT:
            self._issued.popitem(last=False)
        self.figures.items += 1
        return Completion(
            completion.text, completion.line, completion.index, completion.replace, ident
        )

    def shown(self, ident: str) -> None:
        """The editor showed the suggestion (Copilot's ``didShowCompletion``)."""
        if self._issued.get(ident) is False:
            self._issued[ident] = True
            self.figures.shown += 1

    def accepted(self, ident: str, partial: bool = False) -> None:
        """The user took the suggestion (the item's command), or part of it."""
        if ident not in self._issued:
            return
        if partial:
            self.figures.partially_accepted += 1
            return
        del self._issued[ident]
        self.figures.accepted += 1

    # --- reporting ----------------------------------------------------------------------

    def status(self) -> Mapping[str, Any]:
        f = self.figures
        by_spot = {
            name: {
                "requests": v["requests"],
                "backendCalls": v["backendCalls"],
                "maxNewTokens": v.get("maxNewTokens"),
                "latencyP50Ms": percentile(v.get("latencies", ()), 0.5),
            }
            for name, v in f.by_spot.items()
        }
        answered = f.shown or f.items
        return {
            "backend": self.settings.backend,
            "endpoint": getattr(self.backend, "endpoint", None),
            "model": self.settings.model,
            "provider": _provider(self.backend),
            "requests": f.requests,
            "backendCalls": f.backend_calls,
            "cacheHits": f.cache_hits,
            "cacheEntries": len(self.cache),
            "diskHits": f.disk_hits,
            "diskEntries": len(self.client.disk) if self.client.disk is not None else None,
            "typingThroughHits": f.typing_through,
            "typingThroughStreams": f.typing_through_streams,
            "cancellations": f.cancellations,
            "debouncedMs": round(f.debounced_ms, 1),
            "dropped": self.client.limiter.dropped,
            "waitedForTurn": self.client.limiter.waited,
            "rateLimited": self.client.rate_limited(),
            "slowRequests": f.slow_requests,
            "skipped": f.skipped,
            "errors": f.errors,
            "backendErrors": f.errors,
            "lastError": f.last_error,
            "lastMaxNewTokens": f.last_max_new_tokens,
            "lastLatencyMs": f.last_latency_ms,
            "latencyP50Ms": percentile(f.latencies, 0.5),
            "latencyP95Ms": percentile(f.latencies, 0.95),
            "bySpot": by_spot,
            "items": f.items,
            "shown": f.shown,
            "accepted": f.accepted,
            "partiallyAccepted": f.partially_accepted,
            "acceptRate": round(f.accepted / answered, 3) if answered else None,
            "tokenCounter": f.token_counter,
            "lastPromptTokens": f.last_prompt_tokens,
            "crossFileSnippets": f.cross_file_snippets,
        }


def _budget(settings: Settings, win: Window) -> str:
    """The setting that chose a completion's ``max_new_tokens``."""
    if settings.parameters.max_new_tokens is not None:
        return "hfLsp.parameters.maxNewTokens"
    name = "midLine" if win.spot is Spot.MID_WORD else _camel(win.spot.value)
    return f"hfLsp.maxNewTokens.{name}"


def _camel(name: str) -> str:
    head, *rest = name.replace("-", "_").split("_")
    return head + "".join(part.title() for part in rest)


def _provider(backend: Backend) -> dict[str, str] | None:
    """The Inference Provider in use and its route (``None``: not through the router)."""
    route = getattr(backend, "route_in_use", None)
    if route is None:
        return None
    return {"name": route.provider, "kind": route.kind, "model": route.model, "url": route.url}


def _first_line_done(text: str) -> bool:
    """A single-line completion needs nothing after its first newline."""
    return "\n" in text


def _display_path(uri: str) -> str:
    """A file URI as a path for the prompt's header comment."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme in ("file", ""):
        return unquote(parsed.path)
    return unquote(parsed.path) or uri


def _ending(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"
