"""The Judge on real text: tagging, the negative/publicity split, and hostile input."""
from __future__ import annotations

import pytest

from sentiment import IP_TYPES, POLARITIES, CHANNELS, Judgement, load_judge
from sentiment.text import clean


@pytest.fixture(scope="module")
def judge():
    return load_judge()


def _valid(j: Judgement) -> None:
    assert isinstance(j.negative, bool)
    assert 0.0 <= j.p_negative <= 1.0
    assert j.polarity in POLARITIES
    assert j.topic in ("ip", "off")
    assert j.ip_type in IP_TYPES
    assert j.channel in CHANNELS
    assert all(isinstance(r, str) and r for r in j.reasons)
    if j.topic == "off":
        assert not j.negative
    if j.negative:
        assert j.polarity == "negative"


def test_load_judge_is_cached_per_process(judge):
    assert load_judge() is judge


def test_complaint_is_negative_with_readable_reasons(judge):
    j = judge.judge("网文作者：盗版网站屡禁不止，维权难", "作家吐槽自己的小说被盗版网站搬运，投诉多次无果，平台无人管。")
    _valid(j)
    assert j.negative and j.topic == "ip" and j.ip_type == "著作权"
    assert j.p_negative >= 0.5
    assert any("屡禁不止" in r or "维权难" in r or "盗版" in r for r in j.reasons)


def test_enforcement_publicity_is_not_negative(judge):
    j = judge.judge("合肥海关查获侵权商品1.2万件", "近日，合肥海关在出口货物中查获假冒注册商标的运动鞋1.2万双，涉案金额30万元，已依法扣留。")
    _valid(j)
    assert not j.negative
    assert j.polarity in ("neutral", "positive")
    assert j.channel == "海关"
    assert (j.province, j.city) == ("安徽", "合肥")


def test_off_topic_is_never_flagged(judge):
    for title, text in [("合肥发布暴雨黄色预警", "受强对流影响，今明两天我市有强降雨，市民出行注意安全。"),
                        ("物业无故停电，业主投诉无门", "小区物业无故停电三天，业主多次投诉无人管，十分愤怒。")]:
        j = judge.judge(title, text)
        _valid(j)
        assert j.topic == "off" and not j.negative and j.p_negative <= 0.1


def test_region_maps_counties_to_anhui_cities(judge):
    assert judge.judge("", "泾县宣纸地理标志保护").region == "安徽宣城"
    assert judge.judge("", "肥西县市场监管局开展商标专项检查").region == "安徽合肥"
    assert judge.judge("", "杭州互联网法院审理一起著作权纠纷").province == "浙江"
    assert judge.judge("", "國家知識產權局發布商標審查數據").region == ""


@pytest.mark.parametrize("text, ip_type", [
    ("国家知识产权局发布发明专利授权数据", "专利"),
    ("某公司商标遭恶意抢注", "商标"),
    ("剑网行动打击网络侵权盗版", "著作权"),
    ("套牌销售玉米种子，侵害植物新品种权", "植物新品种"),
    ("五常大米地理标志产品保护", "地理标志"),
    ("前员工窃取公司商业秘密被判刑", "商业秘密"),
    ("集成电路布图设计专有权纠纷", "集成电路布图设计"),
])
def test_ip_type_by_dictionary(judge, text, ip_type):
    j = judge.judge("", text)
    assert j.ip_type == ip_type
    assert j.ip_types[0] == ip_type


def test_traditional_text_judged_like_simplified(judge):
    simp = judge.judge("盗版网课泛滥 维权难", "动辄上万元的网课，在网络上只需几十元便可购得，作者投诉无门。")
    trad = judge.judge("盜版網課泛濫 維權難", "動輒上萬元的網課，在網絡上只需幾十元便可購得，作者投訴無門。")
    _valid(trad)
    assert trad.negative == simp.negative and trad.ip_type == simp.ip_type
    assert abs(trad.p_negative - simp.p_negative) < 0.1


def test_pinyin_glosses_are_read_as_the_plain_text(judge):
    # Mirror sites gloss characters with pinyin ("商(shāng)标"); read raw, the gloss splits 商标 apart.
    plain = judge.judge("商标被抢注后维权难", "地理标志产品被抢注的现象仍然时有发生,企业投诉无门。")
    glossed = judge.judge("商(shāng)标被抢注后维权难", "地理标(biāo)志产(chǎn)品被抢注的现象仍然时有(yǒu)发生,企业投诉无门。")
    assert glossed == plain
    assert "地理标志" in glossed.ip_types


@pytest.mark.parametrize("raw, cleaned", [
    ("碭山酥梨為特產(chǎn),中國國家地理標(biāo)志產(chǎn)品", "砀山酥梨为特产,中国国家地理标志产品"),
    ("全角括号 現（xiàn）在", "全角括号 现在"),
    # Not glosses: Latin words, abbreviations, list letters and numbers in brackets stay.
    ("华为(Huawei)与某公司(LTD)条款(a)第(3)项", "华为(Huawei)与某公司(LTD)条款(a)第(3)项"),
    ("(xiàn) at the start has no character to gloss", "(xiàn) at the start has no character to gloss"),
])
def test_clean_drops_pinyin_glosses_only(raw, cleaned):
    assert clean(raw) == cleaned


