"""Fixtures of the paper analyzer's tests, shared by tests/paper and tests/cli (their conftest
files import them): the paper-shaped PDF most tests read, and the test server answering as the
paper analyzer's model would."""

from __future__ import annotations

import pdfs
import pytest
from deepseek_server import DeepSeekServer
from paper_replies import responder


@pytest.fixture(scope="session")
def spec(tmp_path_factory: pytest.TempPathFactory) -> pdfs.PaperSpec:
    """The paper-shaped PDF of pdfs.build_paper (outline, page labels, references, appendix)."""
    return pdfs.build_paper(tmp_path_factory.mktemp("pdf") / "paper.pdf")


@pytest.fixture
def srv(server: DeepSeekServer) -> DeepSeekServer:
    """The test server with the paper analyzer's scripted replies."""
    server.responder = responder
    return server
