"""总览: tiles, trend and breakdowns; the panels refresh live inside one fragment."""
import streamlit as st

from ui import state, widgets

settings = state.settings()
db = state.db_key(settings)

st.title("总览")
days = widgets.window_picker()


@st.fragment(run_every=settings.refresh_seconds)
def live_panels() -> None:
    widgets.overview_live(settings, db, days)


live_panels()
