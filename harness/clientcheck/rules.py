"""The expectations a participant's client is judged by, each one small documented rule over
what the judging sandbox saw (``Seen`` records, in arrival order).

A rule returns one ``Verdict``: PASS, FAIL or NOT EXERCISED, with its evidence (times, request
ids, what was answered) and, when it fails, the fix in plain words. Rules take plain values
(the records, the script's limits, what the certificate may act for), never a request object,
so each can be read, and tested, on its own. ``docs/client-check.md`` lists them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from harness.config.clientscript import DRIFT_FAULTS, KINDS, ClientScript, Kind, Seen
from harness.contract.wire import JSON_MEDIA_TYPE, is_request_id

Outcome = Literal["PASS", "FAIL", "NOT EXERCISED", "ERROR"]
MALFORMED = ("SER0017", "SER0022", "SER0030")  # the contract's "this request is not valid" codes
DOWNLOAD_SERVICE = "market_data"
EVIDENCE_LINES = 6


@dataclass
class Verdict:
    key: str  # stable id, e.g. "fault.retry-after.write"
    group: str  # transport | requests | etiquette | faults | drift | flow
    title: str
    outcome: Outcome
    summary: str
    evidence: list[str] = field(default_factory=list)
    fix: str = ""


@dataclass(frozen=True)
class Context:
    """What the rules judge against besides the records."""

    script: ClientScript
    sc_ids: frozenset[str]  # what the client's certificate may act for
    expected_cert: str | None  # SHA-256 of the certificate the client should present
    host: str  # the host name the client was told to use
    handshake_ms: float | None = None  # measured cost of one TLS handshake here


def when(seen: Seen) -> str:
    return datetime.fromtimestamp(seen.t0, UTC).strftime("%H:%M:%S.%f")[:-3]


def line(seen: Seen, note: str = "") -> str:
    """One request as evidence: time, call, request id, what was answered."""
    if seen.status is None:
        answer = "connection cut after the write was saved" if seen.fault else "no answer"
    else:
        answer = f"HTTP {seen.status}" + (f" {seen.error_code}" if seen.error_code else "")
    fault = f" [{seen.fault}]" if seen.fault else ""
    rid = seen.request_id or "no caiso-request-id"
    return f"{when(seen)} {seen.method} {seen.path} ({rid}) -> {answer}{fault}" + (
        f"; {note}" if note else ""
    )


def _cap(lines: Iterable[str]) -> list[str]:
    out = list(lines)
    return (
        out
        if len(out) <= EVIDENCE_LINES
        else [*out[:EVIDENCE_LINES], f"... and {len(out) - EVIDENCE_LINES} more"]
    )


def _verdict(
    key: str, group: str, title: str, bad: Sequence[str], good: str, fix: str, *, none: str = ""
) -> Verdict:
    """FAIL with ``bad`` as evidence, else PASS with ``good`` (NOT EXERCISED when ``none``)."""
    if none:
        return Verdict(key, group, title, "NOT EXERCISED", none)
    if bad:
        return Verdict(key, group, title, "FAIL", bad[0].split("; ", 1)[-1], _cap(bad), fix)
    return Verdict(key, group, title, "PASS", good)


# -- transport ---------------------------------------------------------------------------------
def _connections(seen: Sequence[Seen]) -> dict[int, Seen]:
    first: dict[int, Seen] = {}
    for s in seen:
        first.setdefault(s.conn, s)
    return first


NOBODY = "no request arrived"


def _each_connection(
    seen: Sequence[Seen], key: str, title: str, problem: Callable[[Seen], str | None], good: str, fix: str
) -> Verdict:
    """A transport rule: each TLS connection judged once, by its first request."""
    conns = _connections(seen)
    bad = [line(s, why) for s in conns.values() if (why := problem(s))]
    return _verdict(key, "transport", title, bad, good, fix, none="" if conns else NOBODY)


def tls_version(seen: Sequence[Seen], ctx: Context) -> Verdict:
    order = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    least = order.index(ctx.script.limits.min_tls)
    conns = _connections(seen).values()
    return _each_connection(
        seen,
        "transport.tls",
        f"{ctx.script.limits.min_tls} or newer on every connection",
        lambda s: f"negotiated {s.tls}" if s.tls in order and order.index(s.tls) < least else None,
        f"{len(conns)} connection(s), {', '.join(sorted({s.tls for s in conns}))}",
        "Allow TLS 1.2 and 1.3 in the client's TLS settings (Java: -Dhttps.protocols=TLSv1.2,TLSv1.3; "
        ".NET: SslProtocols.Tls12 | Tls13); CAISO refuses older versions.",
    )


def sni(seen: Sequence[Seen], ctx: Context) -> Verdict:
    return _each_connection(
        seen,
        "transport.sni",
        "Sends the server's name (SNI) in the handshake",
        lambda s: (
            None
            if s.sni == ctx.host
            else "no server name (SNI) sent"
            if not s.sni
            else f"asked for {s.sni!r}, not {ctx.host!r}"
        ),
        f"every connection asked for {ctx.host!r}",
        "Connect by host name (api.caiso.com, mapstage-api.caiso.com), never by IP address: CAISO's "
        "front door picks the service by the name the client sends.",
    )


def certificate(seen: Sequence[Seen], ctx: Context) -> Verdict:
    names = ", ".join(sorted({str(s.cert_cn) for s in _connections(seen).values()}))
    return _each_connection(
        seen,
        "transport.certificate",
        "Presents the expected client certificate",
        lambda s: (
            f"presented CN={s.cert_cn}, not the certificate this check expects"
            if ctx.expected_cert and s.cert_sha256 != ctx.expected_cert
            else None
        ),
        f"CN={names} on every connection",
        "Point the client at the SC ID's own .pfx (the one this check was started with).",
    )


def reuse(seen: Sequence[Seen], ctx: Context) -> Verdict:
    requests, conns = len(seen), len(_connections(seen))
    share = conns / requests if requests else 0.0
    cost = ""
    if ctx.handshake_ms is not None:
        extra = max(0, conns - 1)
        cost = (
            f", a handshake costs {ctx.handshake_ms:.1f} ms here (loopback), "
            f"{extra * ctx.handshake_ms:.0f} ms for the {extra} extra, and 2-3 round trips more each over the internet"
        )
    bad = []
    if requests >= 4 and share > ctx.script.limits.max_new_connection_share:
        opened = list(_connections(seen).values())
        bad = [f"{conns} TLS connections for {requests} requests ({share:.0%} new){cost}"]
        bad += [line(s, f"connection {s.conn} opened for it") for s in opened[1:4]]
    return _verdict(
        "transport.reuse",
        "transport",
        "Reuses connections (no new TLS handshake per request)",
        bad,
        f"{conns} connection(s) for {requests} requests{cost}",
        "Keep one HTTP client (connection pool) for the whole session instead of one per request "
        "(Java: one HttpClient; .NET: one HttpClient; Python: one requests.Session / httpx.Client).",
        none="" if requests >= 4 else "fewer than 4 requests: nothing to judge reuse by",
    )


# -- every request -----------------------------------------------------------------------------
def request_ids(seen: Sequence[Seen], ctx: Context) -> Verdict:
    bad: list[str] = []
    first_use: dict[str, Seen] = {}
    for s in seen:
        rid = s.request_id
        if not rid or not is_request_id(rid):
            bad.append(line(s, f"caiso-request-id {'missing' if not rid else repr(rid) + ' is not a UUID'}"))
            continue
        earlier = first_use.setdefault(rid, s)
        if earlier is not s and earlier.identity != s.identity:
            bad.append(line(s, f"reused the id of a different request sent at {when(earlier)}"))
    return _verdict(
        "requests.request-id",
        "requests",
        "A UUID caiso-request-id, never reused for a different request",
        bad,
        f"{len(seen)} requests, each with its own UUID",
        "Generate a new random UUID (UUID.randomUUID(), Guid.NewGuid(), uuid.uuid4()) for every request; "
        "CAISO finds a call by it, so one id for two calls hides one of them.",
        none="" if seen else NOBODY,
    )


def content_type(seen: Sequence[Seen], ctx: Context) -> Verdict:
    bodies = [s for s in seen if s.body_sha256 or s.kind == "write"]

    def is_json(value: str | None) -> bool:
        return bool(value) and str(value).split(";")[0].strip().lower() == JSON_MEDIA_TYPE

    bad = [
        line(s, "no body" if not s.body_sha256 else f"Content-Type {s.content_type or 'missing'}")
        for s in bodies
        if not s.body_sha256 or not is_json(s.content_type)
    ]
    return _verdict(
        "requests.content-type",
        "requests",
        "A JSON body with Content-Type: application/json on every write",
        bad,
        f"{len(bodies)} writes, each a JSON body",
        "Send each write's body as JSON with 'Content-Type: application/json' (an empty POST is refused).",
        none="" if bodies else "the client sent no write",
    )


DOWNLOAD_TYPES = ("application/octet-stream", "application/zip", "application/*", "*/*")


def _accepts_download(accept: str | None) -> bool:
    if accept is None:
        return True
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return any(k in DOWNLOAD_TYPES for k in kinds)


def accept(seen: Sequence[Seen], ctx: Context) -> Verdict:
    downloads = [s for s in seen if s.service == DOWNLOAD_SERVICE]
    bad = [
        line(s, f"Accept: {s.accept} refuses the ZIP archive a download answers with")
        for s in downloads
        if not _accepts_download(s.accept)
    ]
    return _verdict(
        "requests.accept",
        "requests",
        "Downloads accept what CAISO sends (a ZIP archive, application/octet-stream)",
        bad,
        f"{len(downloads)} download(s), each accepting the archive",
        "Send 'Accept: application/octet-stream, application/json' on market data downloads: the archive "
        "when it works, a JSON CRRServiceException when it does not.",
        none="" if downloads else "the client downloaded no market data",
    )


def participant(seen: Sequence[Seen], ctx: Context) -> Verdict:
    portfolios = {s.portfolio for s in seen if s.portfolio}
    named = [s for s in seen if s.participant is not None]
    bad = []
    for s in named:
        if s.participant not in ctx.sc_ids:
            why = " (that is a portfolio name)" if s.participant in portfolios else ""
            bad.append(
                line(s, f"participantName {s.participant!r} is not an SC ID this certificate acts for{why}")
            )
    return _verdict(
        "requests.participant",
        "requests",
        "participantName is an SC ID the certificate may act for",
        bad,
        f"{len(named)} requests, each for {', '.join(sorted(ctx.sc_ids))}",
        f"Set participantName to the SC ID ({', '.join(sorted(ctx.sc_ids))}), never to a portfolio's name.",
        none="" if named else "no request named a participant",
    )


def contract(seen: Sequence[Seen], ctx: Context) -> Verdict:
    refused = [s for s in seen if s.status == 400 and s.error_code in MALFORMED and not s.fault]
    per_op = Counter(s.operation or s.path for s in refused)
    first: dict[str, Seen] = {}
    for s in refused:
        first.setdefault(s.operation or s.path, s)
    bad = [
        line(
            first[op],
            f"{op}: {n} refused as malformed, first: {first[op].error_code} {first[op].error or ''}".strip(),
        )
        for op, n in per_op.items()
    ]
    return _verdict(
        "requests.contract",
        "requests",
        "Requests the contract accepts (none refused as malformed)",
        bad,
        f"{len(seen)} requests, none refused as malformed",
        "Build each request from the operation's contract: required parameters present, the body's fields "
        "and types as the schema says (the first error names the field).",
        none="" if seen else NOBODY,
    )


# -- etiquette ---------------------------------------------------------------------------------
def _is_poll(s: Seen) -> bool:
    op = s.operation or ""
    return s.kind == "read" and (
        s.service == "market_status" or "list" in op.lower() or op.lower().endswith("status")
    )


def polling(seen: Sequence[Seen], ctx: Context) -> Verdict:
    limit = ctx.script.limits.polls_per_minute
    by_call: dict[tuple[object, ...], list[float]] = defaultdict(list)
    for s in seen:
        if _is_poll(s):
            by_call[s.identity].append(s.t0)
    bad = []
    for times in by_call.values():
        for i, start in enumerate(times):
            within = [t for t in times[i:] if t - start < 60.0]
            if len(within) > limit:
                s = next(x for x in seen if x.t0 == start)
                bad.append(line(s, f"{s.operation} {len(within)} times within a minute (limit {limit})"))
                break
    polls = sum(len(t) for t in by_call.values())
    return _verdict(
        "etiquette.polling",
        "etiquette",
        f"Polls market status and lists at most {limit} times a minute",
        bad,
        f"{polls} status/list reads, none more often than {limit} a minute",
        "Poll a status or list every 5 seconds or slower (CAISO's statuses change in minutes); wait between reads.",
        none="" if polls else "the client read no status or list",
    )


def concurrency(seen: Sequence[Seen], ctx: Context) -> Verdict:
    limit = ctx.script.limits.max_concurrency
    most = max((s.inflight for s in seen), default=0)
    bad = [
        line(s, f"{s.inflight} requests in flight at once (limit {limit})")
        for s in seen
        if s.inflight > limit
    ][:1]
    return _verdict(
        "etiquette.concurrency",
        "etiquette",
        f"At most {limit} requests in flight at once",
        bad,
        f"at most {most} in flight",
        f"Limit the client's parallel calls to {limit} (a bounded pool or semaphore).",
        none="" if seen else NOBODY,
    )


def _later(seen: Sequence[Seen], s: Seen) -> Sequence[Seen]:
    """What arrived after ``s`` (``seen`` is in arrival order, as ``judge`` sorts it): a binary
    search, not a scan, since rules ask this of every refusal and every fault."""
    return seen[bisect_right(seen, s.t0, key=lambda x: x.t0) :]


def _resends(seen: Sequence[Seen], s: Seen) -> list[Seen]:
    return [x for x in _later(seen, s) if x.identity == s.identity]


def _run_of_resends(seen: Sequence[Seen], s: Seen) -> list[Seen]:
    """The same request sent again right after ``s``: the client's next requests, while they
    are ``s`` unchanged (a loop; the same read asked again later in the day is not one)."""
    run = []
    for later in _later(seen, s):
        if later.identity != s.identity:
            break
        run.append(later)
    return run


def no_storm_after_4xx(seen: Sequence[Seen], ctx: Context) -> Verdict:
    limit = ctx.script.limits.max_resends_after_4xx
    bad: list[str] = []
    in_a_loop: set[int] = set()  # requests already counted as a re-send of an earlier refusal
    for s in seen:
        if s.status is None or not 400 <= s.status < 500 or id(s) in in_a_loop:
            continue
        again = _run_of_resends(seen, s)
        in_a_loop.update(id(x) for x in again)
        if len(again) > limit:
            bad.append(
                line(
                    s,
                    f"re-sent unchanged {len(again)} time(s) after a {s.status} {s.error_code or ''}".strip(),
                )
            )
    refused = sum(1 for s in seen if s.status is not None and 400 <= s.status < 500)
    return _verdict(
        "etiquette.no-4xx-retry",
        "etiquette",
        "Never re-sends a refused (4xx) request unchanged",
        bad,
        f"{refused} refusal(s), none re-sent unchanged",
        "A 4xx is CAISO saying the request itself is wrong: fix the request (or stop) instead of re-sending "
        "it; retry only 5xx and lost connections.",
        none="" if seen else NOBODY,
    )


# -- scheduled faults --------------------------------------------------------------------------
def _faulted(seen: Sequence[Seen], fault: str, kind: Kind) -> list[Seen]:
    return [s for s in seen if s.fault == fault and s.kind == kind]


def _fault_verdict(
    seen: Sequence[Seen],
    ctx: Context,
    fault: str,
    kind: Kind,
    hits: Sequence[Seen],
    title: str,
    bad: Sequence[str],
    good: Sequence[str],
    fix: str,
) -> Verdict:
    """A scheduled fault's verdict: NOT EXERCISED (and why) when it never fired, else FAIL or PASS."""
    return _verdict(
        f"fault.{fault}.{kind}",
        "faults",
        title,
        bad,
        "; ".join(good),
        fix,
        none="" if hits else _not_fired(seen, fault, kind, ctx),
    )


