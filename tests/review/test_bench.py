"""The reviewer's benchmark end to end: the shipped corpus, git, the real review pipeline and
the DeepSeek-protocol test server, with a responder that finds a known subset of the bugs."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any

import pytest
from deepseek_server import DeepSeekServer, Reply
from review_replies import answer, blocks
from unidiff import PatchSet

from assistants import errors
from assistants.config import load_settings
from assistants.review.bench.corpus import Case, load_corpus
from assistants.review.bench.run import estimate_review_bench, eval_review

LIMIT = 22  # one diff of every (operator, language) group


def _added(case: Case) -> dict[int, str]:
    return {
        ln.target_line_no: ln.value.rstrip("\n")
        for hunk in PatchSet(case.diff)[0]
        for ln in hunk
        if ln.is_added
    }


def _quarter(case_id: str) -> int:
    return int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 4


class Oracle:
    """Finds the seeded bug of every diff whose id hashes to 0 or 2 (mod 4), reports a finding
    three lines below the seeded line for those hashing to 1 (a miss: outside the ±2 window),
    and one finding on every clean diff whose id hashes even. Records what it said."""

    def __init__(self, cases: list[Case], paths: dict[str, str]) -> None:
        self.cases = [(c, paths[c.file], _added(c)) for c in cases]
        self.said: dict[str, str] = {}
        self.lock = threading.Lock()

    def _case(self, path: str, shown: dict[int, tuple[str, str]]) -> Case:
        added = {n: text for n, (mark, text) in shown.items() if mark == "+"}
        found = [c for c, p, a in self.cases if p == path and a == added]
        assert len(found) == 1, (path, sorted(added))
        return found[0]

    def __call__(self, body: dict[str, Any]) -> Reply:
        findings = []
        for path, block in blocks(body):
            shown = {
                int(m.group(1)): (m.group(2), m.group(3))
                for m in re.finditer(r"^(\d+)([+ ])\t(.*)$", block, re.M)
            }
            case = self._case(path, shown)
            q = _quarter(case.id)
            line, said = case.line, "nothing"
            if case.kind == "clean" and q % 2 == 0:
                line, said = min(n for n, (mark, _) in shown.items() if mark == "+"), "fp"
            elif case.kind == "seeded" and q % 2 == 0:
                said = "hit"
            elif case.kind == "seeded" and q == 1 and line + 3 in shown:
                line, said = line + 3, "other"
            if said != "nothing":
                findings.append(
                    {
                        "file": path,
                        "line_start": line,
                        "quote": shown[line][1],
                        "severity": "high" if case.operator < "o" else "medium",
                        "category": "bug",
                        "title": f"problem {case.id}",
                    }
                )
            with self.lock:
                self.said[case.id] = said
        return answer(findings)


@pytest.fixture
def corpus_cases() -> tuple[list[Case], dict[str, str]]:
    corpus = load_corpus(limit=LIMIT)
    return corpus.cases, {k: f.path for k, f in corpus.files.items()}


def test_known_subset_gives_exact_recall_and_false_positives(
    server: DeepSeekServer, corpus_cases: tuple[list[Case], dict[str, str]]
) -> None:
    cases, paths = corpus_cases
    oracle = Oracle(cases, paths)
    server.responder = oracle
    report = eval_review(limit=LIMIT, settings=load_settings(), concurrency=4)

    seeded = [c for c in cases if c.kind == "seeded"]
    clean = [c for c in cases if c.kind == "clean"]
    found = [c for c in seeded if _quarter(c.id) % 2 == 0]
    fps = [c for c in clean if _quarter(c.id) % 2 == 0]
    assert len(oracle.said) == LIMIT  # every diff reached the model, once
    assert len(server.chat_requests) == LIMIT
    assert 0 < len(found) < len(seeded) and 0 < len(fps) < len(clean)
    total = report.total
    assert (total.seeded, total.clean, total.errors) == (len(seeded), len(clean), 0)
    assert total.found == len(found)
    assert total.recall == round(len(found) / len(seeded), 4)
    assert total.false_positives == len(fps)
    assert total.false_positives_per_clean_diff == round(len(fps) / len(clean), 4)
    others = sum(1 for said in oracle.said.values() if said == "other")
    assert others > 0
    assert total.other == others
    assert total.precision == round(len(found) / (len(found) + len(fps) + others), 4)
    records = {r.id: r for r in report.records}
    assert {r.id for r in report.records if r.found} == {c.id for c in found}
    for c in found:
        assert records[c.id].severity == ("high" if c.operator < "o" else "medium")
    for op, group in report.by_operator.items():
        expected = [c for c in found if c.operator == op]
        assert group.found == len(expected)
        assert sum(group.severities.values()) == len(expected)
    for lang, group in report.by_language.items():
        assert group.found == sum(1 for c in found if c.language == lang)
    # tokens and cost were measured for every diff
    assert all(r.usage.requests == 1 and r.usage.input_tokens > 0 for r in report.records)
    assert total.usage.cost_usd > 0
    # a report survives JSON, records and all
    again = type(report).model_validate_json(report.model_dump_json())
    assert again.total.found == total.found and len(again.records) == LIMIT


def test_the_request_is_the_review_of_the_diff(server: DeepSeekServer) -> None:
    """What the model sees is a diff review of the corpus file: its path, the changed lines
    marked, nothing of the benchmark's bookkeeping (operator or case id)."""
    corpus = load_corpus(operators=["missing-await"], language="python", limit=1)
    case = corpus.cases[0]
    eval_review(operators=["missing-await"], language="python", limit=1, settings=load_settings())
    body = server.chat_requests[-1].body
    assert body is not None
    [(path, block)] = blocks(body)
    assert path == corpus.files[case.file].path
    assert re.search(rf"^{case.line}\+\t", block, re.M)
    text = json.dumps(body["messages"])
    assert case.id not in text and "missing-await" not in text and case.operator not in text


