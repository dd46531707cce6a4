"""Embeddings: the local model's vectors and meaning, the OpenAI path against a real HTTP server."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from chatapp.core.errors import ServiceError, TooManyRequests
from chatapp.services.knowledge import embeddings
from chatapp.services.knowledge.embeddings import (
    EmbeddingError,
    EmbeddingRateLimited,
    MiniLMOnnxEmbedder,
    OpenAIEmbedder,
    get_embedder,
    reset_embedders,
)
from tests.utils.fake_openai import FAKE_DIM, fake_openai_server, fake_vector


@pytest.fixture(autouse=True)
def _fresh_cache():
    reset_embedders()
    yield
    reset_embedders()


@pytest.fixture(scope="module")
def local() -> MiniLMOnnxEmbedder:
    return MiniLMOnnxEmbedder()


# -------------------------------------------------------------------------------------- local


def test_local_shapes_dtype_and_normalisation(local):
    texts = ["Hello world.", "", "A much longer text " * 200, "Ünïcödé and 中文 text"]
    matrix = local.embed_documents(texts)
    assert matrix.shape == (4, local.dim) == (4, 384)
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    query = local.embed_query("Hello world.")
    assert query.shape == (384,)
    assert query.dtype == np.float32
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-5)
    assert local.embed_documents([]).shape == (0, 384)


def test_local_batches_keep_input_order_and_are_deterministic(local):
    texts = [
        f"Document number {i} talks about {'cats' if i % 2 else 'databases'}." for i in range(70)
    ]
    texts[5] = "short"
    texts[40] = "a considerably longer sentence " * 20
    batched = local.embed_documents(texts)
    one_by_one = np.stack([local.embed_query(text) for text in texts])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-4)
    np.testing.assert_array_equal(batched, local.embed_documents(texts))


def test_local_semantic_sanity(local):
    query = local.embed_query("How do I reset my password?")
    docs = local.embed_documents(
        [
            "To change your password, open Settings and choose Security.",
            "Our office opens at 9am from Monday to Friday.",
            "We ship orders to most European countries within five days.",
        ]
    )
    scores = docs @ query
    assert scores[0] > scores[1] + 0.2
    assert scores[0] > scores[2] + 0.2
    assert int(np.argmax(scores)) == 0


def test_local_retrieval_picks_the_right_answer(local):
    answers = [
        "Refunds are issued to the original payment method within 14 days of the return.",
        "The API rate limit is 100 requests per minute per key.",
        "You can export your data as CSV from the Reports page.",
    ]
    questions = ["How long until I get my money back?", "How many API calls can I make?"]
    matrix = local.embed_documents(answers)
    assert [int(np.argmax(matrix @ local.embed_query(q))) for q in questions] == [0, 1]


def test_local_repeated_queries_are_embedded_once_and_shared_read_only():
    embedder = MiniLMOnnxEmbedder()
    first = embedder.embed_query("When are you open on Saturdays?")
    again = embedder.embed_query("When are you open on Saturdays?")
    other = embedder.embed_query("Do you ship to Canada?")
    assert again is first and other is not first
    assert np.allclose(first, embedder.embed_documents(["When are you open on Saturdays?"])[0])
    assert embedder._cached_query.cache_info().hits == 1
    with pytest.raises(ValueError):
        first[0] = 1.0  # callers cannot corrupt what the next visitor gets


def test_local_loads_once_across_threads():
    embedder = MiniLMOnnxEmbedder()
    results = []

    def work():
        results.append(embedder.embed_query("same text"))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    session = embedder._session
    assert session is not None
    embedder.embed_query("again")
    assert embedder._session is session
    for vector in results[1:]:
        np.testing.assert_allclose(vector, results[0], atol=1e-6)


def test_local_reads_the_full_256_wordpiece_window(local):
    # The packaged tokenizer.json truncates at 128: the embedder must read up to 256 wordpieces.
    shared = "alpha " * 150
    first, second = local.embed_documents([shared + "cats " * 60, shared + "databases " * 60])
    assert float(first @ second) < 0.999
    beyond = "alpha " * 300
    third, fourth = local.embed_documents([beyond + "cats", beyond + "databases"])
    np.testing.assert_allclose(third, fourth, atol=1e-6)  # past 256 wordpieces: truncated


def test_local_counts_model_tokens(local):
    assert local.count_tokens("hello world") == 2
    assert local.count_tokens("word " * 600) == 600  # not truncated


def test_missing_local_model_is_a_readable_error(monkeypatch):
    monkeypatch.setattr(embeddings, "_package_dir", lambda name: None)
    with pytest.raises(EmbeddingError, match="not installed"):
        MiniLMOnnxEmbedder().embed_query("x")


# ------------------------------------------------------------------------------------ factory


def test_factory_defaults_to_local_and_caches():
    settings = SimpleNamespace()
    first = get_embedder(settings)
    assert isinstance(first, MiniLMOnnxEmbedder)
    assert get_embedder(SimpleNamespace(embedding_provider="local")) is first
    assert get_embedder() is first  # real settings object, no embedding settings yet


def test_factory_openai_per_model_and_unknown_provider():
    base = {"embedding_provider": "openai", "openai_base_url": "http://127.0.0.1:9/v1"}
    small = get_embedder(SimpleNamespace(**base, embedding_model="m-small"))
    assert isinstance(small, OpenAIEmbedder)
    assert small.model == "m-small"
    assert get_embedder(SimpleNamespace(**base, embedding_model="m-small")) is small
    other = get_embedder(SimpleNamespace(**base, embedding_model="m-large"))
    assert other is not small
    default_model = get_embedder(SimpleNamespace(**base))
    assert default_model.model == "text-embedding-3-small"
    assert default_model.dim == 1536
    with pytest.raises(EmbeddingError, match="EMBEDDING_PROVIDER"):
        get_embedder(SimpleNamespace(embedding_provider="magic"))


# ------------------------------------------------------------------------------------- openai


def _client(server, **kwargs) -> OpenAIEmbedder:
    options = {"model": "fake-embed", "base_url": server.base_url, "api_key": "k", "timeout": 5}
    options.update(kwargs)
    return OpenAIEmbedder(**options)


def test_openai_embeds_through_the_real_client_in_batches_of_64():
    with fake_openai_server() as server:
        embedder = _client(server, max_retries=0)
        texts = [f"text {i}" for i in range(130)]
        matrix = embedder.embed_documents(texts)
        assert matrix.shape == (130, FAKE_DIM)
        assert matrix.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
        expected = fake_vector("text 77")
        np.testing.assert_allclose(matrix[77], expected / np.linalg.norm(expected), atol=1e-5)
        assert [len(request["input"]) for request in server.requests] == [64, 64, 2]
        assert {request["model"] for request in server.requests} == {"fake-embed"}
        assert embedder.dim == FAKE_DIM  # learnt from the first answer, no extra request
        assert len(server.requests) == 3

        query = embedder.embed_query("text 77")
        assert query.shape == (FAKE_DIM,)
        np.testing.assert_allclose(query, matrix[77], atol=1e-6)


def test_openai_dimension_probe_and_dimensions_setting():
    with fake_openai_server() as server:
        assert _client(server).dim == FAKE_DIM
        assert server.requests[-1]["input"] == ["dimension probe"]
        sized = _client(server, dimensions=8)
        assert sized.embed_query("x").shape == (8,)
        assert server.requests[-1]["dimensions"] == 8


def test_openai_server_error_is_wrapped():
    with fake_openai_server() as server:
        server.mode = "error"
        with pytest.raises(EmbeddingError, match="HTTP 500") as caught:
            _client(server, max_retries=0).embed_documents(["a"])
        assert isinstance(caught.value, ServiceError)
        assert server.base_url in caught.value.message


def test_openai_rate_limit_is_wrapped_with_retry_after():
    with fake_openai_server() as server:
        server.mode = "ratelimit"
        with pytest.raises(EmbeddingRateLimited) as caught:
            _client(server, max_retries=0).embed_query("a")
        assert isinstance(caught.value, TooManyRequests)
        assert caught.value.status == 429
        assert caught.value.retry_after_seconds == 7


def test_openai_bad_key_and_short_answer_are_wrapped():
    with fake_openai_server() as server:
        server.mode = "unauthorized"
        with pytest.raises(EmbeddingError, match="API key"):
            _client(server, max_retries=0).embed_query("a")
        server.mode = "short"
        with pytest.raises(EmbeddingError, match="1 vectors for 2 texts"):
            _client(server, max_retries=0).embed_documents(["a", "b"])


def test_openai_timeout_is_explicit_and_wrapped():
    with fake_openai_server() as server:
        server.mode = "slow"
        server.delay = 3.0
        started = time.monotonic()
        with pytest.raises(EmbeddingError, match=r"did not answer within 0\.5 s"):
            _client(server, timeout=0.5, max_retries=0).embed_query("a")
        assert time.monotonic() - started < 2.5


def test_openai_unreachable_server_is_wrapped():
    embedder = OpenAIEmbedder(model="m", base_url="http://127.0.0.1:9/v1", timeout=2, max_retries=0)
    with pytest.raises(EmbeddingError, match="Could not reach"):
        embedder.embed_query("a")
