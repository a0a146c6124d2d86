"""The reader's language: which of crkg's two languages a page is written in, and its words.

The data is coded in English and Chinese (VOCABULARY.md: every term has rdfs:label @en and
@zh), so the pages speak both: ``?lang=`` chooses, else the first of them in
``Accept-Language`` (RFC 9110 §12.5.4, by q-value), else English.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import request

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"

#: Interface words of the HTML pages, in the reader's language.
UI = {
    "en": {
        "outgoing": "Properties and outgoing links",
        "incoming": "Incoming links",
        "incoming_none": "No other resource links here.",
        "evidence": "Evidence",
        "locator": "Section",
        "said_by": "Said by",
        "type": "Type",
        "property": "Property",
        "value": "Value",
        "inferred": "inferred",
        "inferred_note": "Values marked “inferred” were derived by OWL 2 RL reasoning (graph/inferred).",
        "download": "This description as",
        "query_this": "Query this resource in SPARQL",
        "iri": "IRI",
        "query": "Query",
        "ontology": "Ontology",
        "data": "Data",
        "void": "Dataset description",
        "labels": "Labels",
        "definition": "Definition",
        "is_of": "← {p}",
        "truncated": "Only the first {n} incoming links are shown.",
        "classes": "Classes",
        "object_properties": "Object properties",
        "datatype_properties": "Datatype properties",
        "annotation_properties": "Annotation properties",
        "individuals": "Codebook individuals",
        "other_terms": "Other terms",
        "term_page": "term page",
        "subclass_of": "Subclass of",
        "domain": "Domain",
        "range": "Range",
        "instance_of": "Instance of",
        "broader": "Broader",
        "graphs": "Named graphs",
        "graph": "Graph",
        "triples": "Triples",
        "dumps": "Downloads",
        "whole_dataset": "The whole dataset (all named graphs)",
        "language": "Language",
        # the query page
        "examples": "Example queries (competency questions)",
        "examples_none": "No example queries in queries/cq/ yet.",
        "intro": "Ask the graph in SPARQL. Click an example to run it; download results as CSV or JSON.",
        "noscript": "This page needs JavaScript. You can also send a query to the endpoint directly:",
        "run": "Run",
        "endpoint": "SPARQL endpoint",
    },
    "zh": {
        "outgoing": "属性与出链",
        "incoming": "入链",
        "incoming_none": "没有其他资源链接到此处。",
        "evidence": "证据",
        "locator": "章节",
        "said_by": "讲述者",
        "type": "类型",
        "property": "属性",
        "value": "值",
        "inferred": "推理所得",
        "inferred_note": "标为“推理所得”的值由 OWL 2 RL 推理得出（graph/inferred）。",
        "download": "本描述的其他格式",
        "query_this": "用 SPARQL 查询此资源",
        "iri": "IRI",
        "query": "查询",
        "ontology": "本体",
        "data": "数据",
        "void": "数据集描述",
        "labels": "标签",
        "definition": "定义",
        "is_of": "← {p}",
        "truncated": "仅显示前 {n} 条入链。",
        "classes": "类",
        "object_properties": "对象属性",
        "datatype_properties": "数据属性",
        "annotation_properties": "注释属性",
        "individuals": "编码表个体",
        "other_terms": "其他术语",
        "term_page": "术语页面",
        "subclass_of": "父类",
        "domain": "定义域",
        "range": "值域",
        "instance_of": "类型",
        "broader": "上位概念",
        "graphs": "命名图",
        "graph": "图",
        "triples": "三元组数",
        "dumps": "下载",
        "whole_dataset": "整个数据集（全部命名图）",
        "language": "语言",
        # the query page
        "examples": "示例查询（能力问题）",
        "examples_none": "queries/cq/ 中尚无示例查询。",
        "intro": "用 SPARQL 查询图谱。点击左侧示例即可运行；结果可下载为 CSV 或 JSON。",
        "noscript": "此页面需要 JavaScript。也可以直接向下面的端点提交查询：",
        "run": "运行",
        "endpoint": "SPARQL 端点",
    },
}


def reader_lang() -> str:
    """``?lang=`` if given, else the first of en/zh in ``Accept-Language`` (by q), else en."""
    asked = (request.args.get("lang") or "").strip().lower()
    if asked[:2] in LANGUAGES:
        return asked[:2]
    for tag, _q in request.accept_languages:  # werkzeug sorts by quality
        primary = tag.lower().split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def lang_suffix() -> str:
    """``?lang=xx`` when the reader chose a language by parameter, so links keep it."""
    lang = request.args.get("lang")
    return "?" + urlencode({"lang": lang}) if lang in LANGUAGES else ""
