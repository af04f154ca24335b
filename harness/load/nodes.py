"""Where the virtual users' bids and buy offers flow: source and sink pairs of the market's own
node list, so a load test against Map-Stage submits portfolios the market accepts instead of
measuring how fast it refuses unknown nodes. Plain values, no locust: the locustfile asks here.
"""

from __future__ import annotations

import random

# trading hubs and load zones every CAISO network model has: the pairs a desk bids most, and the
# fallback when the node list cannot be read
HUB_PAIRS: tuple[tuple[str, str], ...] = (
    ("TH_NP15_GEN-APND", "DLAP_PGAE-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SCE-APND"),
    ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SDGE-APND"),
)
SAMPLED_PAIRS = 20  # pairs drawn from a node list that has none of the hubs


def node_pairs(nodes: list[str], seed: int = 7) -> tuple[list[tuple[str, str]], str]:
    """(pairs to bid on, where they came from in words) for a market whose biddable nodes are
    ``nodes`` (empty: the list could not be read)."""
    if not nodes:
        return list(HUB_PAIRS), "the trading-hub pairs (the market's node list could not be read)"
    listed = set(nodes)
    hubs = [p for p in HUB_PAIRS if p[0] in listed and p[1] in listed]
    if hubs:
        return hubs, f"{len(hubs)} trading-hub pairs of the market's node list ({len(nodes)} biddable nodes)"
    if len(nodes) < 2:
        return list(HUB_PAIRS), f"the trading-hub pairs (the node list has {len(nodes)} biddable node)"
    rng = random.Random(seed)
    pairs = [(a, b) for a, b in (rng.sample(nodes, 2) for _ in range(SAMPLED_PAIRS))]
    return pairs, f"{len(pairs)} pairs drawn from the market's node list ({len(nodes)} biddable nodes)"