@pytest.mark.parametrize("title, text", [
    ("", ""), (None, None), ("   ", "\n\t"), ("！？。，……", "——“”（）"), ("", "😀😡👍🔥"),
])
def test_nothing_to_judge_gives_defined_neutral_result(judge, title, text):
    j = judge.judge(title, text)
    _valid(j)
    assert (j.negative, j.p_negative, j.polarity, j.topic) == (False, 0.0, "neutral", "off")
    assert j.reasons


def test_hostile_text_never_raises(judge):
    cases = [
        ("<script>alert('x')</script><b>盗版</b>猖獗", "<p>网友&amp;作者投诉：盗版<i>泛滥</i></p><img src=x onerror=1>"),
        ("Apple起诉某厂商patent infringement", "The court found 专利侵权 and awarded damages of $1M."),
        ("维权难😡😡", "假货泛滥🔥🔥 投诉无门👎"),
        ("bad \ud800 surrogate", "lone \udfff surrogate 盗版"),
        ("标题", "盗版泛滥维权难。" * 15000),        # ~120 KB
        ("\x00\x01控制字符", "\u200b\ufeff零宽字符 商标"),
    ]
    for title, text in cases:
        _valid(judge.judge(title, text))


def test_html_is_stripped_before_judging(judge):
    plain = judge.judge("盗版猖獗", "网友投诉盗版泛滥")
    html = judge.judge("<h1>盗版猖獗</h1>", "<div class='x'>网友投诉<script>var a='查获典型案例';</script>盗版泛滥</div>")
    assert html.p_negative == pytest.approx(plain.p_negative, abs=0.02)


def test_long_text_costs_no_more_than_its_head(judge):
    head = "假冒商标泛滥，消费者投诉无门。"
    j1 = judge.judge("标题", head * 200)
    j2 = judge.judge("标题", head * 20000)
    assert j1 == j2


def test_judge_many_matches_judge(judge):
    pairs = [("查处", "市场监管局查处侵权商品"), ("", "维权难，盗版泛滥"), ("", "")]
    assert judge.judge_many(pairs) == [judge.judge(t, x) for t, x in pairs]