def _not_fired(seen: Sequence[Seen], fault: str, kind: Kind, ctx: Context) -> str:
    calls = sum(1 for s in seen if s.kind == kind)
    if not calls:
        return f"the client sent no {kind}"
    planned = next((f for f in ctx.script.schedule.faults if f.fault == fault), None)
    waits = f" ({', '.join(planned.operations)})" if planned and planned.operations else ""
    return f"the client's {calls} {kind}(s) ended before this fault's turn came{waits}; a longer flow exercises it"


def retry_after(seen: Sequence[Seen], ctx: Context, kind: Kind) -> Verdict:
    wait = ctx.script.schedule.retry_after_s
    tol = ctx.script.limits.retry_after_tolerance_s
    hits = _faulted(seen, "retry-after", kind)
    bad, good = [], []
    for f in hits:
        again = _resends(seen, f)
        if not again:
            bad.append(line(f, "never retried after the 503"))
        elif (gap := again[0].t0 - f.t1) < wait - tol:
            bad.append(
                line(again[0], f"retried {gap:.2f} s after the 503, before its Retry-After of {wait} s")
            )
        else:
            good.append(f"retried {gap:.1f} s later (Retry-After {wait} s)")
    return _fault_verdict(
        seen,
        ctx,
        "retry-after",
        kind,
        hits,
        f"503 with Retry-After on a {kind}: retried, not before Retry-After",
        bad,
        good,
        "On a 503, read Retry-After (seconds) and retry the same request no sooner; CAISO sends it during "
        "maintenance windows.",
    )


