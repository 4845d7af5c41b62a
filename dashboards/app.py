"""clinicflow dashboard: start with ``clinicflow dashboard`` (bound to localhost by default)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

st.set_page_config(page_title="clinicflow", layout="wide")

PAGES = [
    st.Page(str(HERE / "views" / "practice.py"), title="Practice", default=True),
    st.Page(str(HERE / "views" / "schedule.py"), title="Schedule"),
    st.Page(str(HERE / "views" / "flow.py"), title="Patient flow"),
    st.Page(str(HERE / "views" / "whatif.py"), title="What-if"),
    st.Page(str(HERE / "views" / "noshow.py"), title="No-show analytics"),
    st.Page(str(HERE / "views" / "surgery.py"), title="Surgery"),
]
st.navigation(PAGES).run()
