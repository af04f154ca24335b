"""Live values, scoped to the participant: what positive cases draw on to reach business logic.

Random strings stop at "unknown market" or "not your SC ID"; a conformance test that never gets
past them proves little. Before fuzzing, crrsim reads (GET only, as the participant, through the
one client) the names the target knows: its markets (open windows first), load submission
windows, load migration markets and TOR conversion windows; the caller's own SC ID goes into
every participant-like field, and portfolio names come from the run's own namespace
(``crrsim fuzz <run id> n``). They reach schemathesis as dictionaries bound to parameters and
body fields (its own mechanism), each with a probability below 1 so refusal paths stay tested.

Then, from the market-data downloads a participant's own tools read (ZIP archives, read
through ``harness.contract.downloads``): the biddable sources and sinks of the first market's
node list (SOURCE_SINK), the CRRs the participant holds (PRIVATE_EXISTING_CRR_*, unexpired,
for sell offers) and the other SC IDs that hold CRRs (PUBLIC_EXISTING_CRR, counterparties for
private offers). Those fields go together in one record, so ``harness.fuzz.bodies`` builds
whole records from them rather than binding one parameter at a time.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.client import CRRClient, CRRTransportError
from harness.contract import Catalogue, downloads
from harness.contract.downloads import DOWNLOADS, EXISTING_CRR_ORIGINS, DownloadError
from harness.contract.portfolios import market_products

# (service, operationId) of the listings names are read from, and the dictionary they feed
LISTINGS: tuple[tuple[str, str, str], ...] = (
    ("market_status", "getActiveAuctionMarkets", "market"),
    ("market_status", "getActiveAllocationMarkets", "market"),
    ("market_status", "getPostedAuctionMarkets", "market"),
    ("market_status", "getPostedAllocationMarkets", "market"),
    ("historical_forecasted_load", "getOpenHistoricalLoadSubmissionWindowList", "load_window"),
    ("historical_forecasted_load", "getOpenForecastLoadSubmissionWindowList", "load_window"),
    ("load_migration", "getActiveLoadMigrationMarketList", "lm_market"),
    ("tor_conversion", "getNewConversionWindowForRequest", "tor_window"),
    ("tor_conversion", "getNewConversionWindowForApproval", "tor_window"),
)
HELD_FIELDS = ("Source", "Sink", "TOU", "HedgeType", "CRRType", "StartDate", "EndDate")
NAME_KEYS = {
    "market": ("marketName", "name"),
    "load_window": ("name", "windowName"),
    "lm_market": ("name", "loadMigrationMarketName", "marketName"),
    "tor_window": ("name", "torConversionWindow", "windowName"),
}

# where each dictionary's values go: schemathesis parameter keys (query/header/body paths)
BINDINGS: dict[str, tuple[str, float]] = {
    "query.participantName": ("participant", 0.9),
    "body.participantName": ("participant", 0.9),
    "body.assetOwner": ("participant", 0.8),
    "body.torHolder": ("participant", 0.8),
    "body.newBids[*].assetOwner": ("participant", 0.8),
    "body.newOffers[*].assetOwner": ("participant", 0.8),
    "body.newNominations[*].assetOwner": ("participant", 0.8),
    "body.[*].assetOwner": ("participant", 0.8),
    "query.marketName": ("market", 0.8),
    "body.marketName": ("market", 0.8),
    "query.portfolioName": ("portfolio", 0.8),
    "body.portfolioName": ("portfolio", 0.8),
    "query.loadSubmissionWindowName": ("load_window", 0.8),
    "body.loadSubmissionWindowName": ("load_window", 0.8),
    "query.loadMigrationMarketName": ("lm_market", 0.8),
    "body.loadMigrationMarket": ("lm_market", 0.8),
    "query.torConversionWindow": ("tor_window", 0.8),
    "body.torConversionWindow": ("tor_window", 0.8),
}


# how often a positive case's name is bound to a live one: a positive case is for the business
# rules; names that match nothing are the negative cases' subject (and stay one positive case in
# twenty, so the refusal of an unknown name is still met on the positive side)
POSITIVE_BINDING = 0.95
# path prefix -> the kind of market its operations act in
SERVICE_MARKETS = (("/auction/", "auction"), ("/nomination/", "allocation"))


@dataclass
class LiveValues:
    participant: str
    run_id: str
    names: dict[str, list[str]] = field(default_factory=dict)  # dictionary -> values, in order found
    products: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # market -> (period, TOU) offered
    nodes: list[str] = field(default_factory=list)  # biddable sources and sinks of the node list
    holdings: list[dict[str, Any]] = field(
        default_factory=list
    )  # the participant's unexpired CRRs (file records)
    counterparties: list[str] = field(default_factory=list)  # other SC IDs holding CRRs on the target
    market_kinds: dict[str, list[str]] = field(default_factory=dict)  # auction | allocation -> market names
    notes: list[str] = field(default_factory=list)

    @property
    def portfolios(self) -> list[str]:
        return [f"crrsim fuzz {self.run_id} {n}" for n in (1, 2, 3)]

    def dictionaries(self) -> dict[str, list[str]]:
        out = {"participant": [self.participant], "portfolio": self.portfolios}
        out.update({k: v for k, v in self.names.items() if v})
        return out

    def summary(self) -> dict[str, list[str]]:
        """What the report lists: the dictionaries, then the values whole records are built from."""
        out = dict(self.dictionaries())
        out.update(
            {
                "biddable nodes": self.nodes,
                "CRRs held (for sell offers)": [
                    f"{h['CRRID']} {h['Source']} to {h['Sink']} {h['TOU']} {h['MW']} MW"
                    for h in self.holdings
                ],
                "counterparties": self.counterparties,
            }
        )
        return {k: v for k, v in out.items() if v}

    def schemathesis_config(self, confined: bool = False) -> dict[str, Any]:
        """The ``dictionaries`` and ``parameters`` tables of a schemathesis config, for the
        dictionaries that have values (a binding to an empty one would be refused). ``confined``
        (writes on a shared environment): every portfolio name is one of the run's own."""
        dictionaries = self.dictionaries()

        def probability(name: str, default: float) -> float:
            return 1.0 if confined and name == "portfolio" else default

        return {
            "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
            "parameters": {
                key: {"dictionary": name, "probability": probability(name, p)}
                for key, (name, p) in BINDINGS.items()
                if name in dictionaries
            },
        }

    def bind(self, case: Any) -> None:
        """The same bindings as ``schemathesis_config``, applied to a positive case's top-level
        query and body fields by name, whatever phase made it: schemathesis' coverage phase
        draws on no dictionary, so its positive cases all stopped at SEC0001 or MKT0001; and a
        contract file with other schema names (CAISO's) binds by the same field names. Each with
        ``POSITIVE_BINDING`` (seeded by the case), so refusal paths stay tested."""
        meta = getattr(case, "meta", None)
        if meta is None or not meta.generation.mode.is_positive:
            return
        rng = random.Random(f"live {case.id}")
        dictionaries = self.dictionaries()
        # the auction service acts in auction markets, the nomination service in allocation ones
        kind = next((k for prefix, k in SERVICE_MARKETS if case.operation.path.startswith(prefix)), None)
        if kind is not None and self.market_kinds.get(kind):
            dictionaries["market"] = self.market_kinds[kind]
        for location, fields in (("query", case.query), ("body", case.body)):
            if not isinstance(fields, dict):
                continue
            for key, value in list(fields.items()):
                name, _ = BINDINGS.get(f"{location}.{key}", ("", 0.0))
                values = dictionaries.get(name)
                if values and value not in values and rng.random() < POSITIVE_BINDING:
                    fields[key] = rng.choice(values)