def server_error(seen: Sequence[Seen], ctx: Context, kind: Kind) -> Verdict:
    limits = ctx.script.limits
    hits = _faulted(seen, "server-error", kind)
    bad, good = [], []
    for f in hits:
        again = _resends(seen, f)
        if not again:
            good.append("did not re-send it")
            continue
        gaps = [again[0].t0 - f.t1] + [b.t0 - a.t1 for a, b in zip(again, again[1:], strict=False)]
        if gaps[0] < limits.min_backoff_s:
            bad.append(
                line(
                    again[0],
                    f"re-sent {gaps[0]:.2f} s after the 500 (wait at least {limits.min_backoff_s} s)",
                )
            )
        elif len(again) > limits.max_retries_after_500:
            bad.append(line(f, f"re-sent {len(again)} times (at most {limits.max_retries_after_500})"))
        elif any(b < a * 0.9 for a, b in zip(gaps, gaps[1:], strict=False)):
            bad.append(line(f, "the waits between re-sends shrank: " + ", ".join(f"{g:.2f}" for g in gaps)))
        else:
            good.append(f"re-sent after {', '.join(f'{g:.1f}' for g in gaps)} s")
    return _fault_verdict(
        seen,
        ctx,
        "server-error",
        kind,
        hits,
        f"500 on a {kind}: backs off, no retry storm",
        bad,
        good,
        f"Retry a 500 at most {limits.max_retries_after_500} times with growing waits (exponential backoff, "
        f"starting at {limits.min_backoff_s} s or more).",
    )


