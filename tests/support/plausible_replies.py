"""Plausible answers for the DeepSeek test server, for runs that read like a real session
(the notebooks and the README's examples): ``srv.responder = plausible_reply``.

The answer is built from the request only, the way a model would see it:

* JSON mode (``response_format`` ``json_object``): the JSON Schema that
  :meth:`assistants.llm.LLM.astructured` appends to a message says what to return.
  Code-review requests get a finding for each suspicious line, with its number and quote taken
  from the numbered file blocks; paper requests get claims made of sentences from the
  ``[page N]`` text they cite; anything else gets the smallest object that validates against
  the schema.
* A math request (the system prompt asks for ``\\boxed{}``): the first ``$...$`` formula (or
  arithmetic expression) of the problem is evaluated with Math-Verify / sympy and the answer
  boxed, in a format that rotates (``\\frac{3}{4}``, ``3/4``, ``0.75``) so self-consistency
  has equivalent but differently written samples to group. Problems it cannot evaluate get
  ``\\boxed{42}``.
* Anything else: a short answer that quotes the question.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from deepseek_server import Reply, example_value, requested_schema

__all__ = ["example_value", "plausible_reply"]

_FILE_BLOCK = re.compile(r"<<<FILE (\w+) path=(\"[^\"]*\").*?>>>\n(.*?)\n<<<END FILE \1>>>", re.S)
_NUMBERED = re.compile(r"^\s*(\d+)(?:\s*[+ ]?\| ?|[+ ]?\t)(.*)$")  # "12\tx", "12+\tx"
_PAGE = re.compile(r"^\[page (\d+)\]\s*$", re.M)
# (pattern, category, severity, title, explanation) of lines a reviewer would flag
_SUSPICIOUS = tuple(
    (re.compile(pattern), *rest)
    for pattern, *rest in (
        (
            r"execute\(f[\"']",
            "security",
            "high",
            "SQL built from user input (SQL injection)",
            "The query interpolates a caller-supplied value; pass it as a parameter instead.",
        ),
        (
            r"eval\(",
            "security",
            "critical",
            "eval() of untrusted input",
            "eval runs arbitrary code; parse the value instead.",
        ),
        (
            r"\.innerHTML\s*=",
            "security",
            "high",
            "Untrusted text written to innerHTML (XSS)",
            "Markup from user data is injected into the page; use textContent.",
        ),
        (
            r"def .*=\s*(\[\]|\{\})",
            "bug",
            "medium",
            "Mutable default argument is shared between calls",
            "The default list is created once, so every call appends to the same object.",
        ),
        (
            r"except( Exception)?:\s*$",
            "bug",
            "medium",
            "Exception swallowed",
            "Errors are silenced here, so failures go unnoticed.",
        ),
        (
            r"range\(1, len\(",
            "bug",
            "medium",
            "Loop skips the first element (off by one)",
            "Indexing starts at 0; starting the range at 1 drops the first item.",
        ),
        (
            r"/ len\(",
            "bug",
            "medium",
            "Division by zero when the list is empty",
            "An empty input raises ZeroDivisionError; handle it explicitly.",
        ),
    )
)
_formats = itertools.count()


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body.get("messages") or [] if isinstance(m, dict)]


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else json.dumps(content)


def _system(body: dict[str, Any]) -> str:
    return "\n".join(_text(m) for m in _messages(body) if m.get("role") == "system")


def _last_user(body: dict[str, Any]) -> str:
    users = [_text(m) for m in _messages(body) if m.get("role") == "user"]
    return users[-1] if users else ""


def _all_user(body: dict[str, Any]) -> str:
    return "\n".join(_text(m) for m in _messages(body) if m.get("role") == "user")


# ------------------------------------------------------------------------------ JSON schemas


# ------------------------------------------------------------------------------ code review


def _review(body: dict[str, Any]) -> dict[str, Any]:
    findings = []
    for match in _FILE_BLOCK.finditer(_last_user(body)):
        path = json.loads(match.group(2))
        for row in match.group(3).splitlines():
            numbered = _NUMBERED.match(row)
            if not numbered:
                continue
            line, code = int(numbered.group(1)), numbered.group(2)
            hit = next((x for x in _SUSPICIOUS if x[0].search(code)), None)
            if hit is None or code.lstrip().startswith(("#", "//")):
                continue
            _, category, severity, title, explanation = hit
            findings.append(
                {
                    "file": path,
                    "line_start": line,
                    "line_end": line,
                    "quote": code,
                    "severity": severity,
                    "category": category,
                    "title": title,
                    "explanation": explanation,
                    "suggestion": None,
                }
            )
            if len(findings) >= 6:
                break
    return {"findings": findings}


# ------------------------------------------------------------------------------ papers


def _pages(body: dict[str, Any]) -> list[tuple[int, list[str]]]:
    """(page number, sentences) of every ``[page N]`` section of the paper's messages."""
    out = []
    for message in _messages(body):
        text = _text(message)
        if message.get("role") != "user" or "[page " not in text:
            continue
        marks = list(_PAGE.finditer(text))
        for i, mark in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            lines = text[mark.end() : end].splitlines()
            # headings, titles and author lines are short and have no full stop: not sentences
            body_lines = [ln for ln in lines if len(ln.split()) >= 7 or ln.rstrip().endswith(".")]
            chunk = " ".join(" ".join(body_lines).split())
            sentences = [
                _shorten(s) for s in re.split(r"(?<=[.!?])\s+", chunk) if len(s.split()) >= 5
            ]
            if sentences:
                out.append((int(mark.group(1)), sentences))
    return out or [(1, ["The paper describes its method and reports its results."])]


