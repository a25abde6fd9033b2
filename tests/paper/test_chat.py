"""Questions about a paper: unanswerable questions, follow-ups that reuse the whole earlier
request as a cached prefix, and separate questions that share the paper prefix."""

from __future__ import annotations

import json

import pdfs
from deepseek_server import DeepSeekServer
from fakes import ScriptedChatModel

from assistants.config import load_settings
from assistants.paper.chat import PaperChat, ask_paper


def test_unanswerable_question(spec: pdfs.PaperSpec) -> None:
    reply = {"answerable": False, "answer": "The paper does not report GPU hours.", "pages": [3]}
    model = ScriptedChatModel(replies=[json.dumps(reply)])
    settings = load_settings(cache_enabled=False, ledger_enabled=False)
    answer = ask_paper(spec.path, "How many GPU hours?", settings=settings, model=model)
    assert not answer.answerable and answer.pages == []
    assert "does not answer" in answer.to_markdown()
    assert "How many GPU hours?" in model.calls[0]["messages"][-1].content


def test_follow_up_reuses_the_paper_prefix(srv: DeepSeekServer, spec: pdfs.PaperSpec) -> None:
    settings = load_settings(cache_enabled=False)
    chat = PaperChat(spec.path, settings=settings)
    first = chat.ask("What does the tokenizer do?")
    second = chat.ask("And how is it trained?")
    assert first.pages == [4] and second.answerable
    one, two = srv.chat_requests
    messages = two.body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "user", "assistant", "user"]
    assert messages[:3] == one.body["messages"]  # the whole first request is the prefix
    assert json.loads(messages[3]["content"])["answer"] == "A tokenizer."  # content only
    assert set(messages[3]) == {"role", "content"}
    # the server's cache accounting: the first request is served from the prefix cache
    first_prompt = one.usage["prompt_tokens"]
    hit = two.usage["prompt_cache_hit_tokens"]
    assert hit >= first_prompt - first_prompt % 64 - 64
    assert second.usage.cache_hit_tokens == hit
    assert chat.usage.requests == 2


def test_separate_questions_share_the_paper_prefix(
    srv: DeepSeekServer, spec: pdfs.PaperSpec
) -> None:
    settings = load_settings(cache_enabled=False)
    ask_paper(spec.path, "Which datasets?", settings=settings)
    ask_paper(spec.path, "Which baselines?", settings=settings)
    one, two = srv.chat_requests
    paper_chars = sum(len(m["role"]) + len(m["content"]) for m in one.body["messages"][:2])
    assert two.usage["prompt_cache_hit_tokens"] >= (paper_chars // 4) - 64 - 63
    assert one.usage["prompt_cache_hit_tokens"] == 0