def reset_after_commit(seen: Sequence[Seen], ctx: Context, kind: Kind) -> Verdict:
    hits = _faulted(seen, "reset-after-commit", kind)
    bad, good = [], []
    for f in hits:
        later = _later(seen, f)
        again = [x for x in later if x.identity == f.identity]
        dupes = [
            x
            for x in later
            if x.operation == f.operation
            and x.service == f.service
            and x.records_sha256 == f.records_sha256
            and x.portfolio != f.portfolio
            and x.status == 200
        ]
        read_back = [
            x
            for x in later
            if x.kind == "read"
            and x.service == f.service
            and (x.portfolio == f.portfolio or "list" in (x.operation or "").lower())
        ]
        if dupes:
            bad.append(
                line(dupes[0], f"created the same records again as {dupes[0].portfolio!r}: a duplicate")
            )
        elif len(again) > 1:
            bad.append(
                line(again[-1], f"re-sent the saved write {len(again)} times (it exists: POR0101 says so)")
            )
        elif not later:
            bad.append(line(f, "stopped after the lost answer"))
        elif read_back and (not again or read_back[0].t0 < again[0].t0):
            good.append(f"read it back ({read_back[0].operation}) before doing anything else with it")
        elif again:
            good.append(
                f"re-sent once, got {again[0].status} {again[0].error_code or ''}, and carried on".strip()
            )
        else:
            good.append("carried on without re-creating it")
    return _fault_verdict(
        seen,
        ctx,
        "reset-after-commit",
        kind,
        hits,
        f"Connection cut after a {kind} was saved: no duplicate, no re-send loop",
        bad,
        good,
        "When a write's answer is lost, read the object back (status or list) before re-sending; if a "
        "re-send gets POR0101 (already exists), treat the write as done.",
    )


