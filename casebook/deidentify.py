"""De-identification check: find what a release must not print and propose the conventional form.

Natural persons become 张某某, infringing companies 温州某公司, ID and phone
numbers are withheld. This is a heuristic (a surname list plus the words around
a name), so it proposes and the editor decides: each flag is applied, edited away
or explicitly waived; publication waits for all of them. After a role word (被告人, 联系人 …), in a list
after a name, or before a gender/birth-year bracket, a word that can also be an everyday word (高峰, 汪洋,
文静) is taken as a name; in running text without such a cue it is not (高峰期, 汪洋大海).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

import jieba
import jieba.posseg

from casebook.models import PUBLISHED_TEXT

# Common single-character surnames (roughly the 300 most frequent) and the compound ones.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
    "莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪"
    "梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简"
    "车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄"
    "丛仲虞敖巩明佘池查麻苑迟邝封谈匡鞠惠荆乐冀郁胥南班储栗燕楚鄢劳谌奚皮粟冼蔺楼满闻位厉伊仝郜阚"
    "花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿狄计索宣晋初云容敬扈晁芮都阙浦戈伏鹿薄邸雍辜羊乌母裘亓修"
    "邰赫杭况宿鲜印逯隆茹诸战慕危银亢嵇湛宾戎勾茅利於揭干尉冶束檀衣昝幸奉植衡富尧闭")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
                     "宇文", "司徒", "夏侯", "令狐", "端木", "独孤")

# Words that name a party or a contact: a surname-led string right after one is a name even when it is
# also an everyday word (被告人高峰, 联系人：陈建国), unless it is clearly not one (see _name_at).
ROLE_WORDS = ("判处", "犯罪嫌疑人", "被上诉人", "被申请人", "被请求人", "实际控制人", "法定代表人", "专利权人",
              "品种权人", "著作权人", "商标权人", "被告人", "嫌疑人", "当事人", "上诉人", "申请人", "请求人",
              "权利人", "负责人", "经营者", "被害人", "原告", "被告", "店主", "主犯", "从犯", "证人",
              "联系人", "举报人", "投诉人", "报案人")
# Words that describe a person: a name directly after them must also read as a name on its own.
PERSON_NOUNS = ("经营户", "个体户", "业主", "股东", "员工", "男子", "女子", "村民", "作者", "摄影师", "网友",
                "主播", "博主")
# What a person does right after being named: a name ends right before one of these.
NAME_VERBS = ("等人", "诉", "犯", "因", "被", "系", "涉嫌", "销售", "销往", "利用", "伙同", "通过", "未经", "擅自",
              "明知", "获利", "有期", "判处", "并处", "确认", "侵害", "侵犯", "非法", "协助", "帮助", "受", "自", "运营",
              "制售", "制造", "生产", "委托", "网购", "购买", "购进", "经营", "负责", "组织", "招募", "雇佣", "父子",
              "夫妇", "兄弟", "母子", "父女", "个人", "开设", "注册", "设立", "租用", "搭建", "架设", "在", "于",
              "将", "从", "向", "以", "为首", "拒不", "到案", "投案", "供述", "辩称", "称", "表示", "提出", "败诉",
              "胜诉", "投诉", "起诉", "反映")
# Two-character words that, right after a one-character given name, show the name ends there.
_SHORTENING = tuple(v for v in NAME_VERBS if len(v) > 1) + ("予以",)
# Anything that may follow a name (after a role word, punctuation too).
AFTER_NAME = NAME_VERBS + ("等", "与", "和", "及", "对", "为", "已", "是", "的", "了", "（", "(", "，", "。", "、",
                           "；", "：", ",", ";", ":", " ", "\n")
_AFTER_CHARS = set("等诉犯因被系将在于与和及对从为以已是的了（(，。、；：,;: \n自并")
# Characters that end a run of text before a name or company (never part of one).
_BOUNDARY = set("，。；：、（）()“”\"'‘’《》 \n\t:,;！？!?【】[]—-")
_COMPANY_STOP = set("，。；：、（）()“”\"'‘’《》 \n\t:,;！？!?【】[]的与和及对在向由将等从为了并其是把就也均共")
# Characters that practically never occur in a given name but often follow a surname-like
# character in ordinary words (单位, 索赔, 柯桥店 …).
NON_NAME_CHARS = set("店位赔司局院厂市县区省部门品方面家业务权益法律案件罪类型号码产商标利益额款金值数量"
                     "先女席却又也就都还才上下内外")
# A description ("一家河南种业公司", "蚌埠一笔业公司") is not a name.
_DESCRIPTION = re.compile(r"[一两三四五六七八九十多该各其此](?:家|间|个|名)?")

# Before a company name: the company is the infringing party.
INFRINGER_WORDS = ("被申请人", "被请求人", "被上诉人", "被告", "被诉", "当事人", "侵权人", "涉案", "查处",
                   "查办", "处罚", "诉", "涉嫌", "违法", "犯罪单位", "被告单位")
# Party words that do not make a company the infringer (rights holders, appellants either way).
NEUTRAL_PARTY_WORDS = ("上诉人", "原告", "申请人", "请求人", "权利人", "专利权人", "商标权人", "著作权人", "品种权人",
                       "委托", "授权", "许可", "侵犯", "侵害", "假冒", "仿冒", "冒用")
PARTY_WORDS = INFRINGER_WORDS + NEUTRAL_PARTY_WORDS
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "分公司", "公司", "商行", "经营部", "商店",
                    "门市部", "工作室", "合作社", "厂", "店")
PLACES = ("北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽",
          "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃",
          "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
          "合肥", "芜湖", "蚌埠", "淮南", "马鞍山", "淮北", "铜陵", "安庆", "黄山", "滁州", "阜阳", "宿州",
          "六安", "亳州", "池州", "宣城", "广州", "深圳", "珠海", "东莞", "佛山", "汕头", "温州", "杭州", "宁波",
          "义乌", "金华", "台州", "绍兴", "嘉兴", "湖州", "南京", "苏州", "无锡", "常州", "南通", "扬州", "徐州",
          "泉州", "厦门", "福州", "莆田", "晋江", "武汉", "长沙", "郑州", "济南", "青岛", "临沂", "成都", "西安",
          "沈阳", "大连", "哈尔滨", "长春", "石家庄", "太原", "南昌", "南宁", "昆明", "贵阳", "兰州", "乌鲁木齐",
          "海口", "三亚", "呼和浩特", "银川", "西宁", "拉萨", "昌吉", "宜春", "泰兴", "淮安")

# A surname character plus the next one that jieba counts this often is an ordinary word, not a name.
COMMON_WORD_FREQ = 50
# After a role word such a word still reads as a name when jieba tags it as a person or place name
# (高峰, 李娜, 王国庆; places themselves are refused by name) or as a rare noun (文静); verbs, adverbs,
# adjectives, numerals … (明知, 曾经, 严重) and commoner nouns (全部, 肖像, 商标) never start a name.
_NAME_LIKE_TAGS = ("nr", "nrfg", "nrt", "ns")
_RARE_NOUN_TAGS = ("n", "nz")
RARE_NOUN_FREQ = 200
# Everyday words jieba tags as names that follow party words: "未经专利权人许可".
NOT_NAMES = ("许可", "许诺", "明白", "任凭", "顾问")
# After a name-like string: it names an organisation or a place (原告高峰（合肥）有限公司, 华为等单位, 黄山市).
_ORG_OR_PLACE_AFTER = re.compile(r"等?(?:[（(][^）)]{1,10}[）)])?(?:有限|公司|集团|股份|单位|企业|商行|经营部|门市部"
                                 r"|工作室|合作社|厂|店)|[省市县区镇乡村州]")
# After a name, what only people have: gender or year of birth ("李四（男，1985年生）", "李四，女，汉族"),
# a head count or a family ("汪洋等人", "高峰等三人", "高峰父子").
_PERSONAL_DETAILS = re.compile(r"\s*(?:[（(]\s*(?:[男女]\s*[，,、）)]|\d{4}\s*年)|[，,]\s*[男女]\s*[，,、；;。])"
                               r"|等人|等[\d一二两三四五六七八九十]+[人名]|父子|夫妇|兄弟|母子|父女|姐妹")

ID_RE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                   r"(?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9])")
# Landlines: 0551-62345678, (0551)62345678, （0551）62345678, and unseparated with a real area code
# (010 and 02x take eight digits, 03xx–09xx seven or eight): 055162345678.
LANDLINE_RE = re.compile(r"(?<![0-9])(?:0\d{2,3}[- ]|[（(]0\d{2,3}[)）] ?-?)\d{7,8}(?![0-9])"
                         r"|(?<![0-9A-Za-z])(?:0(?:10|2\d)\d{8}|0[3-9]\d{9,10})(?![0-9A-Za-z])")
_CJK = re.compile(r"[\u4e00-\u9fff]")

KIND_LABELS = {"person": "自然人姓名", "id_number": "身份证号码", "phone": "电话号码", "company": "侵权企业名称"}


@dataclass(frozen=True)
class Flag:
    field: str
    kind: str
    text: str
    suggestion: str
    start: int

    def as_dict(self) -> dict:
        return asdict(self)


def _surname_len(s: str) -> int:
    """Length of the surname `s` starts with (2 for 欧阳…, 1 for 张…, 0 when none)."""
    if s[:2] in COMPOUND_SURNAMES:
        return 2
    return 1 if s[:1] in SURNAMES else 0


def _ends_name(rest: str) -> bool:
    """True when `rest` (the text after a candidate) may follow a name: a name-ending word, punctuation, an emoji."""
    return rest == "" or rest.startswith(AFTER_NAME) or _is_symbol(rest[0])


def _is_symbol(ch: str) -> bool:
    """Emoji and other symbols (😀, ☎, ★), with the joiners and variation selectors emoji are written with."""
    return unicodedata.category(ch).startswith("S") or ch in "\u200d\ufe0f"


def _skip_symbols(s: str) -> str:
    i = 0
    while i < len(s) and _is_symbol(s[i]):
        i += 1
    return s[i:]


def _name_at(text: str, i: int, cued: bool = False) -> str:
    """The person's name starting at `i`, or '' when the characters there do not read as one.

    `cued`: a role word (被告人, 联系人 …) or the person's details show a name stands here, so an everyday
    word (高峰, 汪洋, 王国) does not stop it (_may_start_name), unless the name is a place or an
    organisation's (黄山, 华为等单位, 高峰（合肥）有限公司)."""
    sl = _surname_len(text[i:i + 2])
    if not sl:
        return ""
    given = ""
    for ch in text[i + sl:i + sl + 2]:
        if not _CJK.match(ch) or ch in _AFTER_CHARS:
            break
        given += ch
    if not given or "某" in given or "氏" in given or given[0] in NON_NAME_CHARS:
        return ""
    if len(given) == 2 and (given[1] in NON_NAME_CHARS or
                            text[i + sl + 1:].startswith(_SHORTENING)):
        given = given[:1]
    word = text[i:i + sl + 1]
    if _is_common_word(word) and not (cued and _may_start_name(word)):
        return ""
    name = text[i:i + sl] + given
    # A two-character given name is only taken when what follows ends a name.
    if len(given) == 2 and not _ends_name(text[i + len(name):]):
        name = name[:-1]
        if not _ends_name(text[i + len(name):]):
            return ""
    elif len(given) == 1 and not _ends_name(text[i + len(name):]):
        return ""
    if cued and (name in PLACES or word in PLACES or _ORG_OR_PLACE_AFTER.match(text, i + len(name))):
        return ""
    return name