def _names(items: Any, keys: Iterable[str]) -> list[str]:
    if not isinstance(items, list):
        return []
    found = []
    for item in items:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found += [str(item[k]) for k in keys if isinstance(item.get(k), str)][:1]
    return found


def read_live_values(client: CRRClient, catalogue: Catalogue, participant: str, run_id: str) -> LiveValues:
    """Read the names the target knows (GET listings only); a listing that fails is a note."""
    live = LiveValues(participant, run_id)
    unreachable: CRRTransportError | None = None
    answered = False
    for service, operation_id, dictionary in LISTINGS:
        if service not in catalogue.services:
            continue
        try:
            op = catalogue[service].operation(operation_id)
        except KeyError:
            continue
        try:
            response = client.request("GET", op.path, params={"participantName": participant})
        except CRRTransportError as exc:
            # a target that drops some calls is still fuzzed (that is a finding); one that
            # answers none of these reads cannot be, and says so below
            unreachable = exc
            live.notes.append(f"{service}.{operation_id} got no answer: {exc}")
            continue
        answered = True
        if not response.ok:
            error = response.error()
            code = ",".join(error.codes) if error is not None else ""
            live.notes.append(f"{service}.{operation_id} answered HTTP {response.status} {code}".strip())
            continue
        bucket = live.names.setdefault(dictionary, [])
        try:
            items = response.json()
        except ValueError as exc:
            live.notes.append(str(exc))
            continue
        for name in _names(items, NAME_KEYS[dictionary]):
            if name not in bucket:
                bucket.append(name)
            if (
                dictionary == "market"
            ):  # by kind too: an auction upload to an allocation market stops at MKT0001
                kind = "auction" if "Auction" in operation_id else "allocation"
                live.market_kinds.setdefault(kind, [])
                if name not in live.market_kinds[kind]:
                    live.market_kinds[kind].append(name)
        if dictionary == "market" and isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    live.products[item["name"]] = market_products(item)
    if unreachable is not None and not answered:
        raise unreachable
    _read_market_files(client, catalogue, live)
    return live