def slow(seen: Sequence[Seen], ctx: Context, kind: Kind) -> Verdict:
    delay, least = ctx.script.schedule.slow_s, ctx.script.limits.min_timeout_s
    hits = _faulted(seen, "slow", kind)
    bad, good = [], []
    for f in hits:
        gone = f.client_gone_after
        if gone is None:
            good.append(f"waited the whole {delay:g} s: its timeout is longer")
        elif gone < least:
            bad.append(line(f, f"gave up after {gone:.2f} s (its timeout); CAISO can take longer"))
        else:
            good.append(f"gave up after {gone:.2f} s (its timeout)")
    return _fault_verdict(
        seen,
        ctx,
        "slow",
        kind,
        hits,
        f"A slow answer on a {kind}: the client's timeout measured",
        bad,
        good,
        f"Give reads a timeout of {least:g} s or more (real clients use 15 s).",
    )


def drift(seen: Sequence[Seen], ctx: Context, fault: str, kind: Kind) -> Verdict:
    hits = _faulted(seen, fault, kind)
    at_once = ctx.script.limits.immediate_resend_s
    bad, good = [], []
    last = []
    for f in hits:
        later = _later(seen, f)
        if not later and not _flow_unfinished(seen, ctx):
            last.append(f)  # the day's last call, the flow done: nothing shows whether it was read
        elif not later:
            bad.append(
                line(f, "made no further request, its flow not done: likely could not read the answer")
            )
        elif later[0].identity == f.identity and later[0].t0 - f.t1 < at_once:
            bad.append(line(later[0], "re-sent the same request at once: likely could not read the answer"))
        else:
            good.append(f"carried on with {later[0].operation or later[0].path}")
    what = {
        "unknown-field": (
            "An unknown optional field in an answer",
            "Ignore unknown fields (Jackson: FAIL_ON_UNKNOWN_PROPERTIES=false; System.Text.Json ignores them); "
            "CAISO adds optional fields in MINOR versions.",
        ),
        "large-ids": (
            "Ids above 2^31-1 (nested ones too)",
            "Hold ids in 64-bit integers (Java long/Long, C# long): the contract allows up to 10 digits.",
        ),
        "new-header": (
            "A new optional response header",
            "Ignore response headers the client does not know.",
        ),
    }[fault]
    return _verdict(
        f"drift.{fault}.{kind}",
        "drift",
        f"{what[0]}: the client carries on",
        bad,
        "; ".join(good),
        what[1],
        none=(
            _not_fired(seen, fault, kind, ctx)
            if not hits
            else "it came on the client's last call, after its flow was done: nothing to judge by"
            if len(last) == len(hits)
            else ""
        ),
    )


