"""Recognise the lines a web page or a PDF adds around a document.

Two strengths are used on purpose:

* ``is_tail_marker`` is strong evidence that the document is over (上一篇, 版权所有,
  ICP备, 分享到...). The parser cuts everything from the first such line after the
  body has started, which also drops whatever the site appended after it.
* ``is_page_chrome`` is weaker: navigation, bylines and counters that may sit above
  the title. Those lines are only skipped, never used to cut.
"""
from __future__ import annotations

import re

# Lines that end the document when they appear after the body has started.
# Anchored patterns describe the whole line's role and are safe at any length.
_TAIL_ANCHORED = [
    r"^[【\[]?\s*(?:上一篇|下一篇|上一条|下一条|上一页|下一页|前一篇|后一篇|上篇|下篇)",
    r"^[【\[]?\s*相关(?:热词|链接|文章|新闻|阅读|推荐|稿件|信息|文件|附件|专题|资讯|解读|内容|搜索)",
    (
        r"^[【\[]?\s*(?:推荐阅读|延伸阅读|猜你喜欢|热门推荐|热点新闻|最新新闻|热门文章|热门视频|热门新闻|精彩推荐|"
        r"精彩图片|图片新闻|网友评论|发表评论|我要评论|我要纠错|网站纠错|更多新闻|更多>>|更多资讯|阅读排行|点击排行|"
        r"今日热点|新闻排行|专题专栏)"
    ),
    r"^[【\[（(]?\s*(?:责任编辑|编辑|审核|审校|校对|终审|初审|来源|供稿|撰稿|作者|信息来源|摄影)\s*[:：]",
    r"^(?:浏览次数|访问量|阅读量|点击量|阅读次数|点击数|浏览量|访问次数)",
    r"^附件\s*(?:\d|[:：]|$|下载|列表)",
    r"^附(?:[:：]|表\s*\d*\s*[:：]?|录\s*[:：]?$)",
    r"^(?:文章来源|稿件来源|信息提供|发布单位|内容来源|新闻来源)\s*[:：]",
    # a line of page buttons: 【打印】【关闭】【纠错】…
    r"^(?:[【\[][^】\]]{1,6}[】\]]\s*){2,}$",
    r"^(?:抄送|抄报|分送)\s*[:：]",
    r"^[（(]?\s*此件.{0,6}公开\s*[）)]?$",
    r"^[（(]\s*联系人",
    r"^(?:联系电话|电话|地址|邮编|邮政编码|传真|联系邮箱|电子邮箱|邮箱)\s*[:：]",
    r"^※",
    r"^[（(][^（）()]{0,30}(?:供稿|供图|通讯员|记者|编辑|摄)[^（）()]{0,12}[）)]$",
    r"^[【\[]?\s*(?:打印|关闭|收藏|分享|返回顶部|打印本页|关闭窗口)\s*[】\]]?$",
]
# Footer tokens that never occur in a plan's own text.
_TAIL_STRONG = [
    r"版权所有|Copyright|©|ICP\s*备|ICP\s*证|公网安备|网站标识码|网站识别码|版权及免责声明",
]
# Tokens that could occur in a measure ("利用微信公众号宣传"): only on short lines.
_TAIL_SHORT = [
    (
        r"版权归|技术支持\s*[:：]|主办单位\s*[:：]|承办单位\s*[:：]|^主办\s*[:：]|^承办\s*[:：]|^维护\s*[:：]|"
        r"免责声明|版权声明|法律声明|隐私政策|分享到|分享至|扫一扫|打印本页|打印此页|打印文章|【\s*打印\s*】|"
        r"【\s*关闭\s*】|关闭窗口|返回顶部|【\s*字体|字号\s*[:：]|收藏本页|加入收藏|设为首页|网站地图|联系我们|"
        r"关于我们|网站声明|使用帮助|免费预览|下载本文档|文档简介|微信公众号|官方微信|官方微博|关注我们|二维码|"
        r"访问量|浏览量|阅读量|浏览次数|当前位置|您的位置"
    ),
]
# A line made only of a page's buttons and widgets ("打印 关闭", "字体：大 中 小", "微信 微博 QQ空间",
# "扫一扫在手机打开当前页", "TOP"), however they are spaced, bracketed or separated.
_FURNITURE_TOKEN = (
    r"(?:我要)?打印(?:本页|此页|本文|文章|页面)?|关闭(?:本页|窗口|页面)?|分享(?:到|至)?|加入收藏|收藏本页|收藏|"
    r"(?:返回|回到)(?:顶部|首页|列表)|顶部|top|字[号体]|大中小|[大中小]字|默认|视力保护色|护眼模式|"
    r"微信(?:好友|朋友圈)?|微博|新浪微博|qq(?:空间|好友)?|扫一扫|扫码阅读|手机扫码|手机阅读|保存|"
    r"(?:扫一扫)?(?:在|用)?手机(?:上)?(?:打开|查看|浏览|阅读)(?:当前|本)页(?:面)?"
)
_FURNITURE_SEPARATORS = re.compile(r"[\s|｜/／:：【】\[\]〔〕（）()<>《》·•×✕↑^+\-—_,，、.。]+")
_FURNITURE_LINE = re.compile(rf"(?:{_FURNITURE_TOKEN})+", re.IGNORECASE)
_TAIL_ANCHORED_RE = re.compile("|".join(f"(?:{p})" for p in _TAIL_ANCHORED), re.IGNORECASE)
_TAIL_STRONG_RE = re.compile("|".join(f"(?:{p})" for p in _TAIL_STRONG), re.IGNORECASE)
_TAIL_SHORT_RE = re.compile("|".join(f"(?:{p})" for p in _TAIL_SHORT), re.IGNORECASE)
SHORT_LINE = 40

