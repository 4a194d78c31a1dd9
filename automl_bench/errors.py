"""The one error type for bad user input (config, search-space file, data folder)."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad user input, found before anything starts.

    ``field`` names what is wrong (a dotted config path such as ``budget.trials``, or ``space``);
    the message says what is allowed and what was given. The CLI prints ``str(error)`` as one
    line and exits with code 2.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = " ".join(message.split())  # always one line, whatever it quotes
        super().__init__(f"{field}: {self.message}")

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        # Rebuilt from both fields when pickled or copied (Ray does both with trial errors).
        return (type(self), (self.field, self.message))
