"""Exports to the tools a practice already uses: spreadsheets, calendars, the EHR (FHIR)."""