def _flow_unfinished(seen: Sequence[Seen], ctx: Context) -> bool:
    return any(v.outcome != "PASS" for v in flow(seen, ctx))


# -- the day's flow ----------------------------------------------------------------------------
def flow(seen: Sequence[Seen], ctx: Context) -> list[Verdict]:
    out = []
    for i, step in enumerate(ctx.script.flow, 1):
        tried = [s for s in seen if s.service == step.service and s.operation == step.operation]
        ok = [s for s in tried if s.status is not None and 200 <= s.status < 300]
        key, title = f"flow.{i}.{step.operation}", f"The client {step.step}"
        if ok:
            out.append(
                Verdict(
                    key, "flow", title, "PASS", f"{step.service} {step.operation}: {len(ok)} answered 200"
                )
            )
        elif tried:
            out.append(
                Verdict(
                    key,
                    "flow",
                    title,
                    "FAIL",
                    f"{step.service} {step.operation} tried {len(tried)} time(s), never succeeded",
                    _cap(line(s) for s in tried),
                    "Read the last error's code and description: it says what the request lacked.",
                )
            )
        else:
            out.append(
                Verdict(
                    key,
                    "flow",
                    title,
                    "NOT EXERCISED",
                    f"the client never called {step.service} {step.operation}",
                )
            )
    return out