def _shorten(sentence: str, words: int = 40) -> str:
    parts = sentence.split()
    return " ".join(parts) if len(parts) <= words else " ".join(parts[:words]) + " …"


_WORD = re.compile(r"[a-z0-9-]+")
_STOP = {"what", "which", "does", "that", "this", "with", "from", "have", "than", "paper"}
_TOPICS = {
    "contributions": "we propose contributions introduce method learn",
    "innovations": "new learns differentiable propose instead",
    "method": "network operator trained loss layer index gating model",
    "key_results": "recall latency reaches drops percent gb ms accuracy",
    "limitations": "not limitations cost falls fixed only did",
    "open_questions": "not tested multilingual future fixed choice",
    "strengths": "reaches smaller drops propose learn",
    "weaknesses": "not falls cost fixed did",
}


def _ranked(pages: list[tuple[int, list[str]]], query: str) -> list[tuple[int, str]]:
    """Sentences (with their page) by how many words they share with ``query``."""
    wanted = {w for w in _WORD.findall(query.lower()) if len(w) > 3 and w not in _STOP}
    found = [(page, s) for page, sentences in pages for s in sentences]
    scored = sorted(
        enumerate(found),
        key=lambda item: (-len(wanted & set(_WORD.findall(item[1][1].lower()))), item[0]),
    )
    return [item for _, item in scored]


def _claims(pages: list[tuple[int, list[str]]], topic: str, count: int = 2) -> list[dict[str, Any]]:
    return [
        {"text": text, "pages": [page]}
        for page, text in _ranked(pages, _TOPICS.get(topic, topic))[:count]
    ]


def _embedded_reviews(text: str) -> list[dict[str, Any]]:
    """The JSON review forms quoted in a meta-review request."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"^\{", text, re.M):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and "soundness" in value:
            found.append(value)
    return found


def _paper(schema: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties", {})
    pages = _pages(body)
    out: dict[str, Any] = example_value(schema)
    if "answerable" in props:
        question = _last_user(body).split("Question about the paper above:", 1)[-1]
        page, text = _ranked(pages, question.split("\n", 1)[0])[0]
        return {"answerable": True, "answer": text, "pages": [page]}
    first_page, first = pages[0]
    summary = " ".join(first[:3])
    if "problem" in props:  # a comparison row: one claim per cell
        topics = {**_TOPICS, **_ROW_TOPICS}
        return {name: _claims(pages, topics[name], 1)[0] for name in props}
    reviews = _embedded_reviews(_last_user(body))
    if "soundness" in props and reviews:  # a meta-review: keep what the reviews agree on
        first_review = reviews[0]
        out.update({k: v for k, v in first_review.items() if k in props})
        out["summary"] = f"The {len(reviews)} reviews agree: {first_review.get('summary', '')}"
        return out
    if "soundness" in props:  # a review form
        out.update(
            summary=summary,
            strengths=_claims(pages, "strengths"),
            weaknesses=_claims(pages, "weaknesses"),
            questions=["How sensitive are the results to the choice of hyper-parameters?"],
            limitations=["The evaluation covers few datasets."],
            soundness=3,
            presentation=3,
            contribution=2,
            overall=6,
            confidence=3,
            decision="accept",
        )
        return out
    if "title" in props:
        named = re.search(r'The paper "([^"]+)"', _all_user(body))
        out["title"] = named.group(1) if named else first[0][:80]
    out["summary"] = {"text": summary, "pages": [first_page]}
    for name in _TOPICS:
        if name in props:
            out[name] = _claims(pages, name)
    return out


_LIBRARY_PASSAGE = re.compile(r"^\[P\d+\] cite as \((.+?)\) — .*$", re.M)
_ROW_TOPICS = {
    "problem": "problem we study address dense expensive",
    "data": "datasets benchmark evaluate corpus collection",
    "results": "recall reaches percent accuracy latency improves",
}


def _library(body: dict[str, Any]) -> dict[str, Any]:
    """A library question: the sentence of the passages that best matches the question,
    with the citation its passage header gives."""
    text = "\n".join(
        _text(m) for m in _messages(body) if m.get("role") == "user" and "cite as (" in _text(m)
    )
    marks = list(_LIBRARY_PASSAGE.finditer(text))
    found: list[tuple[str, str]] = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        chunk = " ".join(text[mark.end() : end].split())
        found += [(mark.group(1), s) for s in re.split(r"(?<=[.!?])\s+", chunk) if s]
    question = _last_user(body).split("Question about the library:", 1)[-1].split("\n", 1)[0]
    wanted = {w for w in _WORD.findall(question.lower()) if len(w) > 3 and w not in _STOP}
    if not found or not wanted:
        return {"answerable": False, "answer": "The passages do not answer this."}
    cite, sentence = max(found, key=lambda f: len(wanted & set(_WORD.findall(f[1].lower()))))
    return {"answerable": True, "answer": f"{_shorten(sentence).rstrip('.')} ({cite})."}


def _structured(body: dict[str, Any]) -> str:
    # the schema is appended to the system message or to the last message (a repair round
    # adds messages after it): the latest message that has one
    schema = requested_schema(body)
    if schema is None:
        return json.dumps({"answer": _last_user(body)[:80]})
    props = schema.get("properties", {})
    if "findings" in props:
        return json.dumps(_review(body))
    if "cite as (" in _all_user(body):
        return json.dumps(_library(body))
    if "[page " in _all_user(body) or "soundness" in props:
        return json.dumps(_paper(schema, body))
    return json.dumps(example_value(schema))


# ------------------------------------------------------------------------------ math


def _evaluate(problem: str) -> Any:
    """The value of the problem's first formula, or None."""
    import sympy
    from math_verify import parse

    formula = re.search(r"\$([^$]+)\$", problem)
    if formula:
        parsed = parse(f"${formula.group(1)}$", parsing_timeout=None)
        if parsed and isinstance(parsed[0], sympy.Basic):
            return sympy.nsimplify(sympy.simplify(parsed[0]), rational=False)
    equation = re.search(
        r"([\w^*+\-/(). ]*[a-z][\w^*+\-/(). ]*)=([\w^*+\-/(). ]+?)"
        r"(?:\s+for\s+([a-z])\s*>\s*(-?\d+))?\s*[?.]?$",
        problem,
    )
    if equation:
        solved = _solve(*equation.groups())
        if solved is not None:
            return solved
    arithmetic = re.search(r"\(?\d[\d\s.()]*[+\-*/^][\d\s.+\-*/^()]*[\d)]", problem)
    if arithmetic:
        try:
            return sympy.nsimplify(sympy.sympify(arithmetic.group(0).replace("^", "**")))
        except (sympy.SympifyError, TypeError, SyntaxError):
            return None
    return None


