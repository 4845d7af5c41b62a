"""Column-mapping files: how a practice-management export's columns map onto clinicflow's fields.

Every system names its columns differently ("Appt Start", "VisitDateTime", …) and spells its
statuses differently ("No Show", "NS", "DNA"). A small YAML file says which column holds which
field and which raw values mean which outcome; it is validated strictly so a typo in it fails
with one line naming the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..domain.clinic import check_zone
from ..errors import InputError
from ..scenario_file import read_yaml, validation_to_input_error

#: Canonical appointment outcomes. ``cancelled`` means cancelled in advance (the slot could be
#: rebooked); ``late_cancel`` means cancelled too late to rebook, which costs the slot like a no-show.
OUTCOMES = ("attended", "no_show", "late_cancel", "cancelled")

#: Raw status spellings understood without a mapping (compared after lower-casing and turning
#: spaces and dashes into underscores). FHIR Appointment.status values are included.
DEFAULT_STATUSES: dict[str, tuple[str, ...]] = {
    "attended": (
        "attended",
        "fulfilled",
        "arrived",
        "checked_in",
        "checked_out",
        "completed",
        "complete",
        "kept",
        "show",
        "showed",
        "seen",
    ),
    "no_show": ("no_show", "noshow", "ns", "dna", "did_not_attend", "missed"),
    "late_cancel": (
        "late_cancel",
        "late_cancellation",
        "late_cancelled",
        "late_canceled",
        "late_cancelation",
    ),
    "cancelled": ("cancelled", "canceled", "cancellation", "cancel"),
}
#: Statuses of appointments that have not happened (or never existed): not history.
NOT_OUTCOMES = ("booked", "pending", "proposed", "waitlist", "entered_in_error", "scheduled")


class Columns(BaseModel):
    """Which source column holds each field. Required: the four every history needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    appointment_id: str
    patient_id: str
    start_at: str = Field(description="appointment start (date and time, or a date alone)")
    status: str
    provider: str | None = None
    appointment_type: str | None = None
    scheduled_at: str | None = Field(default=None, description="when the appointment was booked")
    end_at: str | None = None
    checkin_at: str | None = None
    roomed_at: str | None = None
    provider_start_at: str | None = None
    provider_end_at: str | None = None
    checkout_at: str | None = None
    age: str | None = None
    age_band: str | None = None
    sex: str | None = None
    reminder: str | None = Field(default=None, description="reminder sent (yes/no, 1/0, true/false)")


class Recode(BaseModel):
    """Raw provider / appointment-type values → scenario ids (values not listed pass through)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: dict[str, str] = Field(default_factory=dict)
    appointment_type: dict[str, str] = Field(default_factory=dict)


class Mapping(BaseModel):
    """A column-mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["csv", "excel", "parquet"] | None = None
    sheet: str | int | None = Field(default=None, description="Excel sheet name or index")
    columns: Columns
    statuses: dict[Literal["attended", "no_show", "late_cancel", "cancelled"], list[str]] = Field(
        default_factory=dict
    )
    recode: Recode = Field(default_factory=Recode)
    datetime_format: str | None = Field(
        default=None, description="strftime format of date/time cells, e.g. '%m/%d/%Y %H:%M'; default ISO"
    )
    dayfirst: bool | None = Field(
        default=None,
        description="numeric dates are day/month/year (true) or month/day/year (false); "
        "default: decided from the file's dates, which must then tell",
    )

    timezone: str | None = Field(
        default=None,
        description="the clinic's IANA zone (e.g. America/New_York): times with an offset become its "
        "wall-clock times; needed for times marked UTC (Z)",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            check_zone(zone)
        return zone

    @field_validator("datetime_format")
    @classmethod
    def _reads_dates(cls, fmt: str | None) -> str | None:
        """A format that cannot read back the date it writes ('%Q', '', '%H:%M') would turn every
        row of the file into a bad row, each blamed on its cell rather than on this setting."""
        if fmt is None:
            return fmt
        sample = dt.datetime(2025, 3, 4, 9, 20)
        try:
            ok = dt.datetime.strptime(sample.strftime(fmt), fmt).date() == sample.date()
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"expected a strftime format of a date and time, e.g. '%m/%d/%Y %H:%M', got {fmt!r}"
            )
        return fmt

    @model_validator(mode="after")
    def _statuses_unique(self):
        seen: dict[str, str] = {}
        for outcome, raws in self.statuses.items():
            for raw in raws:
                key = normalize_status(raw)
                if key in seen and seen[key] != outcome:
                    raise ValueError(f"status {raw!r} is listed under both {seen[key]} and {outcome}")
                seen[key] = outcome
        return self

    def status_table(self) -> dict[str, str]:
        """Normalized raw status → outcome (the file's own statuses override the defaults)."""
        table = {raw: outcome for outcome, raws in DEFAULT_STATUSES.items() for raw in raws}
        for outcome, raws in self.statuses.items():
            for raw in raws:
                table[normalize_status(raw)] = outcome
        return table


def normalize_status(raw: str) -> str:
    return str(raw).strip().lower().replace("-", "_").replace(" ", "_")


#: The identity mapping: a file whose columns already carry clinicflow's field names.
IDENTITY = Mapping(columns=Columns(**{name: name for name in Columns.model_fields}))


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; one-line ``InputError`` on any problem."""
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a mapping with a 'columns:' section")
    try:
        return Mapping.model_validate(data)
    except ValidationError as e:
        raise validation_to_input_error(e, path, data, lines, Mapping) from None
