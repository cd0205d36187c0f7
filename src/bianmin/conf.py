"""Every setting of the platform, in one table: its name, default, where it is read and what it means.

Two kinds:
- ``ENV``: read from the process environment only (by settings.py for Django's own settings, or by
  a command). Deployment says them: the database, the secret key, hosts, TLS, the data folder.
- ``SETTING``: a Django setting the apps read as ``settings.<NAME>`` (never with a default of their
  own: the default is here). settings.py gives each its default, or the environment variable of
  the same name when set (parsed as the table says), so a deployment can change any of them
  without editing code; tests override them with ``settings``/``override_settings``.

tests/test_settings_table.py fails when the code reads a ``BIANMIN_*`` name (or an environment
variable) that this table does not list, when a row is read nowhere, and when docs/SETTINGS.md
differs from ``render()`` (regenerate it with ``uv run python -m bianmin.conf > docs/SETTINGS.md``).
An app adding a setting adds its row here, in its own line.

This module imports nothing from Django or the apps: settings.py imports it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ENV = "environment"
SETTING = "setting"


def _int(raw: str) -> int:
    return int(raw.strip())


def _float(raw: str) -> float:
    return float(raw.strip())


def _str(raw: str) -> str:
    return raw.strip()


def _pair(raw: str) -> tuple[int, int]:
    """"10,3600" (or "10/3600"): a count and a period in seconds."""
    first, second = raw.replace("/", ",").split(",")
    return int(first), int(second)


def _ints(raw: str) -> tuple[int, ...]:
    return tuple(int(x) for x in raw.replace("，", ",").replace("、", ",").split(",") if x.strip())


def _words(raw: str) -> tuple[str, ...]:
    """A list written with commas or 、."""
    return tuple(p.strip() for p in raw.replace("、", ",").split(",") if p.strip())


def _weights(raw: str) -> dict[str, int]:
    """"inspection=40,satisfaction=30": parts and their weights."""
    pairs = (p.split("=", 1) for p in raw.replace("、", ",").split(",") if "=" in p)
    return {key.strip(): int(value) for key, value in pairs}


def _json(raw: str) -> Any:
    import json

    return json.loads(raw)


def _flag(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # ENV or SETTING
    default: Any  # the value when unset (for ENV rows: as documentation, settings.py applies it)
    meaning: str
    parse: Callable[[str], Any] | None = _str  # how the environment's text becomes the value; None: not from it


TABLE: list[Setting] = [
    # --- deployment (environment) ---------------------------------------------------------------
    Setting("DATABASE_URL", ENV, "sqlite:///<BIANMIN_VAR>/bianmin.sqlite3",
            "The database; `postgres://user:password@host:5432/bianmin` for PostgreSQL."),
    Setting("SECRET_KEY", ENV, "generated once into <BIANMIN_VAR>/secret_key",
            "Django's secret key; set it explicitly in production."),
    Setting("ALLOWED_HOSTS", ENV, "127.0.0.1,localhost,[::1],testserver", "Host names served, comma-separated."),
    Setting("CSRF_TRUSTED_ORIGINS", ENV, "", "Origins trusted for CSRF behind a proxy, comma-separated."),
    Setting("REDIS_URL", ENV, "", "A shared Redis cache (rate limits) when several app servers run."),
    Setting("BIANMIN_VAR", ENV, "./var", "Folder for the SQLite file, uploads, outbox files, exports and the secret key."),
    Setting("BIANMIN_DEBUG", ENV, False, "`1` for development (Django's DEBUG).", _flag),
    Setting("BIANMIN_HTTPS", ENV, False, "`1` behind TLS: secure cookies, HSTS, HTTPS redirect.", _flag),
    Setting("BIANMIN_LOG_LEVEL", ENV, "INFO (bianmin) / WARNING (others)", "Log level."),
    Setting("BIANMIN_MAX_BODY_BYTES", ENV, 2 * 1024 * 1024,
            "Largest request body kept in memory (Django's DATA_UPLOAD_MAX_MEMORY_SIZE).", _int),
    Setting("BIANMIN_PAGE_CACHE_ENTRIES", ENV, 3000,
            "Public pages each app process keeps in its in-memory page cache (gzip-compressed, about 6 KB each).", _int),
    Setting("BIANMIN_TASKS_BACKEND", ENV, "django_tasks_db.DatabaseBackend", "The django-tasks backend."),
    Setting("BIANMIN_SMS_GATEWAY", ENV, "bianmin.core.gateways.FileGateway",
            "Class delivering SMS (into BIANMIN_GATEWAYS['sms']); `bianmin.core.gateways.HttpSmsGateway` for a real one."),
    Setting("BIANMIN_NOTIFY_GATEWAY", ENV, "bianmin.core.gateways.FileGateway",
            "Class delivering staff notifications (into BIANMIN_GATEWAYS['notify'])."),
    Setting("BIANMIN_EMAIL_GATEWAY", ENV, "bianmin.core.gateways.FileGateway",
            "Class delivering e-mail (into BIANMIN_GATEWAYS['email']); `bianmin.core.gateways.MailGateway` "
            "sends through Django's EMAIL_* settings."),
    Setting("BIANMIN_PG_BIN", ENV, "Debian's newest PostgreSQL bin folder",
            "Folder of pg_dump/pg_restore for `bianmin backup` and `restore`."),
    Setting("BIANMIN_IMAP_PASSWORD", ENV, "",
            "IMAP password for `bianmin manage appeals_fetch_mail` (the variable's name can be changed with --imap-password-env)."),
    Setting("BIANMIN_UP_WORKER", ENV, "1", "Set by `bianmin up`: `0` (--no-worker) leaves the task worker out."),
    Setting("BIANMIN_WARM_SEARCH", ENV, "", "Set by `bianmin up`: warm the search dictionaries before forking."),

    # --- accounts (等保) -------------------------------------------------------------------------
    Setting("BIANMIN_LOCKOUT_ATTEMPTS", SETTING, 5, "Failed log-ins in a row that lock an account.", _int),
    Setting("BIANMIN_LOCKOUT_MINUTES", SETTING, 30, "How long a locked account stays locked.", _int),
    Setting("BIANMIN_LOGIN_FAILURES_PER_ADDRESS", SETTING, 20,
            "Failed log-ins (any names) from one address within the lockout window before the address is refused outright.",
            _int),
    Setting("BIANMIN_LOGIN_UNKNOWN_AUDIT_PER_ADDRESS", SETTING, 10,
            "Audit rows about log-ins with names that are no account, per address within the lockout window.", _int),
    Setting("BIANMIN_IDLE_TIMEOUT_MINUTES", SETTING, 30, "Staff are logged out after this long without a request.", _int),
    Setting("BIANMIN_PASSWORD_MAX_AGE_DAYS", SETTING, 90, "A password older than this must be changed.", _int),

    # --- links, gateways and outside systems -----------------------------------------------------
    Setting("BIANMIN_TRUSTED_PROXIES", SETTING, (),
            "Addresses or networks of the reverse proxies in front of the platform (`10.0.0.5,10.1.0.0/24`): their "
            "`X-Forwarded-For` names the client for rate limits and the audit log; empty when clients connect directly.",
            _words),
    Setting("BIANMIN_PUBLIC_BASE_URL", SETTING, "http://127.0.0.1:8000",
            "The address citizens reach the platform at, for links in SMS, slips and QR codes; "
            "`bianmin up` sets it to the address it serves on when unset."),
    Setting("BIANMIN_IMPORT_LIMITS", SETTING, {},
            "Per bulk import kind (`appeals.12345`, `catalog`, `policies`), limits that replace core/imports.py's defaults: "
            "any of max_bytes, max_rows, max_blank_rows, max_seconds; JSON in the environment, "
            'e.g. `{"catalog": {"max_rows": 50000}}`.', _json),
    Setting("BIANMIN_OUTSIDE_SYSTEM_KEY_LEVEL", SETTING, "city",
            "The level that owns the connections to outside systems (provincial 好差评, 12345, Open311, the provincial "
            "hall's intake): only key managers at this level or above grant those scopes (`city`, `district`, …)."),
    Setting("BIANMIN_GATEWAYS", SETTING, "{'sms': BIANMIN_SMS_GATEWAY, 'notify': BIANMIN_NOTIFY_GATEWAY}",
            "Outbox channel → gateway class (a dotted path); e.g. 'provincial_eval' for the provincial 好差评 system.",
            None),
    Setting("BIANMIN_SMS_HTTP_URL", SETTING, "", "The HTTP SMS gateway's address."),
    Setting("BIANMIN_SMS_HTTP_TOKEN", SETTING, "", "The HTTP SMS gateway's bearer token."),
    Setting("BIANMIN_SMS_HTTP_TIMEOUT", SETTING, 10.0, "Seconds an SMS gateway request may take.", _float),
    Setting("BIANMIN_PROVINCIAL_EVAL_URL", SETTING, "", "The provincial 好差评 system's reporting address."),
    Setting("BIANMIN_PROVINCIAL_EVAL_TOKEN", SETTING, "", "The provincial 好差评 system's token."),
    Setting("BIANMIN_EMAIL_DOMAIN", SETTING, "bianmin.local", "The domain of the Message-ID of e-mail the platform sends."),
    Setting("BIANMIN_OPEN311_JURISDICTION", SETTING, "bianmin", "The Open311 GeoReport jurisdiction id."),
    Setting("BIANMIN_OUTBOX_MAX_ATTEMPTS", SETTING, 10, "Delivery attempts of an outbox message before it fails.", _int),
    Setting("BIANMIN_OUTBOX_LEASE_SECONDS", SETTING, 300,
            "How long a delivery run holds a message it claimed before another run may take it.", _int),
    Setting("BIANMIN_CALENDAR_RECHECK_SECONDS", SETTING, 10,
            "How often a process checks whether another one changed the working-day calendar.", _int),

    # --- catalog -------------------------------------------------------------------------------
    Setting("BIANMIN_MANDATORY_DEPARTMENTS", SETTING, ("计生", "民政", "国土", "村建", "农业", "林业", "渔业",
                                                        "劳动保障", "司法", "工商", "残联"),
            "Department categories every township center must station (应进必进); comma- or 、-separated.", _words),
    Setting("BIANMIN_SHARED_ELEMENTS", SETTING, ("acceptance_conditions", "materials", "flow", "legal_limit_days",
                                                  "fee", "service_object", "special_steps", "result_name", "tier",
                                                  "handling_kind"),
            "Item elements the city shares at every level besides the six always shared (五级十五同).", _words),

    # --- cases -----------------------------------------------------------------------------------
    Setting("BIANMIN_CASE_CORRECTION_WORKING_DAYS", SETTING, 10,
            "Working days an applicant is given to supply missing materials (the 补正期限 on the 一次性告知书).", _int),
    Setting("BIANMIN_CASE_FILE_MAX_BYTES", SETTING, 10 * 1024 * 1024, "Largest uploaded file (case materials, evidence).",
            _int),

    # --- 好差评 -----------------------------------------------------------------------------------
    Setting("BIANMIN_EVAL_DEFAULT_AFTER_DAYS", SETTING, 7,
            "No evaluation within this many days of completion → a default 满意 (Fujian: 7).", _int),
    Setting("BIANMIN_EVAL_LINK_DAYS", SETTING, None,
            "How long an evaluation link stays usable (unset: BIANMIN_EVAL_DEFAULT_AFTER_DAYS).", _int),
    Setting("BIANMIN_EVAL_ADDITIONAL_DAYS", SETTING, 30, "追评 is allowed within this many days of the first evaluation.",
            _int),
    Setting("BIANMIN_EVAL_TEXT_LIMIT", SETTING, 500, "Longest evaluation text, in characters.", _int),
    Setting("BIANMIN_EVAL_RATE_LINK", SETTING, (10, 3600), "Submissions per link: count,seconds.", _pair),
    Setting("BIANMIN_EVAL_RATE_DEVICE", SETTING, (600, 60), "Submissions per window device: count,seconds.", _pair),
    Setting("BIANMIN_EVAL_RATE_KIOSK_CASE", SETTING, (10, 3600),
            "Attempts on one case at the kiosks (number + last four digits), all kiosks together: count,seconds.", _pair),
    Setting("BIANMIN_EVAL_RATE_PHONE", SETTING, (30, 3600), "Submissions per phone number: count,seconds.", _pair),
    Setting("BIANMIN_EVAL_BURST", SETTING, (5, 60),
            "More than count evaluations from one device or phone within seconds are flagged: count,seconds.", _pair),
    Setting("BIANMIN_EVAL_REPEATED_TEXT_DAYS", SETTING, 30, "The same text at one site within this many days is flagged.",
            _int),
    Setting("BIANMIN_WINDOW_SCREEN_MINUTES", SETTING, 5, "How long the window screen offers the case just finished there.",
            _int),

    # --- the follow-up desk ----------------------------------------------------------------------
    Setting("BIANMIN_BADREVIEW_VERIFY_DAYS", SETTING, 1, "Working days to verify a bad review.", _int),
    Setting("BIANMIN_RECTIFICATION_DAYS", SETTING, 10, "Default working days to rectify (Fujian: 10).", _int),
    Setting("BIANMIN_FOLLOWUP_SAMPLE_RATE", SETTING, "0.10", "Share of satisfied evaluations drawn for the daily call list."),
    Setting("BIANMIN_FOLLOWUP_MAX_TRIES", SETTING, 3, "Calls to an unreached citizen before giving up.", _int),

    # --- exports ---------------------------------------------------------------------------------
    Setting("BIANMIN_EXPORT_DIRECT_MAX_ROWS", SETTING, 5000,
            "A ledger xlsx of at most this many rows downloads at once; a larger one becomes a background job.", _int),
    Setting("BIANMIN_EXPORTS_DIR", SETTING, "", "Where export files live (unset: <BIANMIN_VAR>/exports)."),
    Setting("BIANMIN_EXPORT_STALE_MINUTES", SETTING, 10, "A running export silent this long lost its worker.", _int),
    Setting("BIANMIN_EXPORT_KEEP_DAYS", SETTING, 7, "How long a finished export file stays downloadable.", _int),

    # --- policies --------------------------------------------------------------------------------
    Setting("BIANMIN_POLICY_API_KEY_PER_MINUTE", SETTING, 600,
            "Policy API requests a minute for one key with the policies.read scope.", _int),
    Setting("BIANMIN_POLICY_API_ANON_PER_MINUTE", SETTING, 120,
            "Policy API requests a minute from one address without a key.", _int),
    Setting("BIANMIN_POLICY_SUBSCRIBE_PER_HOUR", SETTING, 10, "Policy subscriptions one address may ask for in an hour.",
            _int),

    # --- figures ---------------------------------------------------------------------------------
    Setting("BIANMIN_FIGURES_REPAIR_DAYS", SETTING, 45,
            "Recent days the figures' nightly job recounts from the raw rows (older: `rebuild_rollups --since DAY`).",
            _int),
    Setting("BIANMIN_ROLLOUT_TOWNSHIP_TARGET", SETTING, "2021-06-01",
            "The date by which every township should be on the platform (上线推进)."),
    Setting("BIANMIN_ROLLOUT_VILLAGE_TARGET", SETTING, "2021-09-01",
            "The date by which every village/community should be on the platform."),
    Setting("BIANMIN_APPRAISAL_WEIGHTS", SETTING, "",
            "Weights of the 人民满意基层单位 score, `key=weight` comma-separated (keys and defaults in figures/conf.py)."),

    # --- inspections (督查) -----------------------------------------------------------------------
    Setting("BIANMIN_ASSESSMENT_WEIGHTS", SETTING,
            {"inspection": 40, "satisfaction": 30, "timeliness": 15, "appeal": 15},
            "Default weights (percent) of the annual assessment's parts, `key=weight` comma-separated; "
            "an organiser sets its own per year.", _weights),
    Setting("BIANMIN_INSPECTION_PERIOD_MONTHS", SETTING, 2, "Default months between two draws of a schedule.", _int),
    Setting("BIANMIN_INSPECTION_SUBMIT_DAYS", SETTING, 10,
            "Default working days the inspected have to submit the drawn dossiers.", _int),
    Setting("BIANMIN_INSPECTION_NOTICE_DAYS", SETTING, 10, "Default working days to rectify after a notice.", _int),

    # --- self-service kiosks (自助终端) -------------------------------------------------------------
    Setting("BIANMIN_KIOSK_OFFLINE_MINUTES", SETTING, 10,
            "A terminal silent this long is marked offline; its district gets a notification.", _int),
    Setting("BIANMIN_KIOSK_OFFLINE_CHECK_MINUTES", SETTING, 5, "How often the worker runs the offline check.", _int),
    Setting("BIANMIN_KIOSK_HEARTBEAT_SECONDS", SETTING, 60, "The heartbeat interval told to terminals.", _int),
    Setting("BIANMIN_KIOSK_IDLE_SECONDS", SETTING, 90,
            "A kiosk screen untouched this long ends the citizen's visit and clears it.", _int),
    Setting("BIANMIN_KIOSK_SOURCE_TIMEOUT", SETTING, 5.0,
            "Seconds a certificate's data source may take; a later answer issues nothing.", _float),
    Setting("BIANMIN_KIOSK_READER", SETTING, "demo",
            "The kiosk screens' identity-card reader: `demo` (demo registries) or `device` (the terminal's driver)."),
    Setting("BIANMIN_KIOSK_PAIRING_MINUTES", SETTING, 30, "How long a browser pairing code stays valid.", _int),
    Setting("BIANMIN_KIOSK_PRINT_MINUTES", SETTING, 10,
            "How long after issuing the terminal may fetch a certificate's PDF to print it.", _int),
    Setting("BIANMIN_KIOSK_MAX_USES_PER_REQUEST", SETTING, 500, "Usage records a terminal may send in one request.",
            _int),
    Setting("BIANMIN_KIOSK_SOURCES", SETTING, "{}",
            "Certificate data-source adapters `{code: dotted path}` on top of the demo ones (kiosks/sources.py).",
            None),
    # --- engagement (座谈会、提案建议办理) --------------------------------------------------------------
    Setting("BIANMIN_OPINION_DAYS", SETTING, 10,
            "Working days to answer a symposium opinion or settle it as a rectification.", _int),
    Setting("BIANMIN_PROPOSAL_REPLY_MONTHS", SETTING, 3, "Months from assignment to a proposal's reply (at most 6).", _int),
    Setting("BIANMIN_PROPOSAL_JOINT_MONTHS", SETTING, 1, "Months a 会办 unit has to send its view to the 主办.", _int),
    Setting("BIANMIN_PROPOSAL_RETURN_DAYS", SETTING, 10, "Days after assignment a wrongly assigned unit may return it.",
            _int),
    Setting("BIANMIN_PROPOSAL_REHANDLE_MONTHS", SETTING, 1, "Months to re-handle after the member's 不满意.", _int),
    Setting("BIANMIN_PROPOSAL_MAX_ROUNDS", SETTING, 2, "Handling rounds of one unit (the reply and one re-handling).",
            _int),
    Setting("BIANMIN_PROPOSAL_REMINDER_DAYS", SETTING, (30, 7, 1),
            "Reminders (催办) this many days before a deadline, comma-separated (and once when it has passed).", _ints),
]

BY_NAME: dict[str, Setting] = {s.name: s for s in TABLE}


def django_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``SETTING`` rows' values for settings.py: the environment's when set, else the default.
    BIANMIN_GATEWAYS is built by settings.py itself (from two ``ENV`` rows)."""
    values = {}
    for s in TABLE:
        if s.kind != SETTING or s.parse is None:
            continue
        raw = environ.get(s.name)
        values[s.name] = s.default if raw is None or raw.strip() == "" else s.parse(raw)
    return values


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def render() -> str:
    """docs/SETTINGS.md."""
    lines = [
        "# Settings",
        "",
        "Every setting, generated from `src/bianmin/conf.py` (`uv run python -m bianmin.conf > docs/SETTINGS.md`;",
        "a test fails when they differ or when the code reads a setting not listed).",
        "",
        "- **environment**: read from the process environment only.",
        "- **setting**: a Django setting the apps read; its environment variable of the same name, when set,",
        "  replaces the default (numbers as digits, pairs as `count,seconds`, lists comma- or 、-separated).",
        "",
        "| name | kind | default | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for s in TABLE:
        kind = s.kind if s.parse is not None or s.kind == ENV else "setting (not from the environment)"
        lines.append(f"| `{s.name}` | {kind} | {_show(s.default)} | {s.meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
