"""What the evidence views share: their words in en/zh, rendering, links, bad-input pages.

The views (``/studies/``, matrices, ``/evidence``, ``/search``, citations) are HTML made
on the server: no script is needed to read or use them (the pages work with scripts
off), they have no inline scripts or styles (``static/css/views.css``), and Jinja
escapes every passage and label.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, render_template, request

from crkg.namespaces import CRKG, ID
from crkg.version import __version__
from crkg.formats import HTML
from crkg.web.languages import LANGUAGES, UI, reader_lang
from crkg.web.rdf_view import curie
from crkg.web.urls import page_url

#: Interface words of the views, in the reader's language (added to ld_common's UI).
WORDS = {
    "en": {
        "studies": "Studies",
        "study": "Study",
        "language": "Language",
        "cases": "Cases",
        "interventions": "Interventions",
        "passages": "Passages",
        "source": "Source",
        "hand_coded": "hand-coded",
        "imported_from": "imported from {tool}",
        "unknown": "unknown",
        "overview": "Overview",
        "record": "The study",
        "counts": "Counts",
        "framework": "Framework: modes → social-capital dimensions → goals",
        "framework_note": "As the graph states it (crkg:activates, crkg:fosters), with the section of the study that says so.",
        "mode": "Mode",
        "goal": "Goal",
        "phase": "Phase",
        "actor-type": "Actor type",
        "case": "Case",
        "code": "Code",
        "community": "Community",
        "intervention": "Intervention",
        "dimension": "Social-capital dimension",
        "matrix_dimension": "matrix dimension",
        "filter": "filter",
        "format": "format",
        "matrix": "Matrix",
        "mode_goal_matrix": "Mode × goal",
        "cell_note": "Each cell: interventions / passages. Follow a number to the passages behind it.",
        "total": "Total",
        "agreement": "Coded outcomes and the theory",
        "agreement_note": "Coded goals (crkg:contributesToAsStated: the text states the outcome; crkg:contributesToPerFramework: assigned by the framework) against the goals the study's theory implies (crkg:theoreticallyContributesTo = uses mode ∘ fosters).",
        "stated_agrees": "stated, as the theory says",
        "stated_disagrees": "stated, not what the theory says",
        "per_framework": "per framework",
        "theory_only": "theory says, not coded",
        "per_phase": "Per phase (strategies the study recommends, and interventions coded)",
        "strategy": "Strategies",
        "flow": "Interventions → modes → goals",
        "flow_note": "Band width: number of interventions. Each band links to its passages.",
        "goal_plot": "Passages backing each goal: coded vs theoretical",
        "coded": "coded",
        "theoretical": "theoretical",
        "cite": "Cite this",
        "cite_download": "Download as",
        "cases_communities": "Cases and communities",
        "rows": "Rows",
        "cols": "Columns",
        "show": "Show",
        "download": "Download",
        "evidence": "Evidence",
        "evidence_for": "Passages",
        "no_passages": "No passage has all of these values.",
        "locator": "Section",
        "said_by": "Said by",
        "translation": "translation",
        "compare": "Compare studies",
        "compare_note": "Each study's codes count for crkg concepts through its skos mappings (mapping.csv); hand-coded studies use crkg's concepts directly.",
        "search": "Search",
        "search_label": "Search passages, quotes, claims and labels",
        "results": "{n} results",
        "no_results": "Nothing found.",
        "filters": "Filters",
        "any": "any",
        "not_found": "Not found",
        "valid_values": "Valid values",
        "bad_request": "Bad request",
        "linked_data": "Linked Data page",
        "overview_link": "Study overview",
        "matrix_here": "Mode × goal of this {what}'s interventions",
        "passage": "Passage",
        "of_study": "of the study",
        "interventions_passages": "interventions / passages",
        "flow_alt": "Flow diagram: interventions of {what} to the modes they use to the goals they are coded with.",
        "plot_alt": "Bar chart: number of passages backing each goal, coded and theoretical.",
        "table_one": "Table 1 style",
    },
    "zh": {
        "studies": "研究",
        "study": "研究",
        "language": "语言",
        "cases": "案例",
        "interventions": "干预",
        "passages": "段落",
        "source": "来源",
        "hand_coded": "人工编码",
        "imported_from": "导入自 {tool}",
        "unknown": "未知",
        "overview": "概览",
        "record": "研究信息",
        "counts": "数量",
        "framework": "框架：韧性模式 → 社会资本维度 → 韧性目标",
        "framework_note": "依图谱所述（crkg:activates、crkg:fosters），并注明研究中出处。",
        "mode": "韧性模式",
        "goal": "韧性目标",
        "phase": "阶段",
        "actor-type": "行动者类型",
        "case": "案例",
        "code": "编码",
        "community": "社区",
        "intervention": "干预",
        "dimension": "社会资本维度",
        "matrix_dimension": "矩阵维度",
        "filter": "筛选条件",
        "format": "格式",
        "matrix": "矩阵",
        "mode_goal_matrix": "模式 × 目标",
        "cell_note": "每格：干预数 / 段落数。点击数字查看其背后的段落。",
        "total": "合计",
        "agreement": "编码结果与理论",
        "agreement_note": "编码的目标（crkg:contributesToAsStated：文本陈述的结果；crkg:contributesToPerFramework：按框架指定）与研究理论所蕴含的目标（crkg:theoreticallyContributesTo = 使用模式 ∘ 培育）对照。",
        "stated_agrees": "文本陈述，与理论一致",
        "stated_disagrees": "文本陈述，与理论不一致",
        "per_framework": "按框架",
        "theory_only": "理论蕴含，未编码",
        "per_phase": "分阶段（研究建议的策略与编码的干预）",
        "strategy": "策略",
        "flow": "干预 → 模式 → 目标",
        "flow_note": "带宽：干预数。每条带链接到其段落。",
        "goal_plot": "支持各目标的段落数：编码与理论",
        "coded": "编码",
        "theoretical": "理论",
        "cite": "引用",
        "cite_download": "下载格式",
        "cases_communities": "案例与社区",
        "rows": "行",
        "cols": "列",
        "show": "显示",
        "download": "下载",
        "evidence": "证据",
        "evidence_for": "段落",
        "no_passages": "没有同时具有这些值的段落。",
        "locator": "章节",
        "said_by": "讲述者",
        "translation": "译文",
        "compare": "比较研究",
        "compare_note": "各研究的编码通过其 skos 映射（mapping.csv）对应到 crkg 概念；人工编码的研究直接使用 crkg 概念。",
        "search": "搜索",
        "search_label": "搜索段落、引语、文献观点与标签",
        "results": "{n} 条结果",
        "no_results": "未找到。",
        "filters": "筛选",
        "any": "全部",
        "not_found": "未找到",
        "valid_values": "有效值",
        "bad_request": "请求有误",
        "linked_data": "关联数据页面",
        "overview_link": "研究概览",
        "matrix_here": "此{what}干预的模式 × 目标",
        "passage": "段落",
        "of_study": "所属研究",
        "interventions_passages": "干预 / 段落",
        "flow_alt": "流向图：{what}的干预 → 所用模式 → 编码目标。",
        "plot_alt": "条形图：支持各目标的段落数（编码与理论）。",
        "table_one": "表1 样式",
    },
}


def words(lang: str) -> dict:
    merged = dict(UI[lang])
    merged.update(WORDS[lang])
    return merged


def lang_links() -> dict[str, str]:
    """The same page in each language, keeping every other parameter."""
    links = {}
    for code in LANGUAGES:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        args.append(("lang", code))
        links[code] = request.path + "?" + urlencode(args)
    return links


def with_lang(url: str) -> str:
    """*url* with the reader's explicit ``?lang=`` carried over (links stay in one language)."""
    asked = request.args.get("lang")
    if asked not in LANGUAGES:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"lang": asked})


