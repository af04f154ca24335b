"""Every table of the sandbox, in one explicit list, and the version of that list.

The store creates exactly these (``CREATE ... IF NOT EXISTS``) at start-up; nothing registers
tables by being imported. A database file records ``SCHEMA_VERSION`` in ``PRAGMA user_version``:
one written by another version of this list is refused with a sentence saying how to start
afresh (the sandbox holds rehearsal data, never a system of record, so starting afresh is the
migration). Bump ``SCHEMA_VERSION`` whenever a statement below changes.
"""

from __future__ import annotations

SCHEMA_VERSION = 3

TABLES: tuple[str, ...] = (
    # id sequences (store)
    "CREATE TABLE IF NOT EXISTS id_sequences (kind TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    # the simulated clock (domain.clock)
    (
        "CREATE TABLE IF NOT EXISTS sim_clock ("
        " id INTEGER PRIMARY KEY CHECK (id = 1),"
        " sim_epoch REAL NOT NULL,"  # simulated instant (POSIX seconds) at real_epoch
        " real_epoch REAL NOT NULL,"
        " running INTEGER NOT NULL DEFAULT 0)"
    ),
    # markets and their windows (domain.markets)
    (
        "CREATE TABLE IF NOT EXISTS markets ("
        " name TEXT PRIMARY KEY,"
        " market_type TEXT NOT NULL,"
        " term TEXT NOT NULL,"
        " periods TEXT NOT NULL,"  # JSON [[name, startISO, endISO], ...]
        " tous TEXT NOT NULL,"  # JSON ["ON", "OFF"]
        " open_date TEXT NOT NULL,"
        " close_date TEXT NOT NULL,"
        " data_publish_date TEXT NOT NULL,"
        " tier INTEGER,"
        " status_override TEXT,"
        " posted_at TEXT)"
    ),
    # participants' credit limits (domain.participants)
    "CREATE TABLE IF NOT EXISTS participants ( sc_id TEXT PRIMARY KEY, credit_limit REAL NOT NULL)",
    # CRR holdings (domain.holdings)
    (
        "CREATE TABLE IF NOT EXISTS crr_holdings ("
        " crr_id INTEGER PRIMARY KEY,"
        " owner TEXT NOT NULL,"
        " source TEXT NOT NULL,"
        " sink TEXT NOT NULL,"
        " mw_milli INTEGER NOT NULL,"
        " hedge_type TEXT NOT NULL,"
        " tou TEXT NOT NULL,"
        " period TEXT NOT NULL,"
        " crr_type TEXT NOT NULL,"
        " market TEXT NOT NULL,"
        " start_date TEXT NOT NULL,"
        " end_date TEXT NOT NULL,"
        " parent_id INTEGER)"
    ),
    "CREATE INDEX IF NOT EXISTS crr_holdings_owner ON crr_holdings(owner)",
    # auction and nomination portfolios (domain.portfolios)
    (
        "CREATE TABLE IF NOT EXISTS crr_portfolios ("
        " portfolio_id INTEGER PRIMARY KEY,"
        " service TEXT NOT NULL,"  # auction | nomination
        " market TEXT NOT NULL,"
        " participant TEXT NOT NULL,"
        " name TEXT NOT NULL,"
        " status TEXT NOT NULL,"
        " error_message TEXT,"
        " required_credit_cents INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL,"
        " updated_at TEXT NOT NULL,"
        " UNIQUE (service, market, participant, name))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS crr_portfolio_recordsets ("
        " portfolio_id INTEGER PRIMARY KEY REFERENCES crr_portfolios(portfolio_id) ON DELETE CASCADE,"
        # one compact JSON document (domain.portfolios._records_text): what the checks read,
        # and what a GET renders the contract's Portfolio object from
        " records TEXT NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS edit_leases ("  # cross-worker edit locks (EditLocks)
        " lease TEXT PRIMARY KEY,"
        " holder TEXT NOT NULL,"
        " expires REAL NOT NULL)"
    ),
    # clearing results (domain.clearing)
    (
        "CREATE TABLE IF NOT EXISTS clearing_awards ("
        " award_id INTEGER PRIMARY KEY,"
        " market TEXT NOT NULL, record_id INTEGER NOT NULL, portfolio_id INTEGER NOT NULL,"
        " participant TEXT NOT NULL, side TEXT NOT NULL,"
        " source TEXT NOT NULL, sink TEXT NOT NULL, hedge_type TEXT NOT NULL, tou TEXT NOT NULL,"
        " period TEXT NOT NULL, crr_type TEXT NOT NULL,"
        " mw_milli INTEGER NOT NULL, price_cents INTEGER NOT NULL, crr_ids TEXT NOT NULL, cleared_at TEXT NOT NULL)"
    ),
    "CREATE INDEX IF NOT EXISTS clearing_awards_market ON clearing_awards(market, participant)",
    (
        "CREATE TABLE IF NOT EXISTS clearing_prices ("
        " market TEXT NOT NULL, source TEXT NOT NULL, sink TEXT NOT NULL, tou TEXT NOT NULL,"
        " period TEXT NOT NULL, hedge_type TEXT NOT NULL,"
        " price_cents INTEGER NOT NULL, cleared_milli INTEGER NOT NULL,"
        " PRIMARY KEY (market, source, sink, tou, period, hedge_type))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS clearing_nodes ("
        " market TEXT NOT NULL, node TEXT NOT NULL, tou TEXT NOT NULL, period TEXT NOT NULL,"
        " price_e4 INTEGER NOT NULL, PRIMARY KEY (market, node, tou, period))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS clearing_constraints ("
        " market TEXT NOT NULL, branch TEXT NOT NULL, tou TEXT NOT NULL, period TEXT NOT NULL,"
        " shadow_cents INTEGER NOT NULL, flow_milli INTEGER NOT NULL, limit_milli INTEGER NOT NULL,"
        " PRIMARY KEY (market, branch, tou, period))"
    ),
    "CREATE TABLE IF NOT EXISTS clearing_runs (market TEXT PRIMARY KEY, cleared_at TEXT NOT NULL)",
    # source/sink list releases (domain.node_list)
    (
        "CREATE TABLE IF NOT EXISTS node_list_changes ("
        " market TEXT NOT NULL, version INTEGER NOT NULL, node TEXT NOT NULL,"
        " change TEXT NOT NULL, replacement TEXT, released_at TEXT NOT NULL, effective TEXT NOT NULL,"
        " PRIMARY KEY (market, version, node))"
    ),
    # nomination caps
    (
        "CREATE TABLE IF NOT EXISTS nomination_caps ("
        " market TEXT NOT NULL,"
        " participant TEXT NOT NULL,"
        " sink TEXT NOT NULL,"
        " tou TEXT NOT NULL,"
        " period TEXT NOT NULL,"
        " crr_type TEXT NOT NULL,"
        " cap_milli INTEGER NOT NULL,"
        " PRIMARY KEY (market, participant, sink, tou, period, crr_type))"
    ),
    # historical and forecast load
    (
        "CREATE TABLE IF NOT EXISTS hfl_windows ("
        " name TEXT PRIMARY KEY,"
        " flag TEXT NOT NULL,"  # H | F
        " term TEXT NOT NULL,"  # MONTHLY | ANNUAL
        " open_date TEXT NOT NULL,"
        " close_date TEXT NOT NULL,"
        " periods TEXT NOT NULL,"  # JSON [[name, startISO, endISO], ...]
        " reference_window TEXT,"  # forecast windows: the historical window their limits come from
        " status_override TEXT)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS hfl_submissions ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " window TEXT NOT NULL, period TEXT NOT NULL, owner TEXT NOT NULL,"
        " status TEXT NOT NULL, submitted_at TEXT NOT NULL, error_messages TEXT,"
        " records TEXT NOT NULL,"  # JSON [[sink, effectiveISO, he, dataType, mw_milli, tou], ...]
        " UNIQUE(window, period, owner))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS hfl_reference ("
        " owner TEXT NOT NULL, period TEXT NOT NULL, sink TEXT NOT NULL, tou TEXT NOT NULL,"
        " max_milli INTEGER NOT NULL, exceedance_milli INTEGER NOT NULL, calculated_at TEXT NOT NULL,"
        " PRIMARY KEY(owner, period, sink, tou))"
    ),
    # load migration
    (
        "CREATE TABLE IF NOT EXISTS lm_markets ("
        " name TEXT PRIMARY KEY, effective_date TEXT NOT NULL, open_date TEXT NOT NULL, close_date TEXT NOT NULL,"
        " nhour_posting TEXT NOT NULL, nhour_post_date TEXT, status_override TEXT, posted_at TEXT)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS lm_customers (market TEXT, udc TEXT, lse TEXT, class TEXT, num INTEGER,"
        " last_modified TEXT, PRIMARY KEY(market, udc, lse, class))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS lm_dasr (market TEXT, udc TEXT, record_id TEXT, class TEXT, from_lse TEXT,"
        " to_lse TEXT, num INTEGER, last_modified TEXT, PRIMARY KEY(market, udc, record_id))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS lm_rates (market TEXT, udc TEXT, class TEXT, tou TEXT, season INTEGER,"
        " year INTEGER, kw_milli INTEGER, upload_date TEXT, last_modified TEXT,"
        " PRIMARY KEY(market, udc, class, tou, season))"
    ),
    (
        "CREATE TABLE IF NOT EXISTS lm_nhour (market TEXT, dlap TEXT, season INTEGER, tou TEXT,"
        " effective_date TEXT, he INTEGER, last_modified TEXT)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS lm_percentages (id INTEGER PRIMARY KEY, market TEXT, udc TEXT,"
        " from_lse TEXT, to_lse TEXT, from_ao TEXT, to_ao TEXT, season INTEGER, tou TEXT, pct REAL, mw REAL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS lm_crrs (market TEXT, crr_id INTEGER, parent_id INTEGER, owner TEXT,"
        " source TEXT, sink TEXT, tou TEXT, start_date TEXT, end_date TEXT, crr_type TEXT, initial_mw REAL,"
        " PRIMARY KEY(market, crr_id))"
    ),
    # TOR conversion
    (
        "CREATE TABLE IF NOT EXISTS tor_windows (name TEXT PRIMARY KEY, period TEXT NOT NULL, period_start TEXT,"
        " period_end TEXT, sub_open TEXT, sub_close TEXT, appr_open TEXT, appr_close TEXT, status_override TEXT,"
        " posted_at TEXT)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS tor_paths (id INTEGER PRIMARY KEY AUTOINCREMENT, window TEXT, holder TEXT,"
        " source TEXT, sink TEXT, start_date TEXT, end_date TEXT, max_milli INTEGER)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS tor_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, window TEXT, holder TEXT,"
        " source TEXT, sink TEXT, start_date TEXT, end_date TEXT, mw_milli INTEGER, transferee TEXT, modeled TEXT,"
        " status TEXT, message TEXT, path_id INTEGER)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS tor_approvals (id INTEGER PRIMARY KEY AUTOINCREMENT, request_id INTEGER,"
        " window TEXT, transferee TEXT, source TEXT, sink TEXT, tou TEXT, hedge TEXT, mw_milli INTEGER,"
        " status TEXT, crr_id INTEGER)"
    ),
    # secondary market offers
    (
        "CREATE TABLE IF NOT EXISTS sm_offers (request_id INTEGER PRIMARY KEY, owner TEXT NOT NULL,"
        " offer_type TEXT NOT NULL, post_type TEXT NOT NULL, crr_id INTEGER, source TEXT, sink TEXT, tou TEXT,"
        " hedge TEXT, crr_type TEXT, start_date TEXT, end_date TEXT, mw_milli INTEGER, price_cents INTEGER,"
        " target TEXT, contact TEXT, status TEXT NOT NULL, message TEXT, created_at TEXT)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS sm_responses (response_id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL,"
        " responder TEXT NOT NULL, crr_id INTEGER, status TEXT NOT NULL, message TEXT, new_crr_id INTEGER,"
        " created_at TEXT)"
    ),
    # messages
    (
        "CREATE TABLE IF NOT EXISTS msg_messages ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " sent_time TEXT NOT NULL,"  # contract spelling, sorts chronologically
        " sender TEXT,"
        " recipient TEXT,"  # NULL = public
        " text TEXT NOT NULL,"
        " attachment_name TEXT,"
        " attachment TEXT,"
        " event_key TEXT UNIQUE)"  # calendar notices: one per (object, transition)
    ),
    "CREATE INDEX IF NOT EXISTS msg_messages_time ON msg_messages(recipient, sent_time)",
)
