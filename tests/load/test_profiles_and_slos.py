"""Profiles and SLOs as data (harness.load): parsed with a sentence for every mistake, scaled
without losing their shape, judged on exact histograms."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.load.hdr import Recording
from harness.load.profiles import ArrivalSchedule, ProfileError, builtin_profiles, load_profile, parse_profile
from harness.load.slo import SLOError, evaluate, parse_slos


def test_the_four_profiles_ship_and_scale_keeping_their_shape() -> None:
    assert builtin_profiles() == ("ramp", "soak", "steady", "window-close")
    ramp = load_profile("ramp").scaled(users=80, run_time=60)
    assert [s.users for s in ramp.stages] == [10, 20, 40, 80] and ramp.duration == pytest.approx(60)
    close = load_profile("window-close").scaled(arrival_rate=40, users=50)
    assert [s.rate for s in close.stages] == [4.0, 40.0] and close.pool == 50 and close.model == "arrival"


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            {"model": "open", "stages": [{"duration": 1, "users": 1}], "mix": {"app_status": 1}},
            "model must be one of",
        ),
        ({"stages": [], "mix": {"app_status": 1}}, "at least one stage"),
        ({"stages": [{"duration": 5}], "mix": {"app_status": 1}}, "needs users"),
        (
            {"model": "arrival", "stages": [{"duration": 5, "users": 3}], "mix": {"app_status": 1}},
            "needs a rate above 0",
        ),
        (
            {"stages": [{"duration": 5, "users": 1}], "mix": {"trade_futures": 1}},
            "unknown tasks in mix: trade_futures",
        ),
        (
            {
                "stages": [{"duration": 5, "users": 1}],
                "mix": {"app_status": 1},
                "portfolio": {"bids": [1, 501]},
            },
            "between 1 and 500",
        ),
        (
            {
                "stages": [{"duration": 5, "users": 1}],
                "mix": {"app_status": 1},
                "portfolio": {"points": [1, 5]},
            },
            "between 2 and 20",
        ),
    ],
)
def test_a_wrong_profile_is_refused_in_a_sentence(data: dict, said: str) -> None:
    with pytest.raises(ProfileError, match=said):
        parse_profile(data, "mine", "mine.yaml")


def test_arrivals_are_shared_between_processes_and_keep_the_rate() -> None:
    stages = (
        load_profile("window-close").scaled(arrival_rate=20, run_time=9).stages
    )  # 2/s for 3 s, 20/s for 6 s
    alone = ArrivalSchedule(stages)
    times = []
    while (due := alone.next_due()) is not None:
        times.append(due)
    assert len(times) == round(alone.expected(9)) == 126 and times == sorted(times)
    halves = [ArrivalSchedule(stages, index=i, processes=2) for i in (0, 1)]
    shared = sorted(t for s in halves for t in iter(s.next_due, None))
    assert shared == pytest.approx(times)  # two processes send exactly what one would


def test_slos_judge_exact_histograms_and_need_enough_samples() -> None:
    slos = parse_slos(
        {
            "slos": [
                {"name": "fast", "operation": "market_status.*", "p99_ms": 50, "min_samples": 10},
                {"name": "rare", "operation": "auction.*", "max_ms": 1000, "min_samples": 5},
                {"operation": "*", "error_rate": 0.1, "min_rps": 1},
            ]
        },
        "slo.yaml",
    )
    recording = Recording()
    for n in range(100):
        recording.add("market_status.getMarketStatus", 0, (n + 1) / 1000)  # 1 .. 100 ms
    recording.add("auction.portfolioCreation", 0, 0.2, error="HTTP 400 MKT0004")
    fast, rare, everything = evaluate(slos, Recording.from_wire(recording.to_wire()), duration_s=10)
    assert not fast.ok and fast.breaches == ["p99 latency 99 ms, above the limit of 50 ms"]
    assert not rare.ok and "1 sample of auction.*, fewer than the 5 needed" in rare.breaches[0]
    assert everything.ok and everything.measured["min_rps"] == pytest.approx(10.1)
    # issue 19 item 15: a met SLO reads as sentences too, with units and grouped thousands
    assert everything.sentences() == [
        "error rate 0.99%, limit 10.00%",
        "throughput 10.1 req/s, limit 1.0 req/s",
    ]
    slow = parse_slos({"slos": [{"operation": "*", "p95_ms": 2000}]}, "s.yaml")
    late = Recording()
    for _ in range(20):
        late.add("auction.portfolioCreation", 0, 2.078)
    assert evaluate(slow, late, duration_s=10)[0].breaches == [
        "p95 latency 2,079 ms, above the limit of 2,000 ms"
    ]  # HDR bucket


def test_a_wrong_slo_file_is_refused_in_a_sentence() -> None:
    with pytest.raises(SLOError, match="unknown keys p90_ms"):
        parse_slos({"slos": [{"operation": "*", "p90_ms": 5}]}, "slo.yaml")
    with pytest.raises(SLOError, match="sets no limit"):
        parse_slos({"slos": [{"operation": "*"}]}, "slo.yaml")


def test_a_profile_file_that_is_not_yaml_is_named_in_the_error(tmp_path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text("stages: [\n  - {duration: 5")
    with pytest.raises(ProfileError, match=r"mine\.yaml: not valid YAML"):
        load_profile(str(bad))


def test_the_readmes_slo_and_profile_paths_work_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19 item 20: `--slo load/slo/default.yaml` (the README's spelling) failed after a pip
    install, from any folder but a source checkout; a missing file now says where the shipped
    ones are and how to copy one."""
    from harness.load.profiles import load_profile, profiles_dir
    from harness.load.slo import SLOError, load_slos, slo_dir

    monkeypatch.chdir(tmp_path)
    assert load_slos(Path("load/slo/default.yaml")) == load_slos(slo_dir() / "default.yaml")
    assert load_profile("load/profiles/ramp.yaml").name == "ramp"
    with pytest.raises(SLOError) as missing:
        load_slos(Path("my-slo.yaml"))
    said = str(missing.value)
    assert (
        f"The SLO files crrsim ships are in {slo_dir()}" in said
        and f"cp {slo_dir() / 'default.yaml'}" in said
    )
    assert profiles_dir().is_dir()
