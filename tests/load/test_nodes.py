"""What the virtual users bid on: the market's own nodes (plain values; the locustfile asks here)."""

from __future__ import annotations

from harness.contract.downloads import biddable_nodes
from harness.load.nodes import HUB_PAIRS, SAMPLED_PAIRS, node_pairs


def test_the_hub_pairs_the_node_list_holds_are_used_and_said() -> None:
    nodes = ["TH_NP15_GEN-APND", "DLAP_PGAE-APND", "TH_SP15_GEN-APND", "SOME_GEN-APND"]
    pairs, said = node_pairs(nodes)
    assert pairs == [("TH_NP15_GEN-APND", "DLAP_PGAE-APND"), ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND")]
    assert said == "2 trading-hub pairs of the market's node list (4 biddable nodes)"


def test_a_node_list_without_the_hubs_gives_pairs_of_its_own_nodes_seeded() -> None:
    nodes = [f"N{i:03d}_GEN-APND" for i in range(50)]
    pairs, said = node_pairs(nodes)
    assert len(pairs) == SAMPLED_PAIRS and all(a in nodes and b in nodes and a != b for a, b in pairs)
    assert pairs == node_pairs(nodes)[0]  # the same run, the same pairs
    assert said.startswith(f"{SAMPLED_PAIRS} pairs drawn from the market's node list (50 biddable nodes)")


def test_an_unreadable_or_tiny_node_list_falls_back_to_the_hubs_and_says_why() -> None:
    assert node_pairs([]) == (
        list(HUB_PAIRS),
        "the trading-hub pairs (the market's node list could not be read)",
    )
    assert node_pairs(["ONLY_ONE"])[0] == list(HUB_PAIRS)


def test_only_biddable_rows_of_the_node_list_count_each_once() -> None:
    rows = [
        {"SourceSink": "A", "BiddableFlag": "Yes"},
        {"SourceSink": "B", "BiddableFlag": "No"},
        {"SourceSink": "A", "BiddableFlag": "Y"},
        {"SourceSink": "C"},
        {"BiddableFlag": "Yes"},
    ]
    assert biddable_nodes(rows) == ["A", "C"]