def _may_start_name(word: str) -> bool:
    """After a role word: may this everyday word (a surname and one more character) begin a name?"""
    if word in NOT_NAMES:
        return False
    tag = _word_tags().get(word, "")
    return tag in _NAME_LIKE_TAGS or (tag in _RARE_NOUN_TAGS and _word_freq().get(word, 0) < RARE_NOUN_FREQ)


_PERSON_AFTER = re.compile("|".join([r"等[\d一二两三四五六七八九十]+[人名]", r"[（(，,][男女]"] +
                                    [re.escape(v) for v in NAME_VERBS]))
# Words after which a name may start (besides punctuation): 判处张某, 受李某委托, 天津谭某运营….
_NAME_PREFIXES = ("诉", "与", "和", "及", "判处", "受", "以", "对", "由", "帮助", "将", "伙同", "协助")
# Between two names of a list: "被告人王国庆、高明亮", "李强（男，1985年生）、高明亮".
_LIST_JOINERS = "、和及"
_BRACKETED = re.compile(r"[（(][^（）()]{0,30}[）)]")


def _is_common_word(s: str) -> bool:
    """True for everyday words that begin with a surname character (明确, 查获, 车主, 安徽 …)."""
    return _word_freq().get(s, 0) >= COMMON_WORD_FREQ


