"""Figures for the dashboard and exported reports (labelled axes, units, legends).

Plotly figures, except the first page's (``practice``): Vega-Lite specs, which Chromium draws faster.
"""
