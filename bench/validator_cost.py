"""What the sandbox's request validation costs on its largest bodies, for a before/after of a
change to ``harness/sandbox/web/validation.py`` or ``jsoncodec.py``.

    .venv/bin/python bench/validator_cost.py [TREE ...]

Each TREE (default: this checkout) is a source tree whose ``harness`` is measured in a process
of its own: a max-size auction portfolio (500 bids x 20 points, ~370 KB, valid) and a batch of
60 secondary-market offers (invalid: every error listed). Figures: best of 40 runs, in ms.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MEASURE = r"""
import json, sys, time
from harness.contract import load_catalogue
from harness.sandbox.web.validation import OperationValidator
cat = load_catalogue(None)
def validator(service, op_id):
    svc = next(s for s in cat if s.name == service)
    op = next(o for o in svc.operations if o.operation_id == op_id)
    return OperationValidator(op, svc.error_codes)
pts = [{"mw": round(i * 2.5, 3), "price": round(100 - i * 2.25, 2)} for i in range(20)]
bids = [{"assetOwner": "ECAL", "source": "TH_NP15_GEN-APND", "sink": "DLAP_PGAE-APND", "hedgeType": "OBL",
         "tou": "ON", "period": "2026_M03", "crrType": "AUC", "bidCurve": pts} for _ in range(500)]
portfolio = json.dumps({"portfolioName": "big", "marketName": "AUC_MN_2026_M03", "participantName": "ECAL",
                        "newBids": bids, "newOffers": []}).encode()
offers = json.dumps([{"crrId": i, "mw": 5, "price": 1.5, "startDate": "2026-03-01T08:00:00Z",
                      "endDate": "2026-04-01T07:00:00Z"} for i in range(60)]).encode()
for label, v, body in (("max-size portfolio", validator("auction", "portfolioCreation"), portfolio),
                       ("60 invalid offers", validator("secondary_market", "postPublicSmSellOffers"), offers)):
    v.body(body)
    best = 1e9
    for _ in range(40):
        t = time.perf_counter(); v.body(body); best = min(best, time.perf_counter() - t)
    print(f"  {label:20} {best * 1000:6.2f} ms")
"""


def main() -> None:
    trees = [Path(t).resolve() for t in sys.argv[1:]] or [Path(__file__).resolve().parents[1]]
    for tree in trees:
        print(tree)
        subprocess.run([sys.executable, "-c", MEASURE], cwd=tree, check=True)


if __name__ == "__main__":
    main()
