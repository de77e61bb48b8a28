"""Dashboard widgets as staff see them: count charts (biggest first, a band and label per category)
and the item table's 倾向 column."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from ui.widgets import bar_chart, table_frame

FRAME = pd.DataFrame({"source": ["21ic电子网", "网易号", "中国新闻网", "微信公众号", "hfiplaw.cn"],
                      "count": [1, 12, 2, 6, 3], "negative": [1, 5, 0, 4, 0]})


@pytest.mark.parametrize("horizontal", [True, False])
def test_both_layers_share_one_order_biggest_first(horizontal):
    spec = bar_chart(FRAME, "source", "信息源", horizontal=horizontal).to_dict()
    channel = "y" if horizontal else "x"
    orders = [layer["encoding"][channel]["sort"] for layer in spec["layer"]]
    assert orders[0] == orders[1] == ["网易号", "微信公众号", "hfiplaw.cn", "中国新闻网", "21ic电子网"]


def test_horizontal_bars_get_a_band_each_and_every_label():
    spec = bar_chart(FRAME, "source", "信息源").to_dict()
    assert spec["height"] == {"step": 22}
    axis = spec["layer"][0]["encoding"]["y"]["axis"]
    assert axis["labelOverlap"] is False


def test_the_chart_renders_offline():
    vlc = pytest.importorskip("vl_convert", reason="vl-convert-python is not installed")
    png = vlc.vegalite_to_png(json.dumps(bar_chart(FRAME, "source", "信息源").to_dict()))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


def test_an_off_topic_item_reads_as_such_not_by_its_tone():
    rows = pd.DataFrame({
        "published_at": pd.to_datetime(["2026-11-20 09:00", "2026-11-20 10:00", "2026-11-20 11:00"]),
        "published_estimated": [False, True, False],
        "title": ["旺角烧烤餐厅疑食物中毒", "合肥专利维权难", "原创作品被搬运"],
        "source": ["香港01", "网易号", "论坛"], "platform": ["news", "news", "forum"],
        "polarity": ["negative", "negative", "neutral"], "negative": [False, True, False],
        "p_negative": [0.0, 0.9, 0.4], "ip_type": ["其他", "专利", "著作权"], "region": ["", "安徽合肥", ""],
        "is_sample": [False, False, False],
        "url": ["https://a.example.cn/1", "javascript:alert(1)", "https://a.example.cn/3"],
        "topic": ["off", "ip", "ip"], "suspect": pd.array([False, False, True], dtype="boolean")})
    t = table_frame(rows)
    assert list(t["倾向"]) == ["无关话题", "负面", "中性（疑似负面）"]      # the store's 疑似 column decides
    assert t["链接"].iloc[0] == "https://a.example.cn/1" and t["链接"].iloc[1] == ""   # javascript: is no link
    assert list(t.columns[:4]) == ["发布时间", "标题", "链接", "倾向"] and "示例" not in t.columns
    assert "示例" in table_frame(rows.assign(is_sample=[True, False, False])).columns


def test_trend_chart_has_a_band_per_day_labelled_under_its_bar():
    """Days are bands labelled under their own bar (a time axis put the last bar under tomorrow's date); a day
    with nothing collected keeps its empty band; long ranges show about 15 labels."""
    import pandas as pd

    from ui.widgets import trend_chart
    frame = pd.DataFrame({"day": pd.to_datetime(["2026-11-20", "2026-11-20", "2026-11-23"]),
                          "polarity": ["negative", "neutral", "positive"], "count": [3, 5, 2]})
    spec = trend_chart(frame).to_dict()
    x = spec["encoding"]["x"]
    assert x["type"] == "ordinal"
    assert x["scale"]["domain"] == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    assert x["axis"]["values"] == x["scale"]["domain"]
    year = pd.DataFrame({"day": pd.date_range("2025-11-28", "2026-11-27", freq="D"), "polarity": "neutral",
                         "count": 1})
    labels = trend_chart(year).to_dict()["encoding"]["x"]["axis"]["values"]
    assert 12 <= len(labels) <= 16 and labels[0] == "2025-11-28"


def test_a_flat_change_is_said_without_an_arrow():
    from ui.widgets import _arrow, change
    assert (change(0.004), _arrow(0.004)) == ("持平 较上期", "off")
    assert (change(-0.004), _arrow(-0.004)) == ("持平 较上期", "off")
    assert (change(0.31), _arrow(0.31)) == ("+31% 较上期", "auto")
    assert change(None) is None


def test_story_trend_has_zero_days_and_whole_number_ticks():
    import pandas as pd

    from ui.widgets import story_trend_chart
    daily = pd.DataFrame({"story_id": [7, 7, 9], "day": ["2026-11-20", "2026-11-23", "2026-11-21"],
                          "count": [2, 1, 4]})
    chart = story_trend_chart(daily, {7: "合肥查处商标侵权案", 9: "芜湖专利纠纷"})
    data = chart.data
    assert len(data) == 8                                   # 2 stories x 4 days
    seven = data[data["story_id"] == 7].sort_values("日期")["count"].tolist()
    assert seven == [2, 0, 0, 1] and set(data["事件"]) == {"合肥查处商标侵权案", "芜湖专利纠纷"}
    y = chart.to_dict()["encoding"]["y"]["axis"]
    assert y["tickMinStep"] == 1 and y["format"] == "d"