def render(template: str, status: int = 200, **context) -> Response:
    lang = context.pop("lang", None) or reader_lang()
    html = render_template(
        template, lang=lang, ui=words(lang), version=__version__, lang_links=lang_links(),
        page_url=page_url, with_lang=with_lang, **context,
    )
    response = Response(html, status=status, mimetype=HTML)
    response.vary.add("Accept-Language")
    return response


def short(iri: str) -> str:
    """How a term is written in a URL parameter: ``crkg:Name`` or the part after ``id/``."""
    if iri.startswith(str(CRKG)):
        return curie(iri)
    if iri.startswith(str(ID)):
        return iri[len(str(ID)):]
    return iri


def expand(text: str) -> str:
    """The inverse of :func:`short` (a full IRI passes unchanged)."""
    text = text.strip()
    if text.startswith("crkg:"):
        return str(CRKG) + text[5:]
    if "://" in text:
        return text
    return str(ID) + text


def problem(status: int, message: str, valid: list[tuple[str, str]] | None = None,
            what: str = "") -> Response:
    """A 404/400 answer that says what was wrong and lists the valid values as links
    (HTML for a browser, the error shape of :mod:`crkg.web.errors` otherwise)."""
    wanted = (request.args.get("format") or "").lower()
    if wanted in {"csv", "json", "xlsx"} or not request.accept_mimetypes.accept_html:
        from crkg.web.errors import error_response

        listed = "; valid: " + ", ".join(v for v, _ in valid) if valid else ""
        return error_response(status, message + listed)
    return render("views_problem.html", status=status, code=status, message=message, valid=valid or [], what=what)
