"""The history store: an embedded DuckDB database of pseudonymized appointments.

Loads are **atomic**: a file is read and checked in full before the database is opened, and
every write of one import (appointments, quarantine rows, the import record) happens inside one
transaction, so a bad file, an error or a killed process leaves the store exactly as it was
(DuckDB's write-ahead log only replays committed transactions).

Loads are **idempotent**: a file whose SHA-256 digest was already imported is recognized at
once; otherwise each row's content hash decides — an appointment already stored with the same
content is left alone, one whose content changed (a later export of the same appointment: a status
corrected, a check-out time filled in) replaces it, and only new appointments are added — unless the
incoming row records fewer of the visit's times than the stored one (``FULLER_KEPT``). A replaced row
keeps the stored values of the fields its file has no column for (``Batch.provided``), and its hash is
that of the merged row, so the same thin export again reads as unchanged.

**No raw identifier** is ever written: patients and appointments are keyed pseudonyms, the
store records only the key's fingerprint, and quarantine rows keep the line and the reason, not
the row's content.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from ..errors import InputError
from .importers import FLAG_FIELDS, file_digest, read_history
from .mapping import Mapping
from .names import DEFAULT_DB
from .normalize import HASHED, STORE_COLUMNS, TIMESTAMP_FIELDS, Batch, normalize, row_hash_sql
from .pseudonym import Pseudonymizer, read_or_draft_key, save_new_key

SCHEMA_VERSION = "1"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
CREATE TABLE IF NOT EXISTS imports (
    import_id INTEGER, file_name VARCHAR, file_digest VARCHAR, format VARCHAR,
    imported_at TIMESTAMP, rows_read INTEGER, rows_added INTEGER, rows_updated INTEGER,
    rows_unchanged INTEGER, rows_quarantined INTEGER, duplicates_in_file INTEGER,
    rows_kept_fuller INTEGER, rows_merged INTEGER
);
CREATE TABLE IF NOT EXISTS appointments (
    appointment_ref VARCHAR NOT NULL, row_hash VARCHAR NOT NULL, patient_ref VARCHAR NOT NULL,
    provider VARCHAR, appointment_type VARCHAR,
    scheduled_at TIMESTAMP, appt_date DATE NOT NULL, start_at TIMESTAMP, end_at TIMESTAMP,
    status VARCHAR NOT NULL,
    {", ".join(f"{f} TIMESTAMP" for f in TIMESTAMP_FIELDS)},
    age SMALLINT, age_band VARCHAR, sex VARCHAR, reminder BOOLEAN,
    {", ".join(f"{f} SMALLINT" for f in FLAG_FIELDS)},
    source_line BIGINT, import_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    import_id INTEGER, location VARCHAR, line BIGINT, reason VARCHAR
);
"""


class BadRowsError(InputError):
    """A file with bad rows, rejected whole. ``bad`` lists every (line, reason)."""

    def __init__(self, file: Path, bad: pd.DataFrame, location: str):
        self.bad = bad
        first = bad.iloc[0]
        others = bad["line"].iloc[1:6].tolist()
        more = len(bad) - 1
        msg = str(first["reason"])
        if more:
            msg += f" (and {more} more bad row{'s' if more > 1 else ''}, at {location} " + ", ".join(
                map(str, others)
            )
            msg += " …)" if more > len(others) else ")"
        msg += "; nothing was imported (--skip-bad-rows loads the good rows and quarantines the rest)"
        n = int(first["line"])
        if location == "line":  # file:line: reason
            super().__init__(file, None, msg, line=n)
        else:  # file: entry 3: reason
            super().__init__(file, f"{location} {n}", msg)


