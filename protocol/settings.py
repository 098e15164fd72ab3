"""Typed settings shared by every program, loaded once in `main()` and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from protocol.topics import ID_PATTERN


class MqttSettings(BaseModel):
    """Where the hall's broker is and how to sign in to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    keepalive: int = Field(15, ge=5, le=600)
    # TLS: the hall CA's certificate (made at install, ansible/); None: plain TCP (loopback)
    ca_file: Path | None = None


class DeviceSettings(BaseSettings):
    """What every device (kiosk, caller, display) needs."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True, env_nested_delimiter="__")

    hall_id: str = Field("demo", pattern=f"^{ID_PATTERN}$")
    device_id: str = Field(pattern=f"^{ID_PATTERN}$")
    mqtt: MqttSettings = MqttSettings()
    data_dir: Path = Path("var")  # the outbox file lives here
    resend_after: float = Field(3.0, gt=0)  # seconds before an unanswered request goes again
    reply_timeout: float = Field(5.0, gt=0)  # seconds a screen waits before saying the hub is slow
