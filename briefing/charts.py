"""The briefing's charts: Altair specs (also shown on the 周报 page) and PNG files made offline by vl-convert.

The Chinese font is named explicitly, with fallbacks, so the PNG does not
depend on which CJK font the system happens to list first. A machine without
any of them renders boxes instead of characters: install fonts-noto-cjk.
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import vl_convert

FONT = "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, Microsoft YaHei, SimHei, sans-serif"
POLARITY_LABELS = {"negative": "负面", "neutral": "中性", "positive": "正面"}
POLARITY_COLORS = {"负面": "#d62728", "中性": "#9e9e9e", "正面": "#2ca02c"}
BAR_COLOR = "#4c78a8"
WIDTH = 520
SCALE = 2


def _style(chart: alt.Chart, title: str) -> alt.Chart:
    return chart.properties(title=alt.TitleParams(title, fontSize=15), width=WIDTH).configure(
        font=FONT, background="white").configure_axis(labelFontSize=12, titleFontSize=12).configure_legend(
        labelFontSize=12, titleFontSize=12).configure_view(stroke=None)


def trend_chart(trend: pd.DataFrame, title: str = "每日信息量及倾向") -> alt.Chart:
    """Stacked daily bars by polarity (`trend`: day, polarity, count)."""
    data = trend.assign(倾向=trend["polarity"].map(lambda p: POLARITY_LABELS.get(p, str(p))),
                        日期=trend["day"].dt.strftime("%m-%d"))
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("日期:O", title="日期", axis=alt.Axis(labelAngle=0 if len(data) <= 3 * 16 else -45)),
        y=alt.Y("count:Q", title="信息量（条）", stack=True, axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("倾向:N", title="倾向", scale=alt.Scale(domain=list(POLARITY_COLORS),
                                                              range=list(POLARITY_COLORS.values()))),
        order=alt.Order("倾向:N"),
    ).properties(height=220)
    return _style(chart, title)


def bar_chart(frame: pd.DataFrame, field: str, title: str, axis_title: str, limit: int = 16) -> alt.Chart:
    """Horizontal bars of `count` by `field`, largest first."""
    data = frame[[field, "count"]].head(limit)
    chart = alt.Chart(data).mark_bar(color=BAR_COLOR).encode(
        y=alt.Y(f"{field}:N", title=axis_title, sort="-x", axis=alt.Axis(labelOverlap=False, labelLimit=160)),
        x=alt.X("count:Q", title="信息量（条）", axis=alt.Axis(tickMinStep=1, format="d")),
    ).properties(height=alt.Step(20))   # a band per bar: a fixed height was squeezed when the page resized it
    text = chart.mark_text(align="left", dx=3, fontSize=11).encode(text="count:Q")
    return _style(alt.layer(chart, text), title)


def to_png(chart: alt.Chart) -> bytes:
    """The chart as a PNG (twice the nominal size, sharp in print), rendered without a browser or network."""
    return vl_convert.vegalite_to_png(chart.to_json(), scale=SCALE)
