"""The city service's typed settings (environment prefix HALLQ_CITY_), built once in `main()`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import Field, TypeAdapter
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol.topics import ID_PATTERN

TokenHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
HallId = Annotated[str, Field(pattern=f"^{ID_PATTERN}$")]
Halls = TypeAdapter(dict[HallId, TokenHash])


class CitySettings(BaseSettings):
    """Where the city's database is, where it listens, which halls may sync."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_CITY_", extra="forbid", frozen=True)

    db_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/hallq_city"
    http_host: str = "127.0.0.1"
    http_port: int = Field(8090, ge=0, le=65535)  # 0: any free port
    threads: int = Field(8, ge=1, le=64)  # requests served at once
    # Each hall and the SHA-256 (hex) of its token: the hub sends the token
    # (HALLQ_HUB_CITY_TOKEN), the city keeps only its hash. In the environment as JSON,
    # and/or in `halls_file` (a JSON object of the same shape), read at start.
    halls: dict[HallId, TokenHash] = {}
    halls_file: Path | None = None
    max_changes: int = Field(500, ge=1, le=10000)  # blacklist changes in one answer

    def all_halls(self) -> dict[str, str]:
        """The halls of the environment and of the file together."""
        found = dict(self.halls)
        if self.halls_file is not None:
            found.update(Halls.validate_python(
                json.loads(self.halls_file.read_text(encoding="utf-8"))))
        return found
