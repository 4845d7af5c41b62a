"""Keyed pseudonyms for patient (and appointment) identifiers.

A plain hash of a medical record number is not a pseudonym: record numbers are short and
guessable, so anyone holding the store could hash every candidate and re-identify patients. A
keyed hash (HMAC-SHA256) with a secret kept *outside* the store cannot be reversed that way, yet
gives the same patient the same reference on every import, which is what history features need.

The key is 32 random bytes from :mod:`secrets`, created once and kept in a local config file
(``~/.config/clinicflow/key`` unless ``CLINICFLOW_KEY_FILE`` or ``--key-file`` says otherwise),
readable by its owner only. The store records a fingerprint of the key (an HMAC of a fixed label,
which reveals nothing about the key) so that a load with a different key is refused instead of
silently splitting every patient's history in two.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from ..errors import InputError

KEY_ENV = "CLINICFLOW_KEY_FILE"
KEY_BYTES = 32
#: Hex characters kept from each HMAC: 80 bits, so collisions among even millions of patients
#: are vanishingly unlikely (birthday bound ~ n² / 2^81).
REF_HEX = 20


def default_key_path() -> Path:
    """The key file used when none is given: ``$CLINICFLOW_KEY_FILE`` or ``~/.config/clinicflow/key``."""
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "clinicflow" / "key"


def load_or_create_key(path: str | Path | None = None) -> bytes:
    """Read the pseudonymization key, creating it (owner-only permissions) on first use."""
    key, unsaved = read_or_draft_key(path)
    return key if unsaved is None else save_new_key(unsaved, key)


def read_or_draft_key(path: str | Path | None = None) -> tuple[bytes, Path | None]:
    """The key in the key file, or a new one not written yet and the path it belongs at.

    An import drafts the key and writes it (:func:`save_new_key`) only once the file's rows have
    passed their checks: a refused file leaves no key behind, like no store.
    """
    p = Path(path).expanduser() if path is not None else default_key_path()
    if not p.exists():
        return secrets.token_bytes(KEY_BYTES), p
    return _read_key(p), None


def save_new_key(p: Path, key: bytes) -> bytes:
    """Write a drafted key; return the key the file holds afterwards.

    Creation uses ``O_EXCL`` so two imports starting at once cannot each write a different key:
    the one that loses reads (and returns) the winner's.
    """
    try:
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # a file in the way: FileExistsError
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if not p.is_file():  # the folder is a file, say: nothing to read either
            raise InputError(
                p, None, f"cannot create the key file here ({p.parent} is not a folder)"
            ) from None
        return _read_key(p)  # another process created it first: use theirs
    except OSError as e:
        raise InputError(
            p, None, f"cannot create the key file here ({e.strerror or e.__class__.__name__})"
        ) from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key


def _read_key(p: Path) -> bytes:
    try:
        text = p.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError):
        raise InputError(p, None, "not a clinicflow key file (expected 64 hex characters)") from None
    if len(key) != KEY_BYTES:
        raise InputError(p, None, f"not a clinicflow key file (expected {KEY_BYTES * 2} hex characters)")
    return key


class Pseudonymizer:
    """Turns identifiers into stable, unlinkable-without-the-key references.

    Patients and appointments use different labels, so a patient reference never equals an
    appointment reference even when a system reuses the same number for both.
    """

    def __init__(self, key: bytes):
        if len(key) != KEY_BYTES:
            raise ValueError("pseudonymization key must be 32 bytes")
        self._key = key

    @property
    def fingerprint(self) -> str:
        """Identifies the key without revealing it (stored in the database's meta table)."""
        return hmac.new(self._key, b"clinicflow key fingerprint v1", hashlib.sha256).hexdigest()[:16]

    def _ref(self, prefix: str, label: bytes, value: str) -> str:
        mac = hmac.digest(self._key, label + b"\x1f" + value.encode("utf-8"), "sha256")
        return prefix + mac.hex()[:REF_HEX]

    def patient(self, patient_id: str) -> str:
        """``p_`` + 20 hex characters."""
        return self._ref("p_", b"patient", normalize_id(patient_id))

    def appointment(self, appointment_id: str) -> str:
        """``a_`` + 20 hex characters."""
        return self._ref("a_", b"appointment", normalize_id(appointment_id))

    def patients(self, ids: Iterable[str]) -> list[str]:
        """Vectorized :meth:`patient` (equal results; tested)."""
        return self._bulk("p_", b"patient", ids)

    def appointments(self, ids: Iterable[str]) -> list[str]:
        """Vectorized :meth:`appointment`."""
        return self._bulk("a_", b"appointment", ids)

    def patient_table(self, ids: Iterable[str]) -> dict[str, str]:
        """Pseudonym -> the raw id it was made from, for the ids given (``history relink``).

        A pseudonym cannot be reversed; whoever holds both the raw ids and the key can make it
        again, which is what putting record numbers back into a schedule for the EHR needs. An id
        is given back as the source system means it (:func:`normalize_id`: ``123.0`` as ``123``)."""
        raw = [normalize_id(v) for v in ids]
        raw_kept = [v for v in raw if v]
        return dict(zip(self.patients(raw_kept), raw_kept, strict=True))

    def _bulk(self, prefix: str, label: bytes, ids: Iterable[str]) -> list[str]:
        """HMAC-SHA256 of many values at once, written out as its definition (RFC 2104),
        ``H((K ^ opad) || H((K ^ ipad) || m))``, with DuckDB's vectorized SHA-256: 110,000
        identifiers take ~0.1 s instead of ~1 s through Python's ``hmac`` one by one."""
        values = pd.Series(list(ids), dtype="string").fillna("").str.strip()
        values = values.str.replace(f"^{_FLOAT_INT.pattern}$", r"\1", regex=True)  # see normalize_id
        if len(values) < 64:
            return [self._ref(prefix, label, v) for v in values]
        block = self._key.ljust(64, b"\0")
        ipad = bytes(b ^ 0x36 for b in block)
        opad = bytes(b ^ 0x5C for b in block)
        con = duckdb.connect()
        try:
            con.register("ids", pa.table({"v": pa.array(values.to_numpy(dtype=object), type=pa.string())}))
            rows = con.execute(
                "SELECT $prefix || left(sha256($opad::BLOB || unhex(sha256($ipad::BLOB || $label::BLOB || encode(v)))), $n) FROM ids",
                {"prefix": prefix, "opad": opad, "ipad": ipad, "label": label + b"\x1f", "n": REF_HEX},
            ).fetchall()
        finally:
            con.close()
        return [r[0] for r in rows]


def normalize_id(value: str) -> str:
    """The identifier as the source system means it: trimmed, and ``123.0`` (a number that went
    through a spreadsheet) equal to ``123``, so a re-export does not create a new patient."""
    s = str(value).strip()
    m = _FLOAT_INT.fullmatch(s)
    return m.group(1) if m else s


_FLOAT_INT = re.compile(r"(\d+)\.0")
