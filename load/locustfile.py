"""crrsim's locust users: participants going about a Market Sim day, each over mTLS with its own
client certificate. Started by ``crrsim load`` as ``locust -f load/locustfile.py`` (a separate
process: locust's gevent patches must never reach pytest); it reads its run from the JSON file
named by ``CRRSIM_LOAD_CONFIG`` (target, participants' certificate files, the profile, where to
write). Passwords of pfx files arrive only as the names of environment variables.

What locust lacks and this file adds through locust's own extension points:

* exact latencies: every request is recorded into HDR histograms (``harness.load.hdr``), which
  workers ship to the master with ``report_to_master`` and the master merges in
  ``worker_report``; the master (or the single process) writes them when locust quits;
* an arrival-rate (open model) profile: the shape keeps a pool of users running and each takes
  the next due arrival of a schedule all processes share; latency counts from the arrival's
  intended send time, so a slowed server shows its queue instead of slowing the load;
* the writes the target acknowledged, for ``crrsim load``'s integrity check afterwards.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gevent
import gevent.event
import locust.stats
from locust import FastHttpUser, LoadTestShape, events, task
from locust.runners import MasterRunner, WorkerRunner

from harness.client import IdentityError, build_ssl_context
from harness.config import participants as participants_file
from harness.contract import downloads
from harness.contract.downloads import DOWNLOADS, DownloadError
from harness.contract.portfolios import market_products
from harness.contract.wire import JSON_MEDIA_TYPE, REQUEST_ID_HEADER
from harness.load.hdr import LATE_S, Recording
from harness.load.nodes import HUB_PAIRS, node_pairs
from harness.load.profiles import ArrivalSchedule, Profile
from harness.load.slo import SLO, evaluate

CONFIG: dict[str, Any] = json.loads(Path(os.environ["CRRSIM_LOAD_CONFIG"]).read_text(encoding="utf-8"))
PROFILE = Profile.from_dict(CONFIG["profile"])
PATHS: dict[str, str] = CONFIG["paths"]  # "service.operationId" -> path under the base URL
INTERVAL = float(CONFIG["interval_s"])
# crrsim's live progress reads the stats history locust appends every second; locust flushes it
# only every 5 s by default (the setting its docs name), so the figures lagged a burst by half
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1

STATE: dict[str, Any] = {
    "t0": None,
    "env": None,
    "schedule": None,
    "raw": [],
    "ready_users": 0,
    "arrivals_open": gevent.event.Event(),
    "arrivals_t0": None,
}
RECORDING = Recording()  # this process's samples since its last report to the master
MERGED = Recording()  # the master's (or single process's) whole run
_contexts: dict[str, Any] = {}
MARKETS: dict[str, Any] = {"ready": gevent.event.Event()}
HOLDINGS: dict[str, list[dict[str, Any]]] = {}  # SC ID -> its CRRs (file records), read once per process
OFFERED: dict[Any, float] = {}  # CRR id -> MW this process has offered for sale
ANSWERED: set[Any] = set()  # offers this process has responded to
# nomination paths every network has (a hub to a load zone), within the plan's default caps
NOMINATION_PATHS = (
    ("TH_NP15_GEN-APND", "DLAP_PGAE-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SCE-APND"),
    ("TH_ZP26_GEN-APND", "SLAP_PGST-APND"),
)
_user_numbers = itertools.count()
_portfolio_numbers = itertools.count(1)  # per process: names are unique with the pid


def _context(participant: dict[str, Any]) -> Any:
    """One TLS context per participant and process (built after the fork, with the one client's
    TLS setup: verified server, TLS 1.2 or newer)."""
    sc = participant["sc"]
    if sc not in _contexts:
        who = participants_file.Participant.from_wire(participant)
        identity = who.identity(os.environ.get(who.password_env or "") if who.pfx else None)
        _contexts[sc] = build_ssl_context(identity, CONFIG.get("ca"))
    return _contexts[sc]


def _elapsed() -> float:
    return time.perf_counter() - (STATE["t0"] or time.perf_counter())


class Participant(FastHttpUser):
    """One participant (SC ID) with its own certificate; tasks drawn from the profile's mix."""

    host = CONFIG["base_url"]
    insecure = False  # the default (True) would turn hostname checks off
    network_timeout = 60.0
    connection_timeout = 30.0

    def __init__(self, environment: Any) -> None:
        number = next(_user_numbers)
        runner = environment.runner
        offset = getattr(runner, "worker_index", 0) if isinstance(runner, WorkerRunner) else 0
        participants = CONFIG["participants"]
        self.me = participants[(number + offset) % len(participants)]
        context = _context(self.me)
        self.ssl_context_factory = lambda: context  # zero arguments: see STACK-NOTES
        super().__init__(environment)
        self.sc = self.me["sc"]
        self.markets: list[dict[str, Any]] = []
        self.allocation: list[dict[str, Any]] = []
        self.load_windows: list[dict[str, Any]] = []
        self.posted: list[str] = []
        self.node_pairs: list[tuple[str, str]] = list(HUB_PAIRS)
        self.rng = random.Random()

    # -- the one request helper: a fresh caiso-request-id, grouped by operation, timed exactly --
    def call(
        self,
        key: str,
        method: str = "GET",
        params: dict[str, Any] | None = None,
        body: Any = None,
        intended: float | None = None,
        raw: bool = False,
        fine: tuple[str, ...] = (),
        record: bool = True,
    ) -> tuple[int, Any]:
        """Send one request and record it; (status, the JSON answer, or its bytes with ``raw``).
        ``fine``: error codes that are an ordinary answer here (DWL0006: nothing to download);
        ``record=False``: a user's set-up call, outside the figures the SLOs judge."""
        path = PATHS[key] + ("?" + urlencode(params) if params else "")
        _pace()
        started = time.perf_counter()
        headers = {
            REQUEST_ID_HEADER: str(uuid.uuid4()),
            "Accept": CONFIG["accept"].get(key, JSON_MEDIA_TYPE),
        }
        error = None
        payload: Any = None
        with self.client.request(
            method, path, json=body, headers=headers, name=key, catch_response=True
        ) as response:
            status = response.status_code or 0
            if 200 <= status < 300 and raw:
                response.success()
                payload = response.content
            elif 200 <= status < 300:
                response.success()
                ctype = (response.headers or {}).get("Content-Type", "") if status else ""
                if "json" in ctype:
                    try:
                        payload = json.loads(response.content or b"null")
                    except ValueError:
                        payload = None
            else:
                error = _describe(status, response.content, getattr(response, "error", None))
                if fine and any(code in error.split(" ")[-1].split(",") for code in fine):
                    error = None
                    response.success()
                else:
                    response.failure(error)
        ended = time.perf_counter()
        begin = intended if intended is not None else started
        if not record:
            return status, payload
        RECORDING.add(key, int((ended - STATE["t0"]) // INTERVAL) if STATE["t0"] else 0, ended - begin, error)
        if CONFIG.get("raw_dir"):
            STATE["raw"].append(round((ended - begin) * 1_000_000))
        return status, payload

    def on_start(self) -> None:
        """The markets to act in, read once per process by the first user (the others wait): a
        pool of hundreds of users must not open a run with hundreds of identical reads."""
        if "markets" not in MARKETS:
            if MARKETS.get("reading"):
                MARKETS["ready"].wait(60)
            else:
                MARKETS["reading"] = True
                try:
                    MARKETS["markets"] = self._read_markets()
                finally:
                    MARKETS["ready"].set()
        known = MARKETS.get("markets") or {}
        self.markets = known.get("auction", [])
        self.allocation = known.get("allocation", [])
        self.load_windows = known.get("load_windows", [])
        self.posted = known.get("posted", [])
        self.node_pairs = known.get("node_pairs") or list(HUB_PAIRS)
        if PROFILE.model == "arrival":
            # this user's keep-alive connection, its mutual-TLS handshake done before the clock
            # starts: sixty first requests in the peak second were sixty handshakes at ~60 ms of
            # CPU each, a backlog of arrivals that measured the warm-up instead of the server
            self.call(CONFIG["app_status"], record=False)
            STATE["ready_users"] += 1
            _open_arrivals_when_ready()

    def _read_markets(self) -> dict[str, Any]:
        """Open auction and allocation markets, and open forecast load windows (once per process)."""
        found: dict[str, Any] = {
            "auction": self._open_markets("market_status.getActiveAuctionMarkets"),
            "allocation": self._open_markets("market_status.getActiveAllocationMarkets"),
        }
        status, posted = self.call(
            "market_status.getPostedAuctionMarkets", params={"participantName": self.sc}
        )
        found["posted"] = (
            [m["name"] for m in posted if isinstance(m, dict) and isinstance(m.get("name"), str)]
            if status == 200 and isinstance(posted, list)
            else []
        )
        status, windows = self.call(
            "historical_forecasted_load.getOpenForecastLoadSubmissionWindowList",
            params={"participantName": self.sc},
        )
        found["load_windows"] = (
            [w for w in windows if isinstance(w, dict) and w.get("periods")]
            if status == 200 and isinstance(windows, list)
            else []
        )
        found["node_pairs"], STATE["node_pairs"] = node_pairs(self._biddable_nodes(found["auction"]))
        return found

    def _biddable_nodes(self, markets: list[dict[str, Any]]) -> list[str]:
        """The first open auction market's node list (SOURCE_SINK), its biddable nodes; none when
        it cannot be read (the hub pairs are then used, and the results say so)."""
        if not markets:
            return []
        spec = DOWNLOADS["SOURCE_SINK"]
        status, body = self.call(
            f"market_data.{spec.operation}",
            raw=True,
            fine=("DWL0005", "DWL0006"),
            params=spec.params("SOURCE_SINK", "CSV", self.sc, markets[0]["name"]),
        )
        if status != 200 or not body:
            return []
        try:
            return downloads.biddable_nodes(downloads.records(downloads.unpack(body, "CSV")[1], "CSV"))
        except (DownloadError, ValueError):
            return []

    def _open_markets(self, key: str) -> list[dict[str, Any]]:
        status, markets = self.call(key, params={"participantName": self.sc})
        if status != 200 or not isinstance(markets, list):
            return []
        found = [m for m in markets if isinstance(m, dict) and market_products(m)]
        # uploads go to the markets whose window is open (a closed one only answers MKT0004)
        open_now = []
        for market in found:
            status, answer = self.call(
                "market_status.getMarketStatus",
                params={"marketName": market["name"], "participantName": self.sc},
            )
            state = answer.get("status") or answer.get("marketStatus") if isinstance(answer, dict) else answer
            if state == "OPEN":
                open_now.append(market)
        return open_now or found

    # -- the tasks a profile's mix names ----------------------------------------------------------
    def app_status(self, intended: float | None = None) -> None:
        self.call(CONFIG["app_status"], intended=intended)

    def market_status(self, intended: float | None = None) -> None:
        if self.markets and self.rng.random() < 0.5:
            market = self.rng.choice(self.markets)["name"]
            self.call(
                "market_status.getMarketStatus",
                params={"marketName": market, "participantName": self.sc},
                intended=intended,
            )
        else:
            self.call(
                "market_status.getActiveAuctionMarkets",
                params={"participantName": self.sc},
                intended=intended,
            )

    def market_info(self, intended: float | None = None) -> None:
        if not self.markets:
            return self.market_status(intended)
        market = self.rng.choice(self.markets)["name"]
        self.call(
            "market_status.getMarketInfo",
            params={"marketName": market, "participantName": self.sc},
            intended=intended,
        )

    def portfolio_submit(self, intended: float | None = None) -> None:
        """Build an auction portfolio of the profile's size, upload it, then submit it."""
        if not self.markets:
            return self.market_status(intended)
        market = self.rng.choice(self.markets)
        bids = _bids(self.sc, market_products(market), self.node_pairs, self.rng)
        self._create_and_submit("auction", market["name"], {"newBids": bids, "newOffers": []}, intended)
        return None

    def nomination_submit(self, intended: float | None = None) -> None:
        """Nominate a few LSE CRRs in an open allocation market, then submit the portfolio."""
        if not self.allocation:
            return self.market_status(intended)
        market = self.rng.choice(self.allocation)
        period = market_products(market)[0][0]
        records = [
            {
                "assetOwner": self.sc,
                "source": source,
                "sink": sink,
                "hedgeType": "OBL",
                "tou": tou,
                "period": period,
                "crrType": "LSE",
                "mw": round(self.rng.uniform(0.1, 0.5), 3),
            }
            for source, sink in self.rng.sample(NOMINATION_PATHS, self.rng.randint(1, 3))
            for tou in ("ON", "OFF")
        ]
        self._create_and_submit("nomination", market["name"], {"newNominations": records}, intended)
        return None

    def _create_and_submit(
        self, service: str, market: str, lists: dict[str, list[dict[str, Any]]], intended: float | None
    ) -> None:
        """A portfolio's lifecycle: create it with its record ``lists``, note the acknowledged
        write for the integrity check, submit it."""
        name = f"load {CONFIG['run_id']} {self.sc} {os.getpid()} {next(_portfolio_numbers)}"
        ident = {"marketName": market, "participantName": self.sc, "portfolioName": name}
        status, _ = self.call(
            f"{service}.portfolioCreation", "POST", body={**ident, **lists}, intended=intended
        )
        if status != 200:
            return
        records = [r for records in lists.values() for r in records]
        RECORDING.writes.append(
            {
                "service": service,
                "participant": self.sc,
                "market": market,
                "portfolio": name,
                "records": len(records),
                "paths": sorted({f"{r['source']}>{r['sink']}" for r in records}),
            }
        )
        self.call(f"{service}.portfolioSubmission", "POST", body=ident)

    def load_submission(self, intended: float | None = None) -> None:
        """A day of hourly forecast load for a load zone, in an open forecast window."""
        if not self.load_windows:
            return self.market_status(intended)
        window = self.rng.choice(self.load_windows)
        period = window["periods"][0]
        sink = self.rng.choice(("DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND"))
        hourly = [
            {
                "sinkName": sink,
                "effectiveDate": period["startDate"],
                "hourEnding": hour,
                "dataType": "FINAL_LOAD",
                "mw": round(self.rng.uniform(80, 160), 3),
            }
            for hour in range(1, 25)
        ]
        self.call(
            "historical_forecasted_load.postLoadSubmission",
            "POST",
            body={
                "histForecastFlag": "F",
                "assetOwner": self.sc,
                "loadSubmissionWindowName": window["name"],
                "periodName": period["name"],
                "hourlyLoad": hourly,
            },
            intended=intended,
        )
        return None

    def secondary_offer(self, intended: float | None = None) -> None:
        """Half the time a private sell offer of a CRR this participant holds, to another
        participant of the run (who answers it in ``offer_response``); otherwise, or with
        nothing left to sell, a public buy offer."""
        crr = self._crr_to_sell() if self.rng.random() < 0.5 else None
        others = [p["sc"] for p in CONFIG["participants"] if p["sc"] != self.sc]
        if crr is None or not others:
            source, sink = self.rng.choice(self.node_pairs)
            offer = {
                "assetOwner": self.sc,
                "source": source,
                "sink": sink,
                "tou": "ON",
                "hedgeType": "OBL",
                "crrType": "AUC",
                "startDate": "2026-03-01T08:00:00Z",
                "endDate": "2026-04-01T07:00:00Z",
                "mw": round(self.rng.uniform(0.5, 5), 3),
                "price": round(self.rng.uniform(0.5, 20), 2),
                "contactInfo": {
                    "name": f"{self.sc} desk",
                    "phone": "916-555-0100",
                    "email": "desk@example.com",
                },
            }
            self.call(
                "secondary_market.postPublicSmBuyOffers",
                "POST",
                params={"participantName": self.sc},
                body=[offer],
                intended=intended,
            )
            return
        mw = round(self.rng.uniform(0.1, 0.5), 3)
        OFFERED[crr["CRRID"]] = OFFERED.get(crr["CRRID"], 0.0) + mw
        offer = {
            "assetOwner": self.sc,
            "crrId": int(crr["CRRID"]),
            "source": crr["Source"],
            "sink": crr["Sink"],
            "tou": crr["TOU"],
            "hedgeType": crr["HedgeType"],
            "crrType": crr["CRRType"],
            "startDate": crr["StartDate"],
            "endDate": crr["EndDate"],
            "mw": mw,
            "price": round(self.rng.uniform(0.5, 5), 2),
            "targetMpName": self.rng.choice(others),
        }
        self.call(
            "secondary_market.postPrivateSmSellOffers",
            "POST",
            params={"participantName": self.sc},
            body=[offer],
            intended=intended,
        )

    def _crr_to_sell(self) -> dict[str, Any] | None:
        """A CRR this participant holds with MW left to offer (its holdings read once per process
        from its own existing-CRR download; what this process offered is counted against them)."""
        if self.sc not in HOLDINGS:
            HOLDINGS[self.sc] = []
            for origin in ("AUCTION", "ALLOCATION"):
                kind = f"PRIVATE_EXISTING_CRR_{origin}"
                spec = DOWNLOADS[kind]
                status, body = self.call(
                    "market_data.getPrivateGeneralData",
                    params=spec.params(kind, "JSON", self.sc),
                    raw=True,
                    fine=("DWL0006",),
                )
                if status == 200 and body:
                    try:
                        text = downloads.unpack(body, "JSON")[1]
                    except DownloadError:
                        continue
                    HOLDINGS[self.sc] += [
                        r for r in downloads.records(text, "JSON") if r.get("AssetOwner") == self.sc
                    ]
        left = [c for c in HOLDINGS[self.sc] if OFFERED.get(c["CRRID"], 0.0) + 0.5 <= 0.8 * float(c["MW"])]
        return self.rng.choice(left) if left else None

    def offer_response(self, intended: float | None = None) -> None:
        """Look for private offers aimed at this participant and buy from one (a sell offer).
        Buying is a trade that moves CRR holdings and cannot be undone: without ``allow_trades``
        (the sandbox, or --allow-trades) the user only looks."""
        status, pending = self.call(
            "secondary_market.getMySmResponsesByStatus",
            params={"participantName": self.sc, "responseStatusType": "PENDING_MP_RESPONSE"},
            intended=intended,
        )
        sells = (
            [
                o
                for o in pending or []
                if isinstance(o, dict)
                and o.get("initiatingOfferType") == "SELL"
                and o.get("requestId") not in ANSWERED
            ]
            if status == 200 and isinstance(pending, list)
            else []
        )
        if sells and CONFIG.get("allow_trades"):
            chosen = self.rng.choice(sells)
            ANSWERED.add(chosen["requestId"])
            self.call(
                "secondary_market.postSmResponseToSellOffers",
                "POST",
                params={"participantName": self.sc},
                body=[{"requestId": chosen["requestId"]}],
            )

    def download(self, intended: float | None = None) -> None:
        """A ZIP download a participant's tools fetch: a market's node list, the public existing
        CRRs, and, once a market's results are posted, its own awards and the clearing prices."""
        choices: list[tuple[str, str | None]] = [("PUBLIC_EXISTING_CRR", None)]
        choices += [("SOURCE_SINK", m["name"]) for m in self.markets]
        choices += [
            (kind, name) for name in self.posted for kind in ("PRIVATE_AUCTION_RESULT", "CLEARING_PRICE")
        ]
        kind, market = self.rng.choice(choices)
        spec = DOWNLOADS[kind]
        self.call(
            f"market_data.{spec.operation}",
            params=spec.params(kind, self.rng.choice(("CSV", "JSON")), self.sc, market),
            intended=intended,
            raw=True,
            fine=("DWL0005", "DWL0006"),
        )

    def messages(self, intended: float | None = None) -> None:
        self.call(
            "messages.publicMessages",
            params={
                "fromDate": "2026-01-01T00:00:00Z",
                "toDate": "2027-01-01T00:00:00Z",
                "participantName": self.sc,
            },
            intended=intended,
        )

    def _one(self, intended: float | None = None) -> None:
        names = list(PROFILE.mix)
        chosen = self.rng.choices(names, weights=[PROFILE.mix[n] for n in names])[0]
        getattr(self, chosen)(intended)

    @task
    def work(self) -> None:
        if PROFILE.model == "closed":
            self._one()
            return
        # arrival model: take this process's next due arrival, wait for it, send it
        STATE["arrivals_open"].wait()  # the schedule's clock starts once the pool is up
        schedule: ArrivalSchedule | None = STATE["schedule"]
        due = schedule.next_due() if schedule is not None else None
        if due is None:
            gevent.sleep(1.0)  # the schedule is over: the shape stops the run
            return
        intended = STATE["arrivals_t0"] + due
        wait = intended - time.perf_counter()
        if wait > 0:
            gevent.sleep(wait)
        bucket = RECORDING.bucket(int((time.perf_counter() - STATE["t0"]) // INTERVAL))
        bucket.arrivals += 1
        if time.perf_counter() - intended > LATE_S:
            bucket.late += 1
        self._one(intended)

    def wait_time(self) -> float:
        if PROFILE.model == "arrival":
            return 0.0
        low, high = PROFILE.think_time
        return self.rng.uniform(low, high)


def _pace() -> None:
    """The rate cap of a shared environment (--max-rps), split between the processes: each send
    takes the next free slot of this process's share."""
    cap = CONFIG.get("max_rps")
    if not cap:
        return
    schedule = STATE["schedule"]
    share = cap / (schedule.processes if schedule is not None else 1)
    now = time.perf_counter()
    slot = max(now, STATE.get("next_send", now))
    STATE["next_send"] = slot + 1 / share
    if slot > now:
        gevent.sleep(slot - now)


def _describe(status: int, content: bytes | None, error: Any) -> str:
    if not status:
        return f"no answer ({type(error).__name__ if error else 'connection failed'})"
    try:
        codes = [e.get("errorCode") for e in json.loads(content or b"{}").get("errorList", [])]
    except (ValueError, AttributeError):
        codes = []
    return f"HTTP {status}" + (f" {','.join(str(c) for c in codes)}" if codes else "")


def _bids(
    sc: str, products: list[tuple[str, str]], pairs: list[tuple[str, str]], rng: random.Random
) -> list[dict[str, Any]]:
    """A buy portfolio of the profile's size: each bid a demand curve of the profile's points
    (from 0 MW, MW rising, price falling), on a product the market offers."""
    bids = []
    for _ in range(rng.randint(*PROFILE.bids)):
        period, tou = rng.choice(products)
        source, sink = rng.choice(pairs)
        points = rng.randint(*PROFILE.points)
        price = round(rng.uniform(2.0, 9.0), 2)
        step = round(rng.uniform(0.5, 2.0), 3)
        curve = [
            {"mw": round(i * step, 3), "price": round(max(0.01, price - i * 0.1), 2)} for i in range(points)
        ]
        bids.append(
            {
                "assetOwner": sc,
                "source": source,
                "sink": sink,
                "hedgeType": "OBL",
                "tou": tou,
                "period": period,
                "crrType": "AUC",
                "bidCurve": curve,
            }
        )
    return bids


SETUP_LIMIT_S = 15.0  # the most the arrival clock waits for the pool to be up


def _open_arrivals_when_ready(force: bool = False) -> None:
    """Start the arrival schedule's clock once this process's whole pool is spawned and each user
    has read its markets (k6 sets its virtual users up before its clock starts): started with the
    run, the first seconds' arrivals found no free user and left late, all of them at the start,
    and a short burst's p95 measured the generator's warm-up, not the server."""
    opened = STATE["arrivals_open"]
    if opened.is_set():
        return
    spawned = STATE.get("spawned", 0)  # this process's users, once locust has spawned them all
    if force or (spawned and STATE["ready_users"] >= spawned):
        STATE["arrivals_t0"] = time.perf_counter()
        STATE["setup_s"] = round(STATE["arrivals_t0"] - STATE["t0"], 3)
        opened.set()


@events.spawning_complete.add_listener
def _on_spawning_complete(user_count: int, **_: Any) -> None:
    if user_count > 0:
        STATE["spawned"] = user_count
        _open_arrivals_when_ready()


def _open_arrivals_at_the_latest() -> None:
    gevent.sleep(SETUP_LIMIT_S)
    _open_arrivals_when_ready(force=True)


class ProfileShape(LoadTestShape):
    """The profile's stages over time: users (closed model) or the arrival pool (open model)."""

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        if PROFILE.model == "arrival":
            # the pool stays up while it is set up, then until the last arrival is due (the
            # schedule's clock starts when the pool is up), plus a moment for answers in flight
            setup = STATE.get("setup_s")  # a master learns it from its workers' reports
            if setup is None:
                setup = SETUP_LIMIT_S  # the clock starts by then at the latest
            keep = elapsed < setup + PROFILE.duration + 2.0
            return (PROFILE.pool, float(PROFILE.pool)) if keep else None
        start = 0.0
        for stage in PROFILE.stages:
            start += stage.duration
            if elapsed < start:
                return stage.users, stage.spawn_rate
        return None


# -- locust's extension points: start, ship to the master, merge, write ---------------------------
@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    """Every certificate's TLS context is built before the first user starts (in the process
    that sends: init fires after locust's --processes fork): a wrong password or a broken file
    stops the run with its one sentence, instead of users dying one by one in the log while the
    run reports 0 requests; the users then take the contexts built here."""
    STATE["env"] = environment
    if isinstance(environment.runner, MasterRunner):
        return
    for participant in CONFIG["participants"]:
        try:
            _context(participant)
        except IdentityError as exc:
            sys.exit(f"crrsim: the virtual users of {participant['sc']} cannot sign in: {exc}")


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    STATE["t0"] = time.perf_counter()
    STATE["started"] = time.time()
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        processes = max(1, int(getattr(environment.parsed_options, "expect_workers", 1) or 1))
        index = runner.worker_index % processes
    else:
        processes, index = 1, 0
    STATE["schedule"] = ArrivalSchedule(PROFILE.stages, index=index, processes=processes)
    if PROFILE.model == "arrival" and not isinstance(runner, MasterRunner):
        gevent.spawn(_open_arrivals_at_the_latest)
    if not isinstance(runner, WorkerRunner):
        STATE["processes"] = getattr(runner, "worker_count", 0) or 1
        gevent.spawn(_watch_users, runner)
        gevent.spawn(_report_progress, runner)
        if CONFIG.get("abort_on_fail") and CONFIG.get("slos"):
            gevent.spawn(_watch_slos, runner)


def _watch_slos(runner: Any) -> None:
    """--abort-on-fail (k6's abortOnFail): every two seconds the SLOs are judged on what has been
    merged so far; a ceiling crossed by enough samples ends the run, and the results say why."""
    slos = [SLO(**s) for s in CONFIG["slos"]]
    while True:
        gevent.sleep(2.0)
        so_far = Recording()
        so_far.merge(MERGED)
        if not isinstance(runner, MasterRunner):
            so_far.merge(RECORDING)
        breached = [v for v in evaluate(slos, so_far, _elapsed(), final=False) if not v.ok]
        if breached:
            STATE["aborted"] = "; ".join(
                f"{v.slo.name}: {'; '.join(v.breaches)} after {_elapsed():.0f} s" for v in breached
            )
            runner.quit()
            return


def _report_progress(runner: Any) -> None:
    """The run's live figures for crrsim, one JSON line every half second on the progress
    channel (``CONFIG["progress"]``), from locust's own totals where the shape runs: crrsim never
    parses locust's CSV files."""
    path = CONFIG.get("progress")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as channel:
        while STATE.get("duration") is None:
            total = runner.stats.total
            line = {
                "elapsed": round(_elapsed(), 2),
                "users": runner.user_count,
                "rps": round(total.current_rps, 1),
                "requests": total.num_requests,
                "failures": total.num_failures,
            }
            channel.write(json.dumps(line) + "\n")
            channel.flush()
            gevent.sleep(0.5)


def _watch_users(runner: Any) -> None:
    """Users running, per interval, seen where the shape runs (the master or the single process),
    until the test stops (the web UI keeps the process up for a while after that)."""
    while STATE.get("duration") is None:
        bucket = MERGED.bucket(int(_elapsed() // INTERVAL))
        bucket.users = max(bucket.users, runner.user_count)
        gevent.sleep(min(1.0, INTERVAL / 2))


@events.report_to_master.add_listener
def _on_report_to_master(client_id: str, data: dict[str, Any]) -> None:
    data["crrsim"] = RECORDING.to_wire()
    data["crrsim_nodes"] = STATE.get("node_pairs")
    data["crrsim_setup"] = STATE.get("setup_s")
    RECORDING.ops.clear()
    RECORDING.buckets.clear()
    RECORDING.writes.clear()


@events.worker_report.add_listener
def _on_worker_report(client_id: str, data: dict[str, Any]) -> None:
    if "crrsim" in data:
        MERGED.merge(Recording.from_wire(data["crrsim"]))
    if data.get("crrsim_nodes"):
        STATE["node_pairs"] = data["crrsim_nodes"]
    if data.get("crrsim_setup") is not None:  # the slowest worker's pool sets the master's shape
        STATE["setup_s"] = max(STATE.get("setup_s") or 0.0, float(data["crrsim_setup"]))


@events.test_stop.add_listener
def _on_test_stop(environment: Any, **_: Any) -> None:
    STATE["duration"] = _elapsed()
    _flush_raw()


@events.quit.add_listener
def _on_quit(exit_code: int, **_: Any) -> None:
    """The master has the workers' final reports by now (locust waits for them before quit)."""
    _flush_raw()
    environment = STATE["env"]
    runner = environment.runner if environment is not None else None
    if isinstance(runner, WorkerRunner):
        return
    if not isinstance(runner, MasterRunner):
        MERGED.merge(RECORDING)
    out = {
        "version": 1,
        "run_id": CONFIG["run_id"],
        "started": STATE.get("started"),
        "duration_s": STATE.get("duration") or _elapsed(),
        "interval_s": INTERVAL,
        "processes": STATE.get("processes", 1),
        "aborted": STATE.get("aborted"),
        "node_pairs": STATE.get("node_pairs"),
        "setup_s": STATE.get("setup_s"),
        "recording": MERGED.to_wire(),
    }
    path = Path(CONFIG["results"])
    path.write_text(json.dumps(out), encoding="utf-8")


def _flush_raw() -> None:
    raw_dir = CONFIG.get("raw_dir")
    if not raw_dir or not STATE["raw"]:
        return
    with open(Path(raw_dir) / f"raw-{os.getpid()}.txt", "a", encoding="ascii") as fh:
        fh.write("\n".join(str(v) for v in STATE["raw"]) + "\n")
    STATE["raw"].clear()