# the rules in the scorecard's order; each takes (records, context)
RULES: tuple[Callable[[Sequence[Seen], Context], Verdict], ...] = (
    tls_version,
    sni,
    certificate,
    reuse,
    request_ids,
    content_type,
    accept,
    participant,
    contract,
    polling,
    concurrency,
    no_storm_after_4xx,
)
FAULT_RULES: dict[str, Callable[[Sequence[Seen], Context, Kind], Verdict]] = {
    "retry-after": retry_after,
    "server-error": server_error,
    "reset-after-commit": reset_after_commit,
    "slow": slow,
}


def judge(seen: Sequence[Seen], ctx: Context) -> list[Verdict]:
    """Every expectation of the scorecard, in order."""
    ordered = sorted(seen, key=lambda s: s.t0)
    verdicts = [rule(ordered, ctx) for rule in RULES]
    for planned in ctx.script.schedule.faults:
        for kind in KINDS:
            if kind not in planned.kinds:
                continue
            if planned.fault in DRIFT_FAULTS:
                verdicts.append(drift(ordered, ctx, planned.fault, kind))
            else:
                verdicts.append(FAULT_RULES[planned.fault](ordered, ctx, kind))
    return verdicts + flow(ordered, ctx) + own_errors(ordered)


def own_errors(seen: Sequence[Seen]) -> list[Verdict]:
    """The judging sandbox's own server errors (a 5xx it did not schedule: a bug, a broken
    contract folder, a fault injected with --fault): never the client's doing, so they are an
    ERROR of the check, named, and the run cannot pass. Nothing when there are none."""
    broken = [s for s in seen if s.status is not None and s.status >= 500 and not s.fault]
    if not broken:
        return []
    return [
        Verdict(
            "sandbox.own-errors",
            "sandbox",
            "The judging sandbox answered without errors of its own",
            "ERROR",
            f"the sandbox failed {len(broken)} request(s) with a server error it did not schedule: not your "
            "client's doing, and what the scorecard says about those calls cannot be trusted",
            _cap(line(s) for s in broken),
            "Run the check again; if it repeats, report it with seen.ndjson and the sandbox's log.",
        )
    ]