# "XX办公室 2023年5月5日印发" closes an official document.
PRINTED_ON = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印发$")

# Navigation, bylines and counters that may sit above the title. The first set is
# specific to page furniture; the generic words only count on very short lines.
_CHROME = re.compile(
    r"网站地图|服务指南|校长信箱|首页|当前位置|您的位置|所在位置|设为首页|加入收藏|无障碍|长者模式|关怀模式|"
    r"关怀版|老年模式|繁體|简体版|APP下载|注册登录|登录注册|用户登录|手机版|客户端|分享到|打印本页|【打印】|"
    r"关闭窗口|【关闭】|字号|【字体|扫一扫|二维码|公众号|上一篇|下一篇|版权|Copyright|©|ICP|公网安备|网站标识码|"
    r"主办单位|承办单位|技术支持|访问量|浏览次数|点击数|点击量|阅读量|阅读次数|责任编辑|信息公开目录|智能问答|政民互动",
    re.IGNORECASE,
)
_CHROME_GENERIC = re.compile(r"搜索|检索|栏目|频道|专题|登录|注册|返回|正文|RSS|订阅|English|更多|导航|菜单", re.IGNORECASE)
_BREADCRUMB = re.compile(r"[>»›→]|&gt;")
_CONTACT = re.compile(r"@[\w.-]+\.[a-z]{2,}|https?://|www\.|\d{3,4}-\d{7,8}|(?<!\d)1[3-9]\d{9}(?!\d)", re.IGNORECASE)

# Page numbers a PDF extraction leaves between pages.
PAGE_NUMBER = re.compile(
    r"^(?:[-—–－·•\s]*\d{1,4}[-—–－·•\s]*|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+|"
    r"(?:page|p\.)\s*\d+(?:\s*of\s*\d+)?)$",
    re.IGNORECASE,
)

# A date alone on its line is a signature date: "2023年5月5日", "二〇二三年五月五日".
DATE_ONLY = re.compile(r"^[（(]?\s*(?:\d{4}|[〇零○一二三四五六七八九]{4})\s*年.{1,6}月.{1,6}日\s*[）)]?$")
# A document number alone on its line: "郎教督〔2023〕3号".
DOC_NUMBER_ONLY = re.compile(r"^[\u4e00-\u9fff]{1,12}\s*[〔\[［(（【﹝]\s*\d{4}\s*[〕\]］)）】﹞]\s*\d+\s*号$")

# Metadata lines of a web page: published time, source, counters... Terms that only
# metadata uses count anywhere; generic words only at the start of a line.
_META_ANYWHERE = re.compile(
    r"(?:发布时间|发布日期|发文日期|成文日期|印发日期|签发日期|更新时间|生成日期|生成时间|索引号|发文字号|发布机构|"
    r"发文机关|发布单位|发文单位|浏览次数|点击数|阅读数|信息来源|主题分类|公开方式|公开范围|信息分类)\s*[:：]"
)
_META_START = re.compile(
    r"^[【\[]?\s*(?:(?:来源|作者|文号|字号|有效性|编辑|撰稿)\s*[:：]|(?:时间|日期)\s*[:：]\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})"
)
DATETIME_IN_LINE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?")


def is_tail_marker(line: str) -> bool:
    """True for a line that only a site's footer or an official document's tail contains."""
    if len(line) <= 300 and (_TAIL_ANCHORED_RE.search(line) or _TAIL_STRONG_RE.search(line)):
        return True
    if len(line) <= SHORT_LINE and (_TAIL_SHORT_RE.search(line) or is_page_furniture(line)):
        return True
    return len(line) <= 80 and bool(PRINTED_ON.search(line))


def is_page_furniture(line: str) -> bool:
    """True for a line of page buttons only: 打印, 关闭窗口, 分享到, 字号 大 中 小, 返回顶部..."""
    bare = _FURNITURE_SEPARATORS.sub("", line)
    return bool(bare) and _FURNITURE_LINE.fullmatch(bare) is not None


def is_page_number(line: str) -> bool:
    """True for a bare page number such as "- 3 -" or "第3页 共10页"."""
    return bool(PAGE_NUMBER.match(line.strip()))


def is_metadata_line(line: str) -> bool:
    """True for "发布时间：…", "来源：…" or a byline with a timestamp."""
    if len(line) > 150:
        return False
    if _META_ANYWHERE.search(line) or _META_START.match(line):
        return True
    # A short line with a numeric date is a byline ("张三 2021-02-02 18:19:45").
    match = DATETIME_IN_LINE.search(line)
    return bool(match) and len(line) - len(match.group()) <= 30 and not re.search(r"[。；;]$", line)


def is_page_chrome(line: str) -> bool:
    """True for navigation, breadcrumbs, contact lines and other page furniture.

    Only short lines qualify: a real paragraph may well mention 专题 or 栏目.
    """
    if len(line) > 60:
        return False
    if is_tail_marker(line) or _BREADCRUMB.search(line) or _CONTACT.search(line):
        return True
    if _CHROME.search(line):
        return True
    if len(line) <= 12 and _CHROME_GENERIC.search(line) and not re.search(r"[。；;，,]", line):
        return True
    # "首页 新闻 公告 服务" style menus: several very short tokens separated by spaces.
    tokens = line.split()
    return len(tokens) >= 3 and all(len(token) <= 6 for token in tokens)
