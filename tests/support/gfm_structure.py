"""The structure a GitHub-flavoured Markdown renderer sees in a document: GitHub's own cmark-gfm
(through `cmarkgfm`, with its table, autolink, strikethrough and tagfilter extensions, raw HTML
kept as GitHub keeps `<details>`), shared with no code of ours. Usage: gfm_structure.py < doc.md
Prints JSON: {"top": [tag of each top-level element, in order], "tables": [{"header": [...],
"rows": [[cell text, ...], ...]}], "details": [{"summary": text, "code": text}],
"text": all text}."""
import json
import sys
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options


class Structure(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.top = []
        self.tables = []
        self.details = []
        self.text = []
        self.cell = None
        self.row = None
        self.in_head = False
        self.summary = None
        self.code = None

    def handle_starttag(self, tag, attrs):
        if self.depth == 0:
            self.top.append(tag)
        if tag not in ("br", "hr", "img", "input"):
            self.depth += 1
        if tag == "table":
            self.tables.append({"header": [], "rows": []})
        elif tag == "thead":
            self.in_head = True
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "details":
            self.details.append({"summary": "", "code": ""})
        elif tag == "summary":
            self.summary = []
        elif tag == "pre":
            self.code = []

    def handle_endtag(self, tag):
        if tag not in ("br", "hr", "img", "input"):
            self.depth -= 1
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            table = self.tables[-1]
            if self.in_head:
                table["header"] = self.row
            else:
                table["rows"].append(self.row)
            self.row = None
        elif tag == "thead":
            self.in_head = False
        elif tag == "summary" and self.summary is not None:
            self.details[-1]["summary"] = "".join(self.summary).strip()
            self.summary = None
        elif tag == "pre" and self.code is not None:
            if self.details:
                self.details[-1]["code"] += "".join(self.code)
            self.code = None

    def handle_data(self, data):
        self.text.append(data)
        for sink in (self.cell, self.summary, self.code):
            if sink is not None:
                sink.append(data)


html = cmarkgfm.github_flavored_markdown_to_html(sys.stdin.read(), options=Options.CMARK_OPT_UNSAFE)
parser = Structure()
parser.feed(html)
parser.close()
print(
    json.dumps(
        {
            "top": parser.top,
            "tables": parser.tables,
            "details": parser.details,
            "text": "".join(parser.text),
        }
    )
)