@lru_cache(maxsize=1)
def _word_freq() -> dict[str, int]:
    # jieba's general dictionary, loaded on first use (about a second); only looked up, never modified.
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.check_initialized()
    return jieba.dt.FREQ


@lru_cache(maxsize=1)
def _word_tags() -> dict[str, str]:
    # The part of speech of each word of the same dictionary (nr person, ns place, v verb …).
    _word_freq()
    return jieba.posseg.dt.word_tag_tab


def _starts_after_boundary(text: str, i: int) -> bool:
    if i == 0 or text[i - 1] in _BOUNDARY or _is_symbol(text[i - 1]) or text[:i].endswith(_NAME_PREFIXES):
        return True
    head = re.sub(r"[省市县区]$", "", text[max(0, i - 5):i])
    return head.endswith(PLACES)


def find_persons(text: str) -> list[tuple[int, str]]:
    found: dict[int, str] = {}
    ends: set[int] = set()      # where a found name, or the bracket right after it, ends

    def add(i: int, name: str) -> None:
        found[i] = name
        ends.add(i + len(name))
        if m := _BRACKETED.match(text, i + len(name)):
            ends.add(m.end())

    # 1. after a role word: "被告人王群犯…", "专利权人王群诉…", "联系人：陈建国"; after a word for a person
    #    the name must read as one by itself: "男子吴军销售…".
    for words, cued in ((ROLE_WORDS, True), (PERSON_NOUNS, False)):
        for role in words:
            for m in re.finditer(re.escape(role) + r"[：:]?\s*", text):
                i = m.end()
                if i not in found and (name := _name_at(text, i, cued)):
                    add(i, name)
    # 2. at a clause start and followed by a name-ending word: "吴军销售…", "蔡新光诉…", "…诉余一中确认…",
    #    or by the person's details: "李四（男，1985年生）", or in a list right after another name:
    #    "张伟、李娜等3人", "被告人王国庆、高明亮".
    for i in range(len(text)):
        if i in found or not _starts_after_boundary(text, i):
            continue
        name = _name_at(text, i, cued=True)
        listed = i - 1 in ends and text[i - 1] in _LIST_JOINERS
        if not (name and (listed or _PERSONAL_DETAILS.match(text, i + len(name)))):
            name = _name_at(text, i)
            if not (name and _PERSON_AFTER.match(_skip_symbols(text[i + len(name):]))):
                continue
        add(i, name)
    return sorted(found.items())


