"""The hub's typed settings (environment prefix HALLQ_HUB_), built once in `main()`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.catalogue import DEFAULT_CATALOGUE
from hub.rules import AppointmentRules, QueueRules, ReviewRules
from protocol.settings import MqttSettings
from protocol.topics import ID_PATTERN


class HubSettings(BaseSettings):
    """Everything the hub of one hall needs; a typo in a variable name fails startup."""

    model_config = SettingsConfigDict(
        env_prefix="HALLQ_HUB_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    hall_id: str = Field("demo", pattern=f"^{ID_PATTERN}$")
    db_url: str = "sqlite:///var/hub.db"  # PostgreSQL: postgresql+psycopg://…
    mqtt: MqttSettings = MqttSettings(username="hub")
    catalogue: Path = DEFAULT_CATALOGUE
    timezone: str = "Asia/Shanghai"
    start_at: datetime | None = None  # demos and tests: the hall's clock starts at this local time
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)  # 0: any free port
    # The address citizens' phones open the ticket page at (the QR on each ticket), e.g.
    # "http://192.168.1.10:8080"; None: the dashboard's own address (see README).
    public_url: str | None = Field(None, pattern=r"^https?://[^/\s?#]+(/[^\s?#]*)?$")
    # The provincial 好差评 system's endpoint (hub/forwarder.py); None: reviews wait in the
    # outbox until one is set.
    forward_url: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    forward_first_backoff_s: float = Field(5.0, gt=0)
    forward_max_backoff_s: float = Field(300.0, gt=0)
    rules: QueueRules = QueueRules()
    reviews: ReviewRules = ReviewRules()
    appointments: AppointmentRules = AppointmentRules()
    batch_max: int = Field(64, ge=1, le=1000)  # requests committed in one transaction at most
