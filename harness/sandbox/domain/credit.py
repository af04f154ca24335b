"""Credit the sandbox requires before it accepts an auction portfolio.

The formula (deterministic, documented for participants and QA):

    required credit of a portfolio = sum over its BUY bids of  max_i( mw_i x max(price_i, 0) )

rounded *up* to the cent; sell offers need no credit.

Why this one: CRR auction prices are $/MW for the whole product term (not per hour), bid
curves are step functions with price non-increasing in MW, and the sandbox clears at one
uniform price per path (see ``clearing``). A bid awarded ``q`` MW at clearing price ``p`` pays
``q x p``, and ``p`` never exceeds the curve's price at ``q``, so ``max_i(mw_i x price_i)`` is the
most that bid can ever cost: the credit covers the worst case exactly, with no arbitrary
margin. Negative prices (counter-flow bids that get paid) can only lower the charge, so they
count as zero rather than as collateral.

A participant's exposure in a market is the sum over its SUBMITTED portfolios; a submission
that would take it above the participant's credit limit (Market Sim gives every participant
$10,000,000, ``participants.credit_limit``) is refused with SER0030; the portfolio is VALID
again at once (both contracts describe REJECTED as passing straight back to VALID), its errorMessage
saying why, so it can be submitted again once credit is freed (e.g. by retracting another).

Units: MW in integer thousandths ("milli"), prices in integer cents, credit in integer
hundred-thousandths of a dollar (milli-MW x cents) until the final rounding, so the sum of
500 bids x 20 points is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Curve = Sequence[tuple[int, int]]  # ((mw_milli, price_cents), ...)

_SCALE = 1000 * 100  # milli-MW x cents -> dollars
_PER_CENT = 1000  # milli-MW x cents per cent


def bid_exposure(curve: Curve) -> int:
    """Worst-case charge of one buy bid, in milli-MW x cents."""
    return max((mw * price for mw, price in curve if price > 0), default=0)


def exposure_to_cents(exposure: int) -> int:
    """Round an exposure up to whole cents (the contract's requiredCredit has 2 decimals)."""
    return -(-exposure // _PER_CENT)


def required_credit_cents(buy_curves: Iterable[Curve]) -> int:
    """Required credit of a portfolio's buy bids, in cents (rounded up once, at the end)."""
    return counted_credit_cents((curve, 1) for curve in buy_curves)


def counted_credit_cents(buy_curves: Iterable[tuple[Curve, int]]) -> int:
    """``required_credit_cents`` of curves given with the number of bids that bid each: a big
    portfolio's bids share a few curves, and each is evaluated once."""
    return exposure_to_cents(sum(bid_exposure(curve) * bids for curve, bids in buy_curves))


def cents_to_dollars(cents: int) -> float:
    """Cents as the JSON number the contract wants (``multipleOf: 0.01``)."""
    return round(cents / 100, 2)


def over_limit(existing_cents: int, portfolio_cents: int, limit_dollars: float) -> bool:
    """True when submitting would take the participant's exposure above its limit."""
    return existing_cents + portfolio_cents > round(limit_dollars * 100)