def _download(
    client: CRRClient, catalogue: Catalogue, live: LiveValues, kind: str, market: str | None = None
) -> list[dict[str, Any]] | None:
    """The records of one JSON download, or None (with a note) when the target has none to give."""
    spec = DOWNLOADS[kind]
    try:
        op = catalogue[downloads.SERVICE].operation(spec.operation)
    except KeyError:
        return None
    try:
        response = client.request(
            "GET",
            op.path,
            params=spec.params(kind, "JSON", live.participant, market),
            headers={"Accept": op.accept},
        )
    except CRRTransportError as exc:
        live.notes.append(f"the {kind} download got no answer: {exc}")
        return None
    if not response.ok:
        error = response.error()
        codes = ",".join(error.codes) if error is not None else ""
        # no records of that kind is an ordinary answer (DWL0005/DWL0006), not worth a note
        if not {"DWL0005", "DWL0006"} & set(codes.split(",")):
            live.notes.append(f"the {kind} download answered HTTP {response.status} {codes}".strip())
        return None
    try:
        return downloads.records(downloads.unpack(response.body, "JSON", response.content_type)[1], "JSON")
    except (DownloadError, ValueError) as exc:
        live.notes.append(f"the {kind} download could not be read: {exc}")
        return None


def _read_market_files(client: CRRClient, catalogue: Catalogue, live: LiveValues) -> None:
    if downloads.SERVICE not in catalogue.services:
        return
    markets = live.names.get("market", [])
    if markets:
        live.nodes += [
            n
            for n in downloads.biddable_nodes(
                _download(client, catalogue, live, "SOURCE_SINK", markets[0]) or []
            )
            if n not in live.nodes
        ]
    for origin in EXISTING_CRR_ORIGINS:
        live.holdings += [
            r
            for r in _download(client, catalogue, live, f"PRIVATE_EXISTING_CRR_{origin}") or []
            if _held(r, live.participant)
        ]
    # the target's clock is not ours (a sandbox may run in its plan's month): the latest-ending
    # CRRs first, and an expired one simply meets the target's own refusal
    live.holdings.sort(key=lambda r: str(r["EndDate"]), reverse=True)
    for record in _download(client, catalogue, live, "PUBLIC_EXISTING_CRR") or []:
        owner = record.get("AssetOwner")
        if isinstance(owner, str) and owner != live.participant and owner not in live.counterparties:
            live.counterparties.append(owner)


def _held(record: dict[str, Any], participant: str) -> bool:
    """A CRR record a sell offer can name: the participant's, with MW left, with its term."""
    try:
        return (
            record.get("AssetOwner") in (participant, None)
            and int(record["CRRID"]) > 0
            and float(record["MW"]) > 0
            and all(isinstance(record.get(k), str) for k in HELD_FIELDS)
        )
    except (KeyError, TypeError, ValueError):
        return False
