"""Putting the practice's own patient identifiers back into a finished schedule, for the EHR.

clinicflow works on keyed pseudonyms (``p_…``) from import to export, so its schedule table, FHIR
Bundles, workbooks and calendars can be shared with analysts and put on a dashboard without
naming anyone. The EHR that takes the booked week back, though, files an Appointment under a
patient it knows by medical record number, not under a pseudonym it cannot resolve. A keyed
pseudonym cannot be reversed; but the coordinator still holds the export the requests came from,
and pseudonymizing its raw ids again with the same key gives the table from pseudonym to id. This
module applies such a table to a schedule table or a Bundle; building it needs the key and lives
with the pseudonyms (``data.pseudonym``), and the command that joins the two is ``history relink``.

Every reference must be found: a Bundle in which some Appointments name a record number and others
a pseudonym would be filed half under the wrong patient, so a reference missing from the table is
an error, not a row left as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from .common import FHIR_SYSTEMS

#: HL7 v2 table 0203: the identifier type that says "medical record number" to any EHR.
MRN_TYPE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
            "code": "MR",
            "display": "Medical record number",
        }
    ]
}


@dataclass(frozen=True)
class Relinked:
    """What a relink changed: references replaced, and those the table did not know (never shown:
    a reference is a pseudonym, but the count is all a message needs)."""

    replaced: int
    missing: int
    patients: int


def relink_table(
    df: pd.DataFrame, column: str, table: Mapping[str, str], rename: str
) -> tuple[pd.DataFrame, Relinked]:
    """``df`` with the pseudonyms of ``column`` replaced by the ids of ``table``, the column renamed
    to ``rename`` in its place. Empty cells (template slots, holds) stay empty."""
    refs = df[column].fillna("").astype(str).str.strip()
    filled = refs != ""
    ids = refs.map(table)
    missing = filled & ids.isna()
    out = df.rename(columns={column: rename})
    out[rename] = ids.where(filled, "").fillna("")
    return out, Relinked(
        replaced=int((filled & ~missing).sum()),
        missing=int(missing.sum()),
        patients=int(refs[filled & ~missing].nunique()),
    )


def relink_bundle(bundle: dict, table: Mapping[str, str], system: str | None) -> tuple[dict, Relinked]:
    """A copy of a FHIR Bundle whose patient references by pseudonym (clinicflow's
    ``patient-ref`` identifier system) name the patient by record number instead: identifier type
    MR, the practice's ``system`` when given (an EHR matches on system and value), and no display
    that calls the patient pseudonymous. Resource ids are kept, so the relinked Appointment is the
    same resource as the pseudonymous one the dashboard or an analyst saw."""
    out = copy.deepcopy(bundle)
    replaced = missing = 0
    patients: set[str] = set()
    for entry in out.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        for participant in resource.get("participant") or []:
            actor = participant.get("actor") if isinstance(participant, dict) else None
            ident = actor.get("identifier") if isinstance(actor, dict) else None
            if not isinstance(ident, dict) or ident.get("system") != FHIR_SYSTEMS["Patient"]:
                continue
            raw = table.get(str(ident.get("value", "")).strip())
            if raw is None:
                missing += 1
                continue
            new: dict = {"type": MRN_TYPE}
            if system:
                new["system"] = system
            new["value"] = raw
            actor["identifier"] = new
            actor.pop("display", None)
            replaced += 1
            patients.add(raw)
    return out, Relinked(replaced=replaced, missing=missing, patients=len(patients))