@dataclass
class ImportResult:
    """What one import did (safe to print: counts only)."""

    file: str
    format: str
    import_id: int | None
    rows_read: int
    rows_added: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    #: rows of the file that changed a stored appointment but recorded fewer of its visit times, so the
    #: stored (fuller) record was kept (``FULLER_KEPT``)
    rows_kept_fuller: int = 0
    #: updated rows that kept a stored value of a field the file has no column for (``age`` missing
    #: from a later export, say), and those fields (store names, in store order)
    rows_merged: int = 0
    fields_kept: list[str] = field(default_factory=list)
    rows_quarantined: int = 0
    duplicates_in_file: int = 0
    already_imported: bool = False
    bad_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store; a store locked by another process is a one-line error."""
    p = Path(path)
    if read_only and not p.exists():
        raise InputError(
            p, None, "no history store here (run 'clinicflow history import FILE --db PATH' first)"
        )
    if p.is_file() and p.stat().st_size > 0:
        with p.open("rb") as fh:
            magic = fh.read(12)[8:12]
        if magic != b"DUCK":  # DuckDB would open e.g. a CSV as a throw-away in-memory database
            raise InputError(
                p,
                None,
                "not a clinicflow history store (expected a DuckDB file; give --db a new or a store file)",
            )
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.IOException as e:
        text = str(e)
        if "lock" in text.lower():
            raise InputError(p, None, "the history store is in use by another process") from None
        raise InputError(p, None, f"cannot open the history store ({text.splitlines()[0][:120]})") from None
    except duckdb.Error as e:
        raise InputError(p, None, f"not a clinicflow history store ({e.__class__.__name__})") from None
    return con


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything inside commits together or not at all (any exception rolls back)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """The first row of a query, or None (fetching everything so the connection is free again)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def ensure_schema(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Create the tables in a new store; refuse a DuckDB file that holds other tables and no
    clinicflow ones (an analyst's own database, say), rather than writing history into it."""
    _refuse_foreign(con, db)
    con.execute(SCHEMA)
    # stores made before rows_kept_fuller / rows_merged were counted: the columns are added, empty
    # for their imports
    con.execute("ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_kept_fuller INTEGER")
    con.execute("ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_merged INTEGER")
    version = _one(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    if version is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])


def _refuse_foreign(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if tables and "meta" not in tables:
        shown = ", ".join(sorted(tables)[:3]) + (" …" if len(tables) > 3 else "")
        raise InputError(
            db,
            None,
            f"not a clinicflow history store (a DuckDB file with other tables: {shown}; "
            "give --db a new or a store file)",
        )


def _check_store(db: Path, pseudo: Pseudonymizer) -> None:
    """The store refusals, read-only, before a first import writes its key file (they are checked
    again inside the load's transaction)."""
    if not db.exists():
        return
    con = connect(db, read_only=True)
    try:
        _refuse_foreign(con, db)
        if "meta" in {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }:
            _check_key(con, db, pseudo, record=False)
    finally:
        con.close()


def _check_key(con: duckdb.DuckDBPyConnection, db: Path, pseudo: Pseudonymizer, record: bool = True) -> None:
    row = _one(con, "SELECT value FROM meta WHERE key = 'key_fingerprint'")
    if row is None and record:
        con.execute("INSERT INTO meta VALUES ('key_fingerprint', ?)", [pseudo.fingerprint])
    elif row[0] != pseudo.fingerprint:
        raise InputError(
            db,
            None,
            "this store was built with a different pseudonymization key; import with the same "
            "--key-file (or CLINICFLOW_KEY_FILE) so each patient keeps one reference",
        )


def import_history(
    file: str | Path,
    db: str | Path = DEFAULT_DB,
    fmt: str = "auto",
    mapping: Mapping | None = None,
    key_file: str | Path | None = None,
    skip_bad_rows: bool = False,
    on_stage: Callable[[str], None] | None = None,
    timezone: str | None = None,
) -> ImportResult:
    """Read, check, pseudonymize and load one file into the store, atomically. ``timezone`` (the
    clinic's; else the mapping's) turns times with an offset into its wall-clock times.

    Raises :class:`BadRowsError` (and leaves the store untouched — not even created) when the file
    has bad rows and ``skip_bad_rows`` is false.
    """
    stage = on_stage or (lambda _s: None)
    stage("reading")
    key, unsaved = read_or_draft_key(key_file)
    pseudo = Pseudonymizer(key)
    path = Path(file)
    if path.is_file():  # the same bytes again: nothing to read, check or add (10 s saved at 1M rows)
        seen = _seen_digest(Path(db), file_digest(path), pseudo)
        if seen is not None:
            return ImportResult(path.name, seen[1], seen[0], seen[2], already_imported=True)
    raw = read_history(file, fmt, mapping)
    stage("checking")
    batch = normalize(raw, pseudo, timezone)
    if len(batch.bad) and not skip_bad_rows:
        raise BadRowsError(raw.file, batch.bad, batch.location)  # before the key file is written
    if unsaved is not None:  # the first import: the key is written now that the file loads
        _check_store(Path(db), pseudo)
        saved = save_new_key(unsaved, key)
        if saved != key:  # another import wrote its key first: pseudonymize with that one
            pseudo = Pseudonymizer(saved)
            batch = normalize(raw, pseudo, timezone)
    stage("loading")
    created = not Path(db).exists()
    con = connect(db)
    try:
        return _load(con, Path(db), raw.file, raw.format, raw.digest, batch, pseudo)
    except BaseException:
        if created:  # a store this import created and could not fill is not left behind, empty
            con.close()
            for leftover in (Path(db), Path(f"{db}.wal")):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        con.close()


def _seen_digest(db: Path, digest: str, pseudo: Pseudonymizer) -> tuple[int, str, int] | None:
    """The import id, format and rows read of an earlier load of the same file with the same key,
    if any (a read-only peek; the authoritative check is repeated inside the load's transaction)."""
    if not db.exists():
        return None
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None  # locked or unreadable: the full path reports it properly
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if not {"imports", "meta"} <= tables:
            return None
        key = _one(con, "SELECT value FROM meta WHERE key = 'key_fingerprint'")
        if key is None or key[0] != pseudo.fingerprint:
            return None
        row = _one(
            con,
            "SELECT import_id, format, rows_read FROM imports WHERE file_digest = ? ORDER BY import_id LIMIT 1",
            [digest],
        )
        return (int(row[0]), str(row[1]), int(row[2])) if row else None
    finally:
        con.close()


def _load(
    con, db: Path, file: Path, fmt: str, digest: str, batch: Batch, pseudo: Pseudonymizer
) -> ImportResult:
    result = ImportResult(file.name, fmt, None, batch.rows_read, duplicates_in_file=batch.duplicates_in_file)
    result.bad_reasons = _reason_counts(batch.bad)
    with transaction(con):
        ensure_schema(con, db)
        _check_key(con, db, pseudo)
        seen = _one(
            con, "SELECT import_id FROM imports WHERE file_digest = ? ORDER BY import_id LIMIT 1", [digest]
        )
        if seen is not None:
            result.import_id, result.already_imported = int(seen[0]), True
            result.rows_unchanged = len(batch.good)
            result.bad_reasons = {}
            return result
        import_id = int(_one(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")[0])
        result.import_id = import_id
        _write_appointments(con, batch.good, batch.provided, import_id, result)
        _write_quarantine(con, batch.bad, batch.location, import_id)
        result.rows_quarantined = len(batch.bad)
        _record_import(con, file, fmt, digest, import_id, result)
    con.execute("CHECKPOINT")
    return result


def _reason_counts(bad: pd.DataFrame) -> dict[str, int]:
    """Bad rows counted by kind of reason (the text before any quoted value)."""
    kinds = bad["reason"].astype(str).str.replace(r"\s*['(].*$", "", regex=True)
    return {k: int(v) for k, v in kinds.value_counts().items()}


#: Why a changed row can lose to the stored one. Imports are not always made in the order the
#: exports were taken: an analyst back-fills last spring after loading this week, or loads a no-show
#: layout (no visit times at all) over an export that has them. Without an export date in the files,
#: how far a record got is the evidence: a row that records fewer of the visit's times (check-in,
#: rooming, provider start and end, check-out) than the stored one was taken earlier or from a
#: thinner layout, and must not roll the fuller record back. With as many times or more (a corrected
#: status or time, a check-out filled in) the incoming row replaces the stored one: the last import
#: wins, as a later export would. Only the time columns the file has are counted — the others keep
#: their stored values, so a layout without rooming times can still correct a status — but a file
#: with *none* of them cannot show how far any visit got, so its rows count as recording none: they
#: replace only stored rows without times (no-shows, cancellations), rather than give a visit with a
#: check-in and a check-out the no-show of a thinner, possibly older, layout. (The state of such a
#: row in ``_write_appointments``.)
FULLER_KEPT = "fuller_kept"

#: Fields of the visit's day: a stored value is kept only while the appointment is still on that day
#: (a 09:10 check-in of the 5th is no time of the appointment moved to the 7th).
_DAY_FIELDS = frozenset({"start_at", "end_at", *TIMESTAMP_FIELDS})


def _times_recorded(alias: str, fields: tuple[str, ...] = TIMESTAMP_FIELDS) -> str:
    """SQL: how many of the visit's times ``fields`` the row ``alias`` records."""
    return " + ".join(f"CAST({alias}.{f} IS NOT NULL AS INTEGER)" for f in fields)


def _state_sql(con: duckdb.DuckDBPyConnection, provided: frozenset[str]) -> str:
    """SQL of each incoming row's state, the hash it would be stored with and the values of the
    fields it takes from the store (one join; the other columns are the file's, read at insert).

    A field the file has no column for (not in ``provided``) takes the stored value: a later export
    without ``age`` says nothing about ages. The hash is then that of the merged row, cast back to the
    type the column has in ``incoming`` (BIGINT age, nanosecond timestamps) so that it is the hash
    ``normalize`` gives a file with the same content (:func:`row_hash_sql`): that file, or the same
    thin one again, reads as unchanged. A new appointment is its incoming row."""
    kept = [c for c in HASHED if c not in provided]
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE incoming)").fetchall())
    cols = []
    for c in STORE_COLUMNS:
        if c == "row_hash":
            continue
        if c not in kept:
            cols.append(f"i.{c}")
            continue
        same_day = " AND a.appt_date = CAST(i.appt_date AS DATE)" if c in _DAY_FIELDS else ""
        cols.append(
            f"CASE WHEN a.appointment_ref IS NOT NULL{same_day} THEN CAST(a.{c} AS {types[c]}) "
            f"ELSE i.{c} END AS {c}"
        )
    # only the time columns the file has count; a file with none records none (see FULLER_KEPT)
    times = tuple(f for f in TIMESTAMP_FIELDS if f in provided)
    stored_times = _times_recorded("a", times or TIMESTAMP_FIELDS)
    incoming_times = _times_recorded("m", times) if times else "0"
    if kept:
        # Which hash the merged row has, cheapest test first (a CASE tests a row only until one
        # holds; sha256 over 110,000 rows takes ~0.45 s): a new row, or a stored one with none of the
        # merged fields set, is the file's row; a stored one whose provided fields all equal the
        # file's *is* the stored row; only the others are hashed.
        nothing_kept = " AND ".join(f"a.{c} IS NULL" for c in kept)
        equal = " AND ".join(
            f"i.{c} IS NOT DISTINCT FROM CAST(a.{c} AS {types[c]})" for c in HASHED if c not in kept
        )
        source = (
            f"CASE WHEN a.appointment_ref IS NULL OR ({nothing_kept}) THEN 'file' "
            f"WHEN {equal} THEN 'stored' ELSE 'merged' END"
        )
        row_hash = (
            "CASE hash_of WHEN 'file' THEN incoming_hash WHEN 'stored' THEN stored_hash "
            f"ELSE {row_hash_sql()} END"
        )
    else:  # the file has every column: each row is the file's, hashed by normalize
        source, row_hash = "'file'", "incoming_hash"
    return f"""
        SELECT appointment_ref, {"".join(f"{c}, " for c in kept)}{"row_hash, " if kept else ""}
               CASE WHEN NOT stored THEN 'new'
                    WHEN stored_hash = row_hash THEN 'same'
                    WHEN {incoming_times} < stored_times THEN '{FULLER_KEPT}'
                    ELSE 'changed' END AS state
        FROM (SELECT *, {row_hash} AS row_hash
              FROM (SELECT {", ".join(cols)}, i.row_hash AS incoming_hash,
                           a.appointment_ref IS NOT NULL AS stored, a.row_hash AS stored_hash,
                           {stored_times} AS stored_times, {source} AS hash_of
                    FROM incoming i LEFT JOIN appointments a USING (appointment_ref))) m"""


def _write_appointments(
    con: duckdb.DuckDBPyConnection,
    good: pd.DataFrame,
    provided: frozenset[str],
    import_id: int,
    result: ImportResult,
) -> None:
    """Add the new rows, replace the changed ones, leave the rest; count each in ``result``.

    Fields the file does not provide are merged from the stored row first (in DuckDB, vectorized),
    and the states are decided on the merged rows: a later export without ``age`` changes a row only
    where something it does say changed, and replaces it without emptying the stored age."""
    table = pa.Table.from_pandas(good, preserve_index=False)
    con.register("incoming", table)
    kept = [c for c in HASHED if c not in provided]
    try:
        # the merged values are kept here before the stored rows they come from are deleted
        con.execute(f"CREATE TEMP TABLE incoming_state AS {_state_sql(con, provided)}")
        counts = dict(con.execute("SELECT state, count(*) FROM incoming_state GROUP BY state").fetchall())
        result.rows_added = int(counts.get("new", 0))
        result.rows_updated = int(counts.get("changed", 0))
        result.rows_unchanged = int(counts.get("same", 0))
        result.rows_kept_fuller = int(counts.get(FULLER_KEPT, 0))
        if result.rows_updated and kept:
            _count_merged(con, kept, result)
        if result.rows_updated:
            con.execute(
                "DELETE FROM appointments WHERE appointment_ref IN "
                "(SELECT appointment_ref FROM incoming_state WHERE state = 'changed')"
            )
        cols = ", ".join(STORE_COLUMNS)
        merged = {*kept, "row_hash"} if kept else set()  # the rest are the file's
        values = ", ".join(f"s.{c}" if c in merged else f"i.{c}" for c in STORE_COLUMNS)
        con.execute(
            f"""INSERT INTO appointments ({cols}, import_id)
                SELECT {values}, {import_id}
                FROM incoming i JOIN incoming_state s USING (appointment_ref)
                WHERE s.state IN ('new', 'changed')"""
        )
    finally:
        con.execute("DROP TABLE IF EXISTS incoming_state")
        con.unregister("incoming")


def _count_merged(con: duckdb.DuckDBPyConnection, kept: list[str], result: ImportResult) -> None:
    """How many replaced rows kept a stored value of a field the file lacks, and which fields (a kept
    field is empty in the incoming row, so a value in the merged row came from the store)."""
    per_field = ", ".join(f"count({c})" for c in kept)
    any_kept = " OR ".join(f"{c} IS NOT NULL" for c in kept)
    row = _one(
        con,
        f"SELECT count(*) FILTER (WHERE {any_kept}), {per_field} FROM incoming_state WHERE state = 'changed'",
    )
    result.rows_merged = int(row[0])
    result.fields_kept = [c for c, n in zip(kept, row[1:], strict=True) if n]


def _write_quarantine(con, bad: pd.DataFrame, location: str, import_id: int) -> None:
    if not len(bad):
        return
    q = pd.DataFrame(
        {
            "import_id": import_id,
            "location": location,
            "line": bad["line"].astype("int64"),
            "reason": bad["reason"].astype(str),
        }
    )
    con.register("bad_rows", pa.Table.from_pandas(q, preserve_index=False))
    try:
        con.execute("INSERT INTO quarantine SELECT import_id, location, line, reason FROM bad_rows")
    finally:
        con.unregister("bad_rows")


def _record_import(con, file: Path, fmt: str, digest: str, import_id: int, r: ImportResult) -> None:
    con.execute(
        "INSERT INTO imports (import_id, file_name, file_digest, format, imported_at, rows_read, rows_added, "
        "rows_updated, rows_unchanged, rows_quarantined, duplicates_in_file, rows_kept_fuller, rows_merged) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            import_id,
            file.name,
            digest,
            fmt,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            r.rows_read,
            r.rows_added,
            r.rows_updated,
            r.rows_unchanged,
            r.rows_quarantined,
            r.duplicates_in_file,
            r.rows_kept_fuller,
            r.rows_merged,
        ],
    )


def load_appointments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every stored appointment (pseudonymized), ordered by date."""
    return con.execute("SELECT * FROM appointments ORDER BY appt_date, start_at, appointment_ref").df()


def store_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file a store connection reads, so that a problem with its contents (too little
    history for a model, say) names the store like every other input error; None in memory."""
    try:
        row = _one(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
    except duckdb.Error:
        return None
    return row[0] if row and row[0] else None


def open_store(
    db: str | Path, since: dt.date | None = None, until: dt.date | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing store with at least one appointment.

    ``since`` / ``until`` (inclusive) narrow it to the appointments of those dates: every query of
    every model reads ``appointments`` and sees only them, so a scenario calibrated ``until`` the day
    before the weeks ``history backtest`` replays is tested out of sample, and a practice that changed
    its hours fits its present. The store file is not touched (a temporary view over it, read-only)."""
    con = connect(db, read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "appointments" not in tables:
        con.close()
        raise InputError(db, None, "not a clinicflow history store (no appointments table)")
    if _one(con, "SELECT count(*) FROM appointments")[0] == 0:
        con.close()
        raise InputError(db, None, "the history store holds no appointments yet")
    if since is None and until is None:
        return con
    if since is not None and until is not None and until < since:
        con.close()
        raise InputError(None, "--until", f"expected a day on or after --since {since.isoformat()}")
    path = _one(con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()")[0]
    con.close()
    window = duckdb.connect(":memory:")
    quoted = str(path).replace("'", "''")
    window.execute(f"ATTACH '{quoted}' AS store (READ_ONLY)")
    window.execute("USE store")  # errors keep naming the store file (store_path)
    where = " AND ".join(
        f"appt_date {op} DATE '{day.isoformat()}'" for op, day in ((">=", since), ("<=", until)) if day
    )
    window.execute(f"CREATE TEMP VIEW appointments AS SELECT * FROM store.main.appointments WHERE {where}")
    if _one(window, "SELECT count(*) FROM appointments")[0] == 0:
        window.close()
        span = " to ".join(d.isoformat() if d else "…" for d in (since, until))
        raise InputError(db, None, f"the history store holds no appointments from {span}")
    return window