def person_suggestion(name: str) -> str:
    return name[:_surname_len(name)] + "某某"


def _company_start(text: str, end_of_core: int) -> int:
    i = end_of_core
    while i > 0 and text[i - 1] not in _COMPANY_STOP and end_of_core - i < 30:
        i -= 1
    return i


def _last_party_word(run: str) -> tuple[int, str]:
    """End position and text of the rightmost party word in `run` (longest wins at the same end)."""
    best = (0, "")
    for w in PARTY_WORDS:
        j = run.rfind(w)
        if j >= 0 and (j + len(w) > best[0] or (j + len(w) == best[0] and len(w) > len(best[1]))):
            best = (j + len(w), w)
    return best


# A company opening a clause is the infringer when the sentence goes on to say it was punished, the passive
# of "查处…公司": "…华强贸易有限公司销售…，被合肥市市场监管局查处". `before` must not name another company.
_PUNISHED_LATER = re.compile(r"(?P<before>[^。；！？;!?]{0,80}?)被[^，。；！？,;!?]{0,25}?"
                             r"(?:查处|查办|处罚|立案|罚款|起诉|判处|判令|责令|没收|吊销)")
_COMPANY_WORD = re.compile(r"公司|商行|经营部|门市部|工作室|合作社")      # not 店, 厂 (门店, 厂商)
_SOME_COMPANY = re.compile(r"[一两几多这那该此每]家|[这那]个")
_CLAUSE_START = set("，。；：,;:！？!?\n\t ）)】]")