def test_function_words_are_one_style_reason_not_words_a_reader_must_decode(judge):
    """Reasons never say 词「的」: the pushes of function words are summed into one 行文风格 reason;
    a string's word and bigram features are one reason."""
    import json
    import re
    from pathlib import Path

    from sentiment.judge import FUNCTION_CHARS
    rows = [json.loads(line) for line in (Path(__file__).resolve().parent.parent / "data" / "labelled"
                                          / "ip_opinion_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    lone = re.compile("词「([^」])」")
    styled = words_first = 0
    for row in rows:
        j = judge.judge(row.get("title"), row["text"])
        for r in j.reasons:
            m = lone.search(r)
            assert not (m and m.group(1) in FUNCTION_CHARS), (r, row["text"][:60])
        style = [r for r in j.reasons if r.startswith("行文风格")]
        assert len(style) <= 1
        # A string's word and character-bigram features are one reason, not two.
        quoted = re.findall("(?:词|字串)「([^」]+)」", " ".join(j.reasons))
        assert len(quoted) == len(set(quoted)), j.reasons
        styled += bool(style)
        # A reader acts on words: the style reason follows the words and strings chosen with it.
        if style:
            at = j.reasons.index(style[0])
            assert all(k < at for k, r in enumerate(j.reasons) if r.startswith(("词「", "字串「"))), j.reasons
            words_first += any(r.startswith(("词「", "字串「")) for r in j.reasons)
    # The model does lean on style: the reason must show up where it decided, not be dropped.
    assert styled >= len(rows) // 10 and words_first >= styled // 2


def test_a_flag_needs_a_sure_topic_unless_the_text_names_an_ip_wrong_and_complains(judge):
    import math

    import numpy as np

    from sentiment.judge import CLEAR_COMPLAINT_TOPIC_MIN, FLAG_TOPIC_MIN, Gate, decide, gate
    from sentiment.model import COLUMNS, LinearModel
    logit = lambda p: math.log(p / (1 - p))
    m = LinearModel([], np.zeros((0, len(COLUMNS))), np.zeros(len(COLUMNS)),
                    {"negative": [1.0, 0.0], "topic": [1.0, 0.0]}, 0.3)
    z = np.zeros(len(COLUMNS))
    z[0], z[1] = logit(0.9), logit(0.7)          # P(neg | IP) 0.9, P(topic) 0.7: p_negative 0.63
    assert not decide(z, Gate(), m)[0]
    assert decide(z, Gate(flag_min=CLEAR_COMPLAINT_TOPIC_MIN), m)[0]
    assert not decide(z, Gate(blocked=True, flag_min=CLEAR_COMPLAINT_TOPIC_MIN), m)[0]

    text = "消费者投诉假货泛滥，维权难，市场监管部门迟迟没有处理"
    assert gate(judge.analyzer.analyze(None, text)).flag_min == CLEAR_COMPLAINT_TOPIC_MIN
    assert judge.judge(None, text).negative
    # Complaint words without an IP wrong named, or an IP word without complaint: the usual bar.
    assert gate(judge.analyzer.analyze(None, "小区物业服务差，业主投诉无门，问题迟迟没有解决")).flag_min == FLAG_TOPIC_MIN
    assert gate(judge.analyzer.analyze(None, "海关查获一批假冒商标商品")).flag_min == FLAG_TOPIC_MIN


def test_publicity_led_text_needs_a_higher_p_negative_to_be_flagged(judge):
    import math

    import numpy as np

    from sentiment.judge import PUBLICITY_LED_MARGIN, Gate, decide, gate
    from sentiment.model import COLUMNS, LinearModel
    m = LinearModel([], np.zeros((0, len(COLUMNS))), np.zeros(len(COLUMNS)),
                    {"negative": [1.0, 0.0], "topic": [1.0, 0.0]}, 0.3)
    z = np.zeros(len(COLUMNS))
    z[0], z[1] = math.log(0.4 / 0.6), 9.0        # p_negative ~0.4: above 0.3, below 0.3 + margin
    assert decide(z, Gate(), m)[0]
    assert not decide(z, Gate(margin=PUBLICITY_LED_MARGIN), m)[0]

    release = "合肥海关查获侵权商品3万件，法院判处被告人有期徒刑三年并处罚金50万元"
    assert gate(judge.analyzer.analyze(None, release)).margin == PUBLICITY_LED_MARGIN
    # Complaints outweigh the enforcement words: the plain threshold.
    complaint = "网友吐槽：查处了几次，盗版依然泛滥，维权难，投诉无门"
    assert gate(judge.analyzer.analyze(None, complaint)).margin == 0.0


def test_the_judge_scores_features_exactly_as_training_builds_them(judge):
    """The judge scores words, bigrams and cues by their bare keys; training builds a scaled matrix from
    the named features (train._matrix). Over the model's vocabulary both give the same scores."""
    import json
    from pathlib import Path

    import numpy as np

    from sentiment.train import _matrix
    rows = [json.loads(line) for line in (Path(__file__).resolve().parent.parent / "data" / "labelled"
                                          / "ip_opinion_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [(r.get("title"), r["text"]) for r in rows] + [(None, "！！！"), ("Apple", "iPhone 专利 ABC 维权难")]
    m = judge.model
    for title, text in texts:
        a = judge.analyzer.analyze(title, text)
        parts = m.score_parts(a.words, a.bigrams, a.cues)
        x = _matrix([a.features], m.index)
        assert np.allclose(x @ m.weights + m.bias, parts.z, rtol=1e-12, atol=1e-12)
        named = [k for k in a.features if k in m.index]
        assert list(parts.names) == named
        assert np.allclose(parts.contributions, [x[0, m.index[k]] * m.weights[m.index[k], 0] for k in named])


@pytest.mark.parametrize("text,lead", [
    ("视频维权后续:已解决! 前情提要:上周经观众反馈发现视频被搬运", "视频维权后续:已解决!"),
    ("iPhone 15 遭抢注 商标局回应称将依法处理", "iPhone 15 遭抢注"),       # spaces between Latin words stay
    ("记者 张三报道 今日合肥海关查获一批侵权商品", "记者 张三报道"),           # too short a head is skipped
    ("没有空格的整段文字也照常判断", ""),
    ("a b", ""),
])
def test_a_headline_joined_to_its_text_is_read_as_the_title(text, lead):
    from sentiment.text import split_lead
    head, rest = split_lead(text)
    assert head == lead
    assert (head + " " + rest if head else rest) == text       # nothing lost or reordered


def test_text_without_a_title_is_judged_as_with_its_headline_split_off(judge):
    # Exports and the team's files give "标题 正文" as one text: the title cues must still count.
    title = "网友吐槽盗版网课泛滥 维权难"
    body = "多名考研学生反映，花钱买的课程被低价倒卖，向平台投诉多次仍未处理。"
    joined = judge.judge(None, title + " " + body)
    split = judge.judge(title.replace(" ", "，"), body)
    a = judge.analyzer.analyze(None, title + " " + body)
    assert a.title == "网友吐槽盗版网课泛滥"
    assert a.title_tags.stance["complaint"] > 0
    assert joined.negative and split.negative


def test_lead_split_never_raises_and_loses_nothing():
    from hypothesis import given, settings, strategies as st

    from sentiment.text import split_lead

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("盗版维权 ab1!。，") + ["\u3000", "😀"]), max_size=200))
    def check(s):
        head, rest = split_lead(s)
        assert (head + " " + rest if head else rest) == s
    check()
