"""The hub's typed settings (environment prefix HALLQ_HUB_), built once in `main()`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
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
    clock_speed: float = Field(1.0, gt=0, le=3600)  # with start_at: hall seconds per real second
    # with start_at: the real moment (naive UTC) the hall's clock read start_at, so that hubs
    # started one after another keep one simulated time; None: the hub's own start
    clock_from: datetime | None = None
    # how often (real seconds) bookings past their check-in are marked no-shows; a simulation
    # with a fast clock sweeps more often
    no_show_sweep_s: float = Field(30.0, gt=0)
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
    # City mode (hub/city_sync.py, docs/scaling.md): the city service's sync endpoint, this
    # hall's token there, and the city-wide key ID numbers are hashed with (64 hex digits,
    # the same in every hall, given at install); None: the hall works alone.
    city_url: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    city_token: SecretStr | None = None
    city_identity_key: SecretStr | None = None
    city_poll_s: float = Field(5.0, gt=0)  # idle: ask the city for blacklist changes this often
    city_first_backoff_s: float = Field(1.0, gt=0)  # the city unreachable: again after this …
    city_max_backoff_s: float = Field(60.0, gt=0)  # … doubling up to this
    rules: QueueRules = QueueRules()
    reviews: ReviewRules = ReviewRules()
    appointments: AppointmentRules = AppointmentRules()
    batch_max: int = Field(64, ge=1, le=1000)  # requests committed in one transaction at most

    @model_validator(mode="after")
    def _city_mode_complete(self) -> Self:
        """City mode needs its token and the city-wide identity key, or none of the three."""
        if self.city_url is None:
            return self
        if self.city_token is None or self.city_identity_key is None:
            raise ValueError("HALLQ_HUB_CITY_URL needs HALLQ_HUB_CITY_TOKEN and "
                             "HALLQ_HUB_CITY_IDENTITY_KEY")
        key = self.city_identity_key.get_secret_value()
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key.lower()):
            raise ValueError("HALLQ_HUB_CITY_IDENTITY_KEY must be 64 hex digits (32 bytes)")
        return self