def _solve(left: str, right: str, var: str | None, bound: str | None) -> Any:
    """One solution of ``left = right`` (the one above ``bound`` when given), or None."""
    import sympy
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    rules = (*standard_transformations, implicit_multiplication_application, convert_xor)
    words = left.split()
    left = " ".join(w for w in words if w.lower() not in {"solve", "find"})
    try:
        expr = parse_expr(left, transformations=rules) - parse_expr(right, transformations=rules)
        symbols = sorted(expr.free_symbols, key=str)
        if not symbols:
            return None
        symbol = next((x for x in symbols if str(x) == var), symbols[0])
        roots = [r for r in sympy.solve(expr, symbol) if r.is_real]
    except (sympy.SympifyError, SyntaxError, TypeError, NotImplementedError, ValueError):
        return None
    if bound is not None:
        roots = [r for r in roots if r > int(bound)]
    return roots[-1] if roots else None


def _math(body: dict[str, Any]) -> Reply:
    import sympy

    problem = _last_user(body).split("Problem:", 1)[-1].strip()
    value = _evaluate(problem)
    if value is None:
        answer, steps = "42", "The quantities in the problem combine to 42."
    else:
        styles = [sympy.latex(value)]  # equivalent ways to write a fraction
        if value.is_Rational and not value.is_Integer:
            styles.append(f"{value.p}/{value.q}")
            if sympy.factorint(value.q).keys() <= {2, 5}:  # a terminating decimal
                styles.append(str(sympy.Float(value, 15)).rstrip("0"))
        answer = styles[next(_formats) % len(styles)]
        steps = f"Evaluating the expression step by step gives {sympy.latex(value)}."
    reasoning = f"We need: {problem[:120]}\n{steps}\nCheck: the result is consistent. Done."
    return Reply(f"{steps}\n\n\\boxed{{{answer}}}", reasoning=reasoning)


# ------------------------------------------------------------------------------ entry point


def plausible_reply(body: dict[str, Any]) -> Reply:
    """A reply for one chat-completions request body (see the module docstring)."""
    rf = body.get("response_format")
    if isinstance(rf, dict) and rf.get("type") == "json_object":
        return Reply(_structured(body))
    if "\\boxed{" in _system(body):
        return _math(body)
    question = " ".join(_last_user(body).split())
    short = question if len(question) <= 80 else question[:77] + "..."
    return Reply(f"Here is a short answer to “{short}”: it depends on the details you give.")
