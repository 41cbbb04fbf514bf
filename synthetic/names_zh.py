"""Chinese words for synthetic data: Shanghai districts, industries, people, banks, the
agencies' offices.

Data only, plus the few helpers that turn it into names and addresses; used by the
generators of `synthetic.meaning_*` and by `synthetic.profile`.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import NamedTuple


class District(NamedTuple):
    name: str
    code: str  # administrative division code (GB/T 2260)
    abbr: str  # one-character abbreviation used in document numbers
    weight: int  # share of the city's registered enterprises, roughly
    roads: tuple[str, ...]

    @property
    def short(self) -> str:
        """`浦东新区` -> `浦东`, as bank branches and courts spell it."""
        return self.name.removesuffix("新区").removesuffix("区")


DISTRICTS: tuple[District, ...] = (
    District("黄浦区", "310101", "黄", 4, ("南京东路", "西藏中路", "淮海中路")),
    District("徐汇区", "310104", "徐", 5, ("漕溪北路", "虹桥路", "宜山路")),
    District("长宁区", "310105", "长", 4, ("天山路", "延安西路", "仙霞路")),
    District("静安区", "310106", "静", 6, ("南京西路", "共和新路", "江场西路")),
    District("普陀区", "310107", "普", 4, ("真北路", "中山北路", "武宁路")),
    District("虹口区", "310109", "虹", 3, ("四川北路", "大连路", "曲阳路")),
    District("杨浦区", "310110", "杨", 4, ("国定路", "黄兴路", "长阳路")),
    District("闵行区", "310112", "闵", 9, ("沪闵路", "七莘路", "虹梅南路")),
    District("宝山区", "310113", "宝", 7, ("沪太路", "牡丹江路", "友谊路")),
    District("嘉定区", "310114", "嘉", 9, ("城北路", "叶城路", "曹安公路")),
    District("浦东新区", "310115", "浦", 20, ("张江路", "世纪大道", "金科路")),
    District("金山区", "310116", "金", 5, ("亭卫公路", "卫零路", "龙胜路")),
    District("松江区", "310117", "松", 8, ("荣乐东路", "文诚路", "广富林路")),
    District("青浦区", "310118", "青", 6, ("外青松公路", "崧泽大道", "诸光路")),
    District("奉贤区", "310120", "奉", 8, ("望园路", "金海公路", "环城东路")),
    District("崇明区", "310151", "崇", 6, ("八一路", "陈海公路", "北沿公路")),
)
DISTRICT_BY_NAME = {d.name: d for d in DISTRICTS}


class Industry(NamedTuple):
    code: str  # GB/T 4754-2017 class
    weight: int
    words: tuple[str, ...]  # what an enterprise name says about its trade
    description: str
    scope: str  # a typical registered business scope


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "I6513",
        8,
        ("信息科技", "网络科技", "软件技术"),
        "应用软件开发",
        "软件开发；信息技术咨询服务；技术服务、技术开发、技术咨询、技术转让",
    ),
    Industry(
        "I6520",
        2,
        ("微电子", "芯片科技"),
        "集成电路设计",
        "集成电路设计；集成电路芯片设计及服务；电子产品销售",
    ),
    Industry(
        "I6531",
        3,
        ("智能科技", "系统集成"),
        "信息系统集成服务",
        "信息系统集成服务；物联网技术服务；计算机软硬件及辅助设备零售",
    ),
    Industry(
        "I6560",
        2,
        ("数据科技", "数字科技"),
        "信息技术咨询服务",
        "信息技术咨询服务；数据处理服务；大数据服务",
    ),
    Industry(
        "M7320",
        2,
        ("生物技术", "新材料科技"),
        "工程和技术研究和试验发展",
        "工程和技术研究和试验发展；新材料技术研发；技术进出口",
    ),
    Industry(
        "M7483",
        2,
        ("工程设计", "建筑设计"),
        "工程设计活动",
        "建设工程设计；工程管理服务；规划设计管理",
    ),
    Industry(
        "L7212", 3, ("投资管理", "资产管理"), "投资与资产管理", "投资管理；资产管理；企业管理咨询"
    ),
    Industry(
        "L7243",
        5,
        ("企业管理咨询", "商务咨询"),
        "社会经济咨询",
        "企业管理咨询；信息咨询服务（不含许可类信息咨询服务）；市场营销策划",
    ),
    Industry(
        "L7251",
        2,
        ("文化传媒", "广告"),
        "互联网广告服务",
        "广告设计、代理；广告制作；广告发布；图文设计制作",
    ),
    Industry(
        "L7281",
        1,
        ("会展服务", "展览服务"),
        "科技会展服务",
        "会议及展览服务；礼仪服务；组织文化艺术交流活动",
    ),
    Industry(
        "F5123",
        2,
        ("农副产品", "果蔬贸易"),
        "果品、蔬菜批发",
        "食用农产品批发；新鲜蔬菜批发；新鲜水果批发；食品销售",
    ),
    Industry("F5132", 2, ("服饰", "服装贸易"), "服装批发", "服装服饰批发；鞋帽批发；针纺织品销售"),
    Industry(
        "F5199",
        7,
        ("贸易", "商贸", "国际贸易", "实业"),
        "其他未列明批发业",
        "货物进出口；技术进出口；日用百货销售；五金产品批发；电子产品销售",
    ),
    Industry("F5211", 1, ("百货", "商业"), "百货零售", "日用百货销售；家居用品销售；化妆品零售"),
    Industry(
        "F5292",
        3,
        ("电子商务",),
        "互联网零售",
        "互联网销售（除销售需要许可的商品）；日用百货销售；食品销售",
    ),
    Industry(
        "F5261", 1, ("汽车销售服务",), "汽车新车零售", "汽车新车销售；汽车零配件零售；二手车经纪"
    ),
    Industry("H6210", 4, ("餐饮管理", "餐饮"), "正餐服务", "餐饮服务；食品销售；餐饮管理"),
    Industry("H6220", 2, ("快餐", "餐饮服务"), "快餐服务", "餐饮服务；小餐饮；食品销售"),
    Industry(
        "G5431",
        2,
        ("物流", "运输"),
        "普通货物道路运输",
        "道路货物运输（不含危险货物）；国内货物运输代理；装卸搬运",
    ),
    Industry(
        "G5821",
        2,
        ("国际货运代理", "供应链管理"),
        "货物运输代理",
        "国际货物运输代理；国内货物运输代理；供应链管理服务",
    ),
    Industry(
        "G5920",
        1,
        ("仓储服务", "仓储"),
        "通用仓储",
        "普通货物仓储服务（不含危险化学品等需许可审批的项目）；装卸搬运；包装服务",
    ),
    Industry(
        "E4790",
        2,
        ("建设工程", "建筑工程"),
        "其他房屋建筑业",
        "建设工程施工；住宅室内装饰装修；建筑劳务分包",
    ),
    Industry(
        "E4910",
        1,
        ("机电安装工程", "电气工程"),
        "电气安装",
        "电气安装服务；建设工程施工；机电设备安装",
    ),
    Industry(
        "E5011",
        2,
        ("装饰工程", "建筑装饰"),
        "公共建筑装饰和装修",
        "住宅室内装饰装修；建筑装饰材料销售；建设工程设计",
    ),
    Industry("K7020", 1, ("物业管理",), "物业管理", "物业管理；停车场服务；家政服务"),
    Industry(
        "K7010", 1, ("置业", "房地产开发"), "房地产开发经营", "房地产开发经营；房地产经纪；物业管理"
    ),
    Industry(
        "C3914",
        1,
        ("自动化科技", "工控技术"),
        "工业控制计算机及系统制造",
        "工业控制计算机及系统制造；工业自动控制系统装置销售；软件开发",
    ),
    Industry(
        "C3976",
        1,
        ("光电科技", "光电子"),
        "光电子器件制造",
        "光电子器件制造；光电子器件销售；电子元器件制造",
    ),
    Industry(
        "C3484",
        2,
        ("机械制造", "精密机械"),
        "机械零部件加工",
        "机械零件、零部件加工；通用设备制造（不含特种设备制造）；五金产品批发",
    ),
    Industry(
        "C3670",
        2,
        ("汽车零部件", "汽车配件"),
        "汽车零部件及配件制造",
        "汽车零部件及配件制造；汽车零配件批发；模具制造",
    ),
    Industry(
        "C2614",
        1,
        ("化工", "化学品"),
        "有机化学原料制造",
        "化工产品生产（不含许可类化工产品）；化工产品销售（不含许可类化工产品）",
    ),
    Industry(
        "C2710", 1, ("医药", "制药"), "化学药品原料药制造", "药品生产；药品批发；医学研究和试验发展"
    ),
    Industry(
        "C2761",
        1,
        ("生物医药", "生物制药"),
        "生物药品制造",
        "药品生产；生物化工产品技术研发；医学研究和试验发展",
    ),
    Industry(
        "C3589",
        1,
        ("医疗器械", "医疗科技"),
        "其他医疗设备及器械制造",
        "第二类医疗器械生产；医疗器械销售；技术服务",
    ),
    Industry(
        "C2319",
        1,
        ("印务", "包装印刷"),
        "包装装潢及其他印刷",
        "包装装潢印刷品印刷；纸制品制造；包装材料及制品销售",
    ),
    Industry(
        "C1810",
        1,
        ("制衣", "服饰制造"),
        "机织服装制造",
        "服装制造；服装服饰批发；针纺织品及原料销售",
    ),
    Industry(
        "A0141",
        1,
        ("农业发展", "农业科技"),
        "蔬菜种植",
        "蔬菜种植；农产品的生产、销售、加工、运输、贮藏及其他相关服务",
    ),
)
INDUSTRY_BY_CODE = {i.code: i for i in INDUSTRIES}

# Common surnames, the most frequent repeated so they come up as often as in life.
SURNAMES = (
    "王王王王李李李李张张张刘刘刘陈陈陈杨杨黄黄赵赵吴吴周周徐徐孙马朱胡郭何高林罗郑梁"
    "谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈沈姚卢姜崔钟谭陆陆汪范"
    "金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾顾毛郝龚邵万钱严武戴莫孔汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红建文辉力鹏斌宇浩凯健俊帆旭宁"
    "龙林欣佳晨颖婷雪琳晶蕾倩洁璐楠立志海峰波东亮成国民永春燕梅兰凤飞彬博轩睿哲昊然涵"
    "琪怡悦嘉子思雨梓诗一天泽"
)
TRADE = (
    "华鑫瑞恒盛嘉宏德丰泰达信诚源新金海天博睿汇通宇晨卓越凯腾锦辰航启致远易智优联创永"
    "昌兴隆安和佳尚品美申浦东方中宁钧弘祥润舜沣澜璟翊昕灏熠琦珂麒骏顺合益星阳光微云峰"
)
SHOPS = {"H": ("餐饮店", "小吃店", "面馆"), "F": ("商行", "便利店", "经营部")}
SHOP_DEFAULT = ("工作室", "服务部")

# Division codes seen in residents' ID numbers: Shanghai (some of them pre-merger codes,
# as older people's numbers keep them) and the provinces most Shanghai residents come from.
BIRTH_AREAS = (
    "310101",
    "310103",
    "310104",
    "310105",
    "310106",
    "310107",
    "310108",
    "310109",
    "310110",
    "310112",
    "310113",
    "310114",
    "310115",
    "310225",
    "310230",
    "320102",
    "320582",
    "321002",
    "330102",
    "330203",
    "330682",
    "340104",
    "350102",
    "360102",
    "370102",
    "410102",
    "420102",
    "430102",
    "510104",
    "230103",
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

BANKS = (
    "中国工商银行股份有限公司上海市{}支行",
    "中国建设银行股份有限公司上海{}支行",
    "中国银行股份有限公司上海市{}支行",
    "中国农业银行股份有限公司上海{}支行",
    "交通银行股份有限公司上海{}支行",
    "上海浦东发展银行股份有限公司{}支行",
    "上海银行股份有限公司{}支行",
    "上海农村商业银行股份有限公司{}支行",
    "招商银行股份有限公司上海{}支行",
    "兴业银行股份有限公司上海{}支行",
)
# Each agency's office for an enterprise's district (`{}`: the district's name). The
# agencies are fixed; their categories are data.
AUTHORITY = {
    "tax": "国家税务总局上海市{}税务局",
    "hrss": "上海市{}人力资源和社会保障局",
    "planning": "上海市{}规划和自然资源局",
    "ecology": "上海市{}生态环境局",
    "housing": "上海市{}建设和管理委员会",
    "market": "上海市{}市场监督管理局",
    "stc": "上海市科学技术委员会",
    "court": "上海市{}人民法院",
}
AUTHORITY_DEFAULT = "上海市{}人民政府"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def resident_id(rng: random.Random, born: dt.date) -> str:
    """An 18-character resident ID number with its ISO 7064 MOD 11-2 check character."""
    body = f"{rng.choice(BIRTH_AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + id_check(body)


def id_check(first17: str) -> str:
    return ID_CHECK[sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def address(rng: random.Random, district: District) -> str:
    road = rng.choice(district.roads)
    suffix = rng.choice(("", "", f"{rng.randint(1, 12)}幢", f"{rng.randint(1, 30)}层"))
    return f"上海市{district.name}{road}{rng.randint(1, 2999)}号{suffix}"


def bank_branch(rng: random.Random, district: District) -> str:
    return rng.choice(BANKS).format(district.short)
