"""Run schemathesis' engine on each CRR service and turn its event stream into one report.

Schemathesis does the work: its phases (examples, coverage, fuzzing, stateful), generation
modes, built-in checks, rate limit and workers. crrsim adds, through schemathesis' own
extension points: the CAISO checks and the fresh request id (``checks``), which operations
may run where (``safety``), the mTLS identity from the one config (a pfx is unpacked to PEM
files in a private temp folder for the run), and the report (``RunReport`` with per-operation
figures: calls, status codes, how many reached business logic, failures with a curl line).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events as st_events
from schemathesis.engine import from_schema
from schemathesis.generation import GenerationMode

from harness import __version__
from harness.client import ClientIdentity, CRRClient
from harness.client.targets import describe_target
from harness.contract import Catalogue, Service, load_catalogue
from harness.contract.portfolios import PORTFOLIO_OPERATIONS
from harness.events import CaseFinished, Emit, Figures, RunFinished, Runner, RunStarted, ignore
from harness.fuzz import checks
from harness.fuzz.bundles import bundle_dir, make_bundle
from harness.fuzz.checks import STATEFUL, FuzzRun, config_for, deviations
from harness.fuzz.compare import Comparison
from harness.fuzz.live import LiveValues, read_live_values
from harness.fuzz.safety import Selection, select_operations
from harness.fuzz.settings import FuzzSettings
from harness.pki.loading import pfx_as_pem_files
from harness.reports import CaseResult, CaseStatus, Finding, Gap, RunReport, Section, plural

BUILTIN_EXCLUDED = ("positive_data_acceptance",)  # replaced by crr_positive_data_acceptance
TIMEOUTS_IN_ROW = 3  # consecutive calls without an answer that stop a run
INTERRUPTED = "it was interrupted (Ctrl+C or SIGTERM)"


@dataclass
class OperationFigures:
    service: str
    label: str
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    business: int = 0  # answers that reached business logic: 2xx, or a 4xx with a business code
    positive: int = 0  # calls with data the contract accepts (positive mode)
    positive_business: int = 0  # ... of which reached business logic
    failures: list[dict[str, str]] = field(default_factory=list)
    refusals: Counter[str] = field(
        default_factory=Counter
    )  # positive cases' answers that did not reach business logic
    wide_ids: set[str] = field(default_factory=set)  # where successful answers carried ids above 2^31-1
    known: dict[str, str] = field(
        default_factory=dict
    )  # check -> why the contract cannot hold (checks.deviations)

    @property
    def distinct_failures(self) -> list[dict[str, str]]:
        """One failure per (check, title): the same finding on many cases is reported once."""
        seen: set[tuple[str, str]] = set()
        distinct = []
        for failure in self.failures:
            key = (failure["check"], failure["title"])
            if key not in seen:
                seen.add(key)
                distinct.append(failure)
        return distinct

    @property
    def reached_share(self) -> float:
        """Share of the positive cases that reached business logic (negative ones should not)."""
        return self.positive_business / self.positive if self.positive else 0.0


@dataclass
class FuzzOutcome:
    report: RunReport
    figures: list[OperationFigures]
    selection: Selection

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def interrupted(self) -> bool:
        return self.report.sections[0].facts.get("stopped early") == INTERRUPTED


@contextlib.contextmanager
def identity_files(settings: FuzzSettings) -> Iterator[tuple[str, str]]:
    """(certificate, key) PEM paths for schemathesis, which cannot read a pfx."""
    if settings.pfx is not None:
        with pfx_as_pem_files(settings.pfx, settings.password) as files:
            yield str(files.cert), str(files.key)
        return
    if settings.cert is None:
        raise ValueError("give the client certificate: --pfx FILE, or --cert FILE --key FILE")
    yield str(settings.cert), str(settings.key or settings.cert)


def _business(response: Any) -> bool:
    return checks.business_answer(response.status_code, checks.crr_errors(response))


def _fuzz_service(
    service: Service,
    selection: Selection,
    settings: FuzzSettings,
    url: str,
    cert: str,
    key: str,
    figures: dict[str, OperationFigures],
    live: LiveValues,
    ours_catalogue: Callable[[], Catalogue],
    run_id: str,
    run: FuzzRun,
    emit: Emit,
    done: int,
) -> None:
    allowed = selection.allowed.get(service.name, [])
    if not allowed:
        return
    confined = selection.writes_ok and settings.target_kind != "sandbox"
    # the run's state reaches its check objects and hooks through schemathesis' own config
    project = SchemathesisConfig.from_dict(
        {**live.schemathesis_config(confined=confined), "checks": config_for(run, STATEFUL)}
    )
    document, added = with_links(service, ours_catalogue)
    selection.link_notes += [f"{service.name}: {n}" for n in added]
    schema = schemathesis.openapi.from_dict(document, config=project).include(operation_id=allowed)
    config = schema.config
    config.update(
        base_url=url,
        tls_verify=str(settings.ca) if settings.ca else True,
        request_cert=cert,
        request_cert_key=key,
        workers=settings.workers,
        request_timeout=settings.cfg.timeout,
        continue_on_failure=settings.continue_on_failure,
        rate_limit=f"{settings.rate:g}/s" if settings.rate else None,
    )
    modes = {
        "positive": [GenerationMode.POSITIVE],
        "negative": [GenerationMode.NEGATIVE],
        "all": [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    }[settings.mode]
    config.generation.update(modes=modes, max_examples=settings.max_examples)
    config.phases.update(phases=list(settings.phases))
    config.checks.update(
        excluded_check_names=list(BUILTIN_EXCLUDED), max_response_time=settings.max_response_time
    )
    if not selection.writes_ok:
        # the coverage phase also sends methods an operation does not have (POST, PUT, DELETE,
        # TRACE, OPTIONS ... expecting 405): a read-only run sends only the operations' own
        # methods, as the README promises
        config.phases.coverage.unexpected_methods = set()
    if settings.seed is not None:
        config.seed = settings.seed
    if run.stopped:
        return  # an earlier service spent the budget or met a server error
    stream = from_schema(schema).execute()
    run.stream = stream
    timed_out = False  # in the scenario under way (its ScenarioFinished follows its errors)
    for event in stream:
        if isinstance(event, st_events.Interrupted):  # schemathesis caught a Ctrl+C or SIGTERM
            run.stop(INTERRUPTED)
            continue
        if isinstance(event, st_events.NonFatalError) and event.related_to_operation:
            timed_out = _transport_error(event, service.name, figures, settings, run) or timed_out
            continue
        if not isinstance(event, st_events.ScenarioFinished) or event.label is None:
            continue
        if not timed_out:
            run.timeouts_in_row = 0
        timed_out = False
        _record_scenario(event, service, settings, url, figures, run_id)
        calls = sum(f.calls for f in figures.values())
        failures = sum(len(f.distinct_failures) for f in figures.values())
        emit(Figures(completed=done, text=f"{plural(calls, 'call')}, {plural(failures, 'failure')}"))
        if run.stop_after_scenario and _holds_server_error(event.recorder):
            # the server error is recorded: now stop. Not at the end of any scenario: the engine
            # runs operations side by side, and another one's scenario may end first (on a busy
            # machine it did, and the 503 that stopped the run was never recorded as a failure)
            run.stop(run.stop_after_scenario)


def _holds_server_error(recorder: Any) -> bool:
    """Whether a finished scenario got an answer of 500 or more."""
    return any(
        interaction.response is not None and interaction.response.status_code >= 500
        for interaction in recorder.interactions.values()
    )


def _record_scenario(
    event: Any,
    service: Service,
    settings: FuzzSettings,
    url: str,
    figures: dict[str, OperationFigures],
    run_id: str,
) -> None:
    """One finished scenario into the figures: every call, and every failed check as a failure
    with its reproduction and support bundle. A server error no check reported (a check left
    out, a stop rule) is a failure all the same: a 5xx never passes."""
    recorder = event.recorder
    failed_cases: set[str] = set()
    for case_id, results in recorder.checks.items():
        for result in results:
            if result.failure_info is None:
                continue
            node = recorder.cases.get(case_id)
            label = node.value.operation.label if node is not None else event.label
            operation_id = (
                node.value.operation.definition.raw.get("operationId", "") if node is not None else ""
            )
            recorded = recorder.interactions.get(case_id)
            known = deviations.known_deviation(
                result.name,
                service.name,
                operation_id,
                recorded.request if recorded is not None else None,
                recorded.response.status_code
                if recorded is not None and recorded.response is not None
                else None,
            )
            if known is not None:
                figures.setdefault(label, OperationFigures(service.name, label)).known[result.name] = known
                continue
            failure = result.failure_info.failure
            failed_cases.add(case_id)
            message = str(getattr(failure, "message", failure)).strip()
            if not message and recorded is not None and recorded.response is not None:
                message = _server_error(recorded.response)  # schemathesis' ServerError says only its title
            _add_failure(
                figures,
                service,
                settings,
                url,
                run_id,
                label,
                node,
                recorded,
                result.name,
                str(getattr(failure, "title", "")),
                message,
            )
    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        label = node.value.operation.label if node is not None else event.label
        figure = figures.setdefault(label, OperationFigures(service.name, label))
        figure.calls += 1
        positive = (
            node is not None and node.value.meta is not None and node.value.meta.generation.mode.is_positive
        )
        figure.positive += positive
        response = interaction.response
        if response is None:
            continue
        figure.statuses[response.status_code] += 1
        reached = _business(response)
        figure.business += reached
        figure.positive_business += reached and positive
        if 200 <= response.status_code < 300:
            figure.wide_ids |= wide_ids(response)
        if positive and not reached:
            codes = [code for code, _ in checks.crr_errors(response)]
            figure.refusals[
                f"HTTP {response.status_code}" + (f" {'/'.join(codes[:2])}" if codes else "")
            ] += 1
        if response.status_code >= 500 and case_id not in failed_cases:
            _add_failure(
                figures,
                service,
                settings,
                url,
                run_id,
                label,
                node,
                interaction,
                "not_a_server_error",
                "Server error",
                _server_error(response),
            )


INT32_MAX = 2**31 - 1
WIDE_IDS_MAX_BYTES = 1 << 20  # larger answers (downloads) are not scanned


def wide_ids(response: Any) -> set[str]:
    """Where a JSON answer carries an integer id above 2^31-1 (``bids[].bidId``): valid by the
    contract (ids up to 10 digits), but a participant's client with 32-bit ids breaks there."""
    content = response.content or b""
    if len(content) > WIDE_IDS_MAX_BYTES or content.lstrip()[:1] not in (b"{", b"["):
        return set()
    try:
        body = json.loads(content)
    except ValueError:
        return set()
    found: set[str] = set()
    stack: list[tuple[Any, str]] = [(body, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if (
                    key.lower().endswith("id")
                    and isinstance(item, int)
                    and not isinstance(item, bool)
                    and item > INT32_MAX
                ):
                    found.add(where)
                stack.append((item, where))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[]") for item in value)
    return found


def _server_error(response: Any) -> str:
    """What a 5xx said, with its Retry-After (a 503 that names one is maintenance, still a failure
    of the operation: a participant's client must see it and wait)."""
    after = response.headers.get("retry-after") if hasattr(response.headers, "get") else None
    after = after[0] if isinstance(after, list) and after else after
    codes = [code for code, _ in checks.crr_errors(response)]
    return (
        f"HTTP {response.status_code}"
        + (f" with Retry-After: {after}" if after else "")
        + (f" ({', '.join(codes)})" if codes else "")
        + " answered a request the operation should have served"
    )


def _add_failure(
    figures: dict[str, OperationFigures],
    service: Service,
    settings: FuzzSettings,
    url: str,
    run_id: str,
    label: str,
    node: Any,
    recorded: Any,
    check: str,
    title: str,
    message: str,
) -> None:
    """One failure of ``label``: its curl reproduction and, when the exchange was recorded, a
    support bundle ``crrsim fuzz --replay`` re-sends."""
    curl = ""
    if node is not None:
        with contextlib.suppress(Exception):
            curl = reproduction(node.value.as_curl_command(base_url=url), settings)
    message = " ".join(message.split())[:500]
    entry = {"check": check, "title": title, "message": message, "curl": curl}
    if recorded is not None:
        bundle = make_bundle(
            check=check,
            label=label,
            title=title,
            message=message,
            request=recorded.request,
            response=recorded.response,
            target=url,
            seed=settings.seed,
            curl=curl,
            contract={service.name: str(service.version)},
            run_id=run_id,
        )
        bundle.data["max_response_time"] = settings.max_response_time  # what a replay judges a slow answer by
        bundle.write(bundle_dir(settings.cfg.reports_dir))
        entry["id"] = bundle.id
    figures.setdefault(label, OperationFigures(service.name, label)).failures.append(entry)


def _transport_error(
    event: Any, service: str, figures: dict[str, OperationFigures], settings: FuzzSettings, run: FuzzRun
) -> bool:
    """A call that got no answer (timeout, reset, TLS) is a failure of its operation, not a
    silent gap; the third timeout in a row stops the run, since a target that stopped answering
    only collects more of them. True when this one was a timeout."""
    import requests

    error = event.value
    timeout = isinstance(error, requests.Timeout | TimeoutError)
    title = "No answer in time" if timeout else "No answer"
    message = " ".join(f"{event.info.title}: {event.info.message}".split())[:500]
    figure = figures.setdefault(event.label, OperationFigures(service, event.label))
    figure.failures.append({"check": "transport", "title": title, "message": message, "curl": ""})
    if timeout:
        run.timeouts_in_row += 1
        if run.timeouts_in_row >= TIMEOUTS_IN_ROW:
            run.stop(
                f"{TIMEOUTS_IN_ROW} calls in a row got no answer within {settings.cfg.timeout:g} s "
                f"(the last to {event.label}) stopped the run"
            )
    return timeout


def with_links(service: Service, ours_catalogue: Callable[[], Catalogue]) -> tuple[dict[str, Any], list[str]]:
    """The service's document, with the OpenAPI links of crrsim's own contract added by operationId
    when the file declares none (CAISO's files do not), so the stateful phase follows real
    lifecycles (create -> read -> submit -> retract -> delete) on them too. ``ours_catalogue``
    gives crrsim's contract, loaded only when a file needs it and then once per run."""
    document = service.spec
    if _has_links(document):
        return document, []
    ours = ours_catalogue().services.get(service.name)
    if ours is None or not _has_links(ours.spec):
        return document, []
    document = copy.deepcopy(document)
    targets = {
        op.get("operationId"): op
        for item in (document.get("paths") or {}).values()
        if isinstance(item, dict)
        for op in item.values()
        if isinstance(op, dict)
    }
    added = []
    for item in (ours.spec.get("paths") or {}).values():
        for op in item.values() if isinstance(item, dict) else []:
            if not isinstance(op, dict) or op.get("operationId") not in targets:
                continue
            for status, answer in (op.get("responses") or {}).items():
                links = answer.get("links") if isinstance(answer, dict) else None
                target = (targets[op["operationId"]].get("responses") or {}).get(status)
                if links and isinstance(target, dict):
                    target["links"] = copy.deepcopy(links)
                    added.append(f"{op['operationId']} {status}: {', '.join(sorted(links))}")
    return document, added


def _has_links(document: dict[str, Any]) -> bool:
    return any(
        isinstance(answer, dict) and answer.get("links")
        for item in (document.get("paths") or {}).values()
        if isinstance(item, dict)
        for op in item.values()
        if isinstance(op, dict)
        for answer in (op.get("responses") or {}).values()
    )


def _readback_paths(catalogue: Catalogue) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Creation label -> (path of the same service's portfolio read, the creation body's record
    lists) for the read-back oracle; only those lists count, not properties a case adds."""
    out = {}
    for name, steps in PORTFOLIO_OPERATIONS.items():
        service = catalogue.services.get(name)
        if service is None:
            continue
        try:
            create, get = service.operation(steps["create"]), service.operation(steps["get"])
        except KeyError:
            continue
        lists = tuple(
            k
            for k, v in ((create.request_schema or {}).get("properties") or {}).items()
            if isinstance(v, dict) and v.get("type") == "array"
        )
        out[create.label] = (get.path, lists)
    return out


def _owner_labels(catalogue: Catalogue) -> frozenset[str]:
    """The submit and retract labels of the portfolio services (the owner check)."""
    return frozenset(
        op.label
        for name, steps in PORTFOLIO_OPERATIONS.items()
        if name in catalogue.services
        for op in catalogue[name].operations
        if op.operation_id in (steps["submit"], steps["retract"])
    )


def _second_identity(settings: FuzzSettings, url: str) -> CRRClient | None:
    """A client with another participant's certificate (the dev PKI's, on the sandbox or a --url
    sandbox), for the isolation oracle; None when there is none."""
    files = settings.other_identity_files()
    if files is None:
        return None
    return CRRClient(url, identity=ClientIdentity.from_pem(*files), ca=settings.ca, retries=0)


def reproduction(curl: str, settings: FuzzSettings) -> str:
    """Schemathesis' curl line, made to work with the participant's own certificate: the pfx with
    its password from $CRRSIM_PFX_PASSWORD (the variable, never the value), the CA, and a fresh
    caiso-request-id so CAISO support can find exactly this call."""
    parts = [curl.replace("curl ", "curl --fail-with-body ", 1)]
    if settings.cfg.pfx is not None:
        parts.append(f'--cert-type P12 --cert "{settings.cfg.pfx}:$CRRSIM_PFX_PASSWORD"')
    elif settings.cert is not None:
        parts.append(f"--cert {settings.cert} --key {settings.key or settings.cert}")
    if settings.ca is not None:
        parts.append(f"--cacert {settings.ca}")
    text = " ".join(parts)
    return re.sub(
        r"(-H '?caiso-request-id: )[0-9a-fA-F-]{36}", lambda m: m.group(1) + str(uuid.uuid4()), text
    )


def run_fuzz(
    settings: FuzzSettings,
    url: str,
    comparison: Comparison | None = None,
    emit: Emit = ignore,
) -> FuzzOutcome:
    """Fuzz every selected operation of the contract at ``url``; the report says what ran where.
    Emits the run's events: live call counts from schemathesis' own event stream, a case per
    operation when its service is done, then the report."""
    if settings.seed is None:  # chosen here, not by hypothesis, so the report can say which it was
        settings = replace(settings, seed=random.randrange(2**32))
    started = datetime.now(UTC)
    clock = time.perf_counter()
    catalogue: Catalogue = load_catalogue(settings.specs)
    selection = select_operations(catalogue, settings)
    figures: dict[str, OperationFigures] = {}
    run_id = uuid.uuid4().hex[:8]
    ours_catalogue = functools.cache(lambda: load_catalogue(None))
    with (
        identity_files(settings) as (cert, key),
        CRRClient(
            url, identity=ClientIdentity.from_pem(Path(cert), Path(key)), ca=settings.ca, retries=0
        ) as own,
    ):
        live = read_live_values(own, catalogue, settings.participant, run_id)
        oracle = _second_identity(settings, url)
        shared_writes = selection.writes_ok and settings.target_kind != "sandbox"
        run = FuzzRun(
            budget=settings.max_requests,
            stop_on_5xx=bool(settings.stop_on_5xx),
            live=live,
            confined=tuple(live.portfolios) if shared_writes else (),
            oracle=oracle,
            oracle_labels=frozenset(
                op.label for s in catalogue for op in s.operations if op.takes_participant
            ),
            own=own,
            readback_gets=_readback_paths(catalogue),
            owner_labels=_owner_labels(catalogue),
            comparison=comparison,
        )
        total, done = sum(len(ids) for ids in selection.allowed.values()), 0
        emit(
            RunStarted(
                runner=Runner.FUZZ,
                title="fuzz",
                target=url,
                total=total,
                unit="operations",
            )
        )
        for service in catalogue:
            _fuzz_service(
                service,
                selection,
                settings,
                url,
                cert,
                key,
                figures,
                live,
                ours_catalogue,
                run_id,
                run,
                emit,
                done,
            )
            for f in sorted(figures.values(), key=lambda f: f.label):
                if f.service == service.name:
                    done += 1
                    emit(CaseFinished(case=operation_case(f), completed=done))
        cleanup: list[str] = []
        if shared_writes:
            cleanup = clean_up(own, catalogue, live) or ["no portfolio of the run's namespace was left"]
    resent = run.readback_sent
    readbacks = sum(n for label, n in resent.items() if label in run.readback_gets)
    owner_checks = sum(n for label, n in resent.items() if label in run.owner_labels)
    oracle_calls = sum(run.oracle_sent.values())
    write_labels = {op.label for s in catalogue for op in s.operations if op.writes}
    oracle_writes = sum(n for label, n in run.oracle_sent.items() if label in write_labels)
    if oracle is not None:
        oracle.close()
    asked = {
        catalogue[name].operation(op_id).label: name
        for name, ids in selection.allowed.items()
        for op_id in ids
    }
    report = fuzz_report(settings, url, selection, list(figures.values()), started, live)
    report.sections[0].facts["stopped early"] = run.stopped or "no"
    report.gaps = coverage_gaps(settings, asked, list(figures.values()), run.stopped)
    if comparison is not None:
        report.sections.insert(1, Section(f"Divergences from {comparison.label}", text=comparison.lines()))
        report.meta.update(compared=comparison.compared, divergences=sum(comparison.divergences.values()))
    report.sections[0].facts["request budget"] = (
        f"{run.sent} of {settings.max_requests}" if settings.max_requests else "none"
    )
    report.sections[0].facts["isolation oracle"] = (
        f"another participant's certificate ({settings.other_identity}) re-sends up to "
        f"{checks.ORACLE_CALLS_PER_OPERATION} successful calls per operation ({oracle_calls} sent, {oracle_writes} of "
        "them writes: create, submit, retract, delete naming the participant's portfolio); each must be refused "
        "with SEC0001"
        if oracle is not None
        else "not run: no second participant's certificate (the dev PKI has them on the sandbox)"
    )
    report.sections[0].facts["business rules broken one at a time"] = _broken_rules_fact(run.broken_tally)
    report.sections[0].facts["read-back oracle"] = (
        f"{readbacks} acknowledged portfolio creations read back with the participant's own certificate; each must "
        "hold the records sent, unchanged; "
        f"{owner_checks} successful submissions and retractions re-sent with the portfolio's name as participantName, "
        "each must be refused"
    )
    if cleanup:
        report.sections.append(Section("Clean-up of the run's own resources", text=cleanup))
        report.findings += [
            Finding(text=line, where="clean-up") for line in cleanup if line.startswith("LEFT")
        ]
    report.judge(failed=bool(report.findings))
    report.meta.update(wall_s=round(time.perf_counter() - clock, 2), run_id=run_id)
    report.tested = describe_target(settings.cfg.target, settings.target_kind)
    emit(RunFinished(report=report, seconds=time.perf_counter() - clock))
    return FuzzOutcome(report, list(figures.values()), selection)


def coverage_gaps(
    settings: FuzzSettings, asked: dict[str, str], figures: list[OperationFigures], stopped: str
) -> list[Gap]:
    """What the run was asked to fuzz and did not: a stop rule that ended it, operations it never
    reached, and operations none of whose positive cases reached business logic (every one
    refused for want of a market, a window, a CRR: then no check on a success answer could
    fail there, so passing them proves nothing). Each with what covers it next time."""
    gaps: list[Gap] = [] if asked else [Gap("No operation was selected to fuzz.", "--service, --operation")]
    called = {f.label for f in figures if f.calls}
    missing = [label for label in asked if label not in called]
    if "budget" in stopped:
        cover = (
            f"--max-requests {2 * (settings.max_requests or 0)} (or fewer operations at a time: --service, "
            "--operation)"
        )
    elif "server error" in stopped:
        cover = "fix the server error first, or --no-stop-on-5xx to fuzz past it"
    elif "no answer" in stopped:
        cover = "--timeout SECONDS, once the target answers again"
    elif stopped == INTERRUPTED:
        cover = "run it again"
    else:
        cover = "--service or --operation to fuzz these on their own"
    if stopped:
        gaps.append(Gap(f"The run stopped early: {stopped}.", cover))
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        gaps.append(
            Gap(f"{len(missing)} of {len(asked)} selected operations were never fuzzed: {shown}", cover)
        )
    if settings.mode == "negative":
        return gaps
    for f in sorted(figures, key=lambda f: f.label):
        if f.label not in asked or not f.calls or f.positive_business:
            continue
        if not f.positive:
            gaps.append(
                Gap(
                    f"{f.label}: none of its {f.calls} cases was a positive one",
                    "--phases with examples or fuzzing, --max-examples N",
                )
            )
            continue
        answers = ", ".join(f"{answer} x{n}" for answer, n in f.refusals.most_common(3))
        gaps.append(
            Gap(
                f"{f.label}: none of its {f.positive} positive cases reached business logic ({answers}), so no check "
                "on a successful answer ran there",
                "give the target what the operation acts on (an open market, a held CRR, a portfolio): on the sandbox "
                "`crrsim sandbox reset` sets the plan up; on Map-Stage, the market of the week",
            )
        )
    return gaps


def _broken_rules_fact(tally: dict[str, list[int]]) -> str:
    """Per rule: how many uploads breaking it were refused, and of those how many were shown to be
    refused because of it (the same upload without the break answered differently)."""
    parts = []
    for rule, (proven, same, accepted) in sorted(tally.items()):
        refused = proven + same
        text = f"{rule}: {refused} of {refused + accepted} refused"
        if same:
            text += f" ({same} refused the same way without the break, so not shown to be about it)"
        parts.append(text)
    return "; ".join(parts) or "none sent (no upload with records valid for the target ran)"


def clean_up(client: CRRClient, catalogue: Catalogue, live: LiveValues) -> list[str]:
    """Retract and delete every portfolio of the run's namespace in every market it knows; one
    line each (``LEFT ...`` when one could not be removed)."""
    lines: list[str] = []
    mine = set(live.portfolios)
    for service in ("auction", "nomination"):
        if service not in catalogue.services:
            continue
        steps = {step: catalogue[service].operation(op) for step, op in PORTFOLIO_OPERATIONS[service].items()}
        for market in live.names.get("market", []):
            listed = client.request(
                "GET", steps["list"].path, params={"marketName": market, "participantName": live.participant}
            )
            if not listed.ok:
                continue
            for item in listed.json() or []:
                name = item.get("portfolioName") if isinstance(item, dict) else None
                if name not in mine:
                    continue
                ident = {"marketName": market, "participantName": live.participant, "portfolioName": name}
                client.request("POST", steps["retract"].path, json=ident)  # refused unless SUBMITTED: fine
                gone = client.request("DELETE", steps["delete"].path, params=ident)
                lines.append(
                    f"{'deleted' if gone.ok else 'LEFT'} {service} portfolio {name!r} in {market}"
                    + ("" if gone.ok else f" (HTTP {gone.status}, caiso-request-id {gone.request_id})")
                )
    return lines


def per_service(figures: list[OperationFigures]) -> list[Section]:
    """Cases, failures and the share of positive cases that reached business logic, by service:
    the fuzz at a glance (the per-operation detail is in the cases)."""
    by_service: dict[str, list[OperationFigures]] = {}
    for f in sorted(figures, key=lambda f: f.service):
        by_service.setdefault(f.service, []).append(f)
    rows: list[dict[str, str]] = []
    shares: dict[str, float] = {}
    for service, figs in by_service.items():
        positive, reached = sum(f.positive for f in figs), sum(f.positive_business for f in figs)
        failures = sum(len(f.distinct_failures) for f in figs)
        share = round(100 * reached / positive) if positive else 0
        shares[service] = share
        rows.append(
            {
                "service": service,
                "verdict": "failed" if failures else "passed",
                "operations": str(len(figs)),
                "calls": str(sum(f.calls for f in figs)),
                "failures": str(failures),
                "positive cases": str(positive),
                "reached business logic": f"{reached} ({share}%)" if positive else "-",
            }
        )
    if not rows:
        return []
    return [
        Section("Per service", rows=rows, key="per-service"),
        Section(
            "Positive cases that reached business logic, by service",
            chart=shares,
            chart_unit="%",
            key="business-reach",
        ),
    ]


def operation_case(f: OperationFigures) -> CaseResult:
    """One operation's calls, answers and distinct failures: a case of the report (and the
    event the live display counts when its service is done)."""
    distinct = f.distinct_failures
    status = CaseStatus.FAILED if distinct else (CaseStatus.WARNING if f.known else CaseStatus.PASSED)
    message = (
        f"{plural(f.calls, 'call')}; {f.positive_business} of {plural(f.positive, 'positive case')} "
        "reached business logic "
        f"({f.reached_share:.0%}); "
        + ", ".join(f"{code}: {n}" for code, n in sorted(f.statuses.items()))
        + "".join(f"; known deviation ({check}): {why}" for check, why in f.known.items())
    )
    return CaseResult(
        group=f.service,
        name=f.label,
        status=status,
        message=message,
        details="\n".join(f"{d['check']}: {d['title']} - {d['message']}" for d in distinct),
        data={
            "calls": f.calls,
            "business": f.business,
            "positive": f.positive,
            "positive_business": f.positive_business,
            "statuses": {str(k): v for k, v in f.statuses.items()},
            "failures": distinct,
            "known_deviations": f.known,
            "positive_refused_as": dict(f.refusals.most_common(5)),
        },
    )


def fuzz_report(
    settings: FuzzSettings,
    url: str,
    selection: Selection,
    figures: list[OperationFigures],
    started: datetime,
    live: LiveValues,
) -> RunReport:
    cases: list[CaseResult] = []
    findings: list[Finding] = []
    for f in sorted(figures, key=lambda f: (f.service, f.label)):
        distinct = f.distinct_failures
        cases.append(operation_case(f))
        findings += [
            Finding(
                text=f"{f.label}: {d['title']}: {d['message']}"
                + (f" (support bundle {d['id']}: crrsim fuzz --replay {d['id']})" if d.get("id") else ""),
                fix=d["curl"],
                where=d["check"],
                reproduce=f"crrsim fuzz --replay {d['id']}" if d.get("id") else d["curl"],
            )
            for d in distinct
        ]
    ok = bool(cases) and not findings
    calls = sum(f.calls for f in figures)
    sections = [
        Section(
            "Run",
            facts={
                "target": url,
                "participant": settings.participant,
                "mode": settings.mode,
                "phases": ", ".join(settings.phases),
                "max examples": str(settings.max_examples),
                "response time limit": f"{settings.max_response_time:g} s (--max-response-time)",
                "seed": f"{settings.seed} (--seed {settings.seed} generates the same data again)",
                "operations fuzzed": str(len(cases)),
                "calls": str(calls),
                "writes": selection.writes_note,
            },
        ),
        *per_service(figures),
        Section("Not fuzzed here", text=selection.notes) if selection.notes else Section("Not fuzzed here"),
        Section(
            "Live values",
            facts={
                name: ", ".join(values[:8]) + (" ..." if len(values) > 8 else "")
                for name, values in live.summary().items()
            },
            text=live.notes,
        ),
        Section("Links added for the stateful phase (the file declares none)", text=selection.link_notes),
        Section(
            "Notes for participants' own clients",
            text=[
                f"{f.label}: ids above 2^31-1 seen in {', '.join(sorted(f.wide_ids))}: within the contract (up to 10 "
                "digits), but a client with 32-bit ids (a Java Integer, a C# int) breaks there"
                for f in sorted(figures, key=lambda f: f.label)
                if f.wide_ids
            ],
        ),
        Section(
            "Known deviations of the contract",
            text=deviations.every_reason(),
        ),
    ]
    return RunReport(
        runner="fuzz",
        title="CRR property-based conformance (schemathesis)",
        target=url,
        verdict="PASSED" if ok else "FAILED",
        ok=ok,
        cases=cases,
        sections=sections,
        started_at=started,
        finished_at=datetime.now(UTC),
        findings=findings,
        meta={
            "crrsim_version": __version__,
            "participant": settings.participant,
            "calls": calls,
            "operations": len(cases),
        },
    )
