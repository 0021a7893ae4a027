"""The embedders' one exception (local models and the OpenAI-compatible API alike)."""

from __future__ import annotations

from catalog_resources.errors import SetupError


class EmbedderError(SetupError, RuntimeError):
    """An unknown model name, a model whose package is not installed (the message names the pip package), or an
    embeddings API that cannot be used (no key, unreachable, refusing)."""
