"""Plotly figures for the dashboard and exported reports (labelled axes, units, legends)."""