def _punished_later(text: str, start: int, end: int) -> bool:
    """Whether the company text[start:end] opens a clause and the sentence says it was punished."""
    name = text[start:end]
    if (start > 0 and text[start - 1] not in _CLAUSE_START) or not _COMPANY_WORD.search(name[-3:]) \
            or _SOME_COMPANY.search(name):
        return False
    m = _PUNISHED_LATER.match(text, end)
    return bool(m) and not _COMPANY_WORD.search(m.group("before"))


def find_companies(text: str) -> list[tuple[int, str]]:
    """Company names in an infringer position (after 被告, 被请求人, 当事人, 查处 …, after 诉, or the subject
    of a clause that says it was 被…查处)."""
    out: dict[int, str] = {}
    suffix_re = re.compile("|".join(re.escape(s) for s in COMPANY_SUFFIXES))
    for m in suffix_re.finditer(text):
        start = _company_start(text, m.start())
        run = text[start:m.end()]
        cut, word = _last_party_word(run[:-len(m.group(0))])
        if word:
            name, start = run[cut:], start + cut
        else:
            name = run
            before = text[max(0, start - 8):start].rstrip("：: ")
            word = next((w for w in sorted(PARTY_WORDS, key=len, reverse=True) if before.endswith(w)), "")
        name = name.lstrip("：: ")
        core = name[:-len(m.group(0))]
        if len(core) < 2 or re.search(r"[某我该本][^\u4e00-\u9fff]*$|[A-Za-z]|^[我该本]", core) \
                or "某" in name or not _CJK.match(core[0]):
            continue
        if _DESCRIPTION.search(core[:4]):
            continue
        if word in INFRINGER_WORDS or (not word and _punished_later(text, start, m.end())):
            out.setdefault(start, name)
    return sorted(out.items())


def company_suggestion(name: str) -> str:
    place = ""
    m = re.match(r"([\u4e00-\u9fff]{2,4}?(?:省|自治区|市|县|区))", name)
    if m and m.group(1)[:-1] in PLACES or (m and len(m.group(1)) <= 4):
        place = m.group(1)
    else:
        for p in sorted(PLACES, key=len, reverse=True):
            if name.startswith(p):
                place = p
                break
    kind = next((s for s in ("经营部", "商行", "门市部", "工作室", "合作社", "商店", "厂", "店")
                 if name.endswith(s)), "公司")
    return f"{place}某{kind}"


def _mask_phone(s: str) -> str:
    digits = re.sub(r"\D", "", s)[-11:]      # without the country code (+86, 0086)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 11 else "（电话号码略）"


def scan_text(text: str, field: str = "") -> list[Flag]:
    """Every flag in one text, in order of position; the same text is flagged once."""
    text = text or ""
    flags: list[Flag] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, s: str, suggestion: str) -> None:
        if any(a < start + len(s) and start < b for a, b in taken):
            return
        taken.append((start, start + len(s)))
        flags.append(Flag(field, kind, s, suggestion, start))

    for m in ID_RE.finditer(text):
        add("id_number", m.start(), m.group(0), "（身份证号码略）")
    for m in MOBILE_RE.finditer(text):
        add("phone", m.start(), m.group(0), _mask_phone(m.group(0)))
    for m in LANDLINE_RE.finditer(text):
        add("phone", m.start(), m.group(0), "（电话号码略）")
    for start, name in find_companies(text):
        add("company", start, name, company_suggestion(name))
    for start, name in find_persons(text):
        add("person", start, name, person_suggestion(name))
    seen, out = set(), []
    for f in sorted(flags, key=lambda f: f.start):
        if f.text not in seen:
            seen.add(f.text)
            out.append(f)
    return out


def scan_case(case: dict, fields: tuple[str, ...] = PUBLISHED_TEXT) -> list[Flag]:
    out: list[Flag] = []
    for f in fields:
        out += scan_text(str(case.get(f) or ""), f)
    return out


def apply_suggestion(text: str, original: str, suggestion: str) -> str:
    """Every occurrence of `original` replaced; a no-op when it is no longer there."""
    return (text or "").replace(original, suggestion)
