"""Site file and device profiles -> typed, validated models, with FILE:LINE errors."""

from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.load import LoadedConfig, load_config

__all__ = ["ConfigError", "ConfigProblem", "LoadedConfig", "load_config"]