def test_dry_run_sends_nothing(server: DeepSeekServer) -> None:
    estimate = estimate_review_bench(limit=6, settings=load_settings())
    assert not server.chat_requests
    assert estimate.cases == 6 and estimate.requests == 6
    assert estimate.input_tokens > 0 and estimate.cost_usd > 0


def test_a_diff_that_fails_is_listed_and_left_out(
    server: DeepSeekServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANTS_MAX_RETRIES", "0")
    server.fail_next(500, times=1)
    with pytest.raises(errors.PartialFailureError) as caught:
        eval_review(limit=3, settings=load_settings(), concurrency=1)
    report = caught.value.result
    assert report.total.errors == 1
    assert report.total.seeded + report.total.clean == 2
    [failed] = [r for r in report.records if r.error]
    assert "ServerError" in failed.error or "500" in failed.error or "erver" in failed.error
    assert caught.value.failures == {failed.id: failed.error}


def test_a_rejected_key_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from local_server import running_server

    with running_server(monkeypatch, valid_keys=["sk-other"]) as server:
        with pytest.raises(errors.AuthenticationError):
            eval_review(limit=8, settings=load_settings(), concurrency=2)
        assert len(server.chat_requests) < 8


def test_when_no_reply_validates_the_report_still_lists_what_was_paid(
    server: DeepSeekServer,
) -> None:
    """A model that never answers with a review (as a tiny local model does): every diff is
    listed with its reason, the usage is kept, nothing is scored as "found nothing"."""
    server.responder = lambda body: Reply('{"summary": "looks fine"}')
    with pytest.raises(errors.PartialFailureError, match="none of the 3 diff") as caught:
        eval_review(limit=3, settings=load_settings(), concurrency=1)
    report = caught.value.result
    assert report.total.errors == 3 and report.total.seeded == report.total.clean == 0
    assert report.total.recall is None and report.total.false_positives_per_clean_diff is None
    assert all("did not validate" in (r.error or "") for r in report.records)
    assert report.total.usage.requests == len(server.chat_requests) == 6  # with repair rounds


def test_a_baseline_holds_its_findings_back_before_scoring(
    server: DeepSeekServer, corpus_cases: tuple[list[Case], dict[str, str]]
) -> None:
    from assistants.review.baseline import Baseline

    cases, paths = corpus_cases
    server.responder = Oracle(cases, paths)
    first = eval_review(limit=LIMIT, settings=load_settings(), concurrency=4)
    assert first.total.false_positives > 0
    # a baseline of the first run's findings on the clean diffs: the same findings (from
    # the cache) are held back, so the false positives go and the recall stays
    clean_ids = {c.id for c in cases if c.kind == "clean"}
    held = [
        {"path": record.path, "category": f.category, "fingerprint": f.fingerprint}
        for record in first.records
        if record.id in clean_ids
        for f in record.findings
    ]
    assert held and all(entry["fingerprint"] for entry in held)
    baseline = Baseline.model_validate({"findings": held})
    again = eval_review(limit=LIMIT, settings=load_settings(), concurrency=4, baseline=baseline)
    assert again.total.false_positives == 0
    assert again.total.found == first.total.found
    assert again.run.options["baseline"] == len(held)
    assert len(server.chat_requests) == LIMIT  # the second run came from the cache
