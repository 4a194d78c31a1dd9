"""The base of every record in summary.json: frozen, no unknown keys, and optional fields that
the file leaves out when they are empty (``OMIT_NONE``), as the file has always done."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

Band = tuple[float, float]  # a low and a high end


class Record(BaseModel):
    """A frozen record; ``OMIT_NONE`` names the optional fields written only when set."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    OMIT_NONE: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and self.OMIT_NONE:
            return {k: v for k, v in data.items() if not (k in self.OMIT_NONE and v is None)}
        return data
