"""The one error type for bad user input (config, search-space file, data folder)."""

from __future__ import annotations

MAX_MESSAGE = 1000  # characters of a message; the rest is cut


class ConfigError(ValueError):
    """Bad user input, found before anything starts.

    ``field`` names what is wrong (a dotted config path such as ``budget.trials``, or ``space``);
    the message says what is allowed and what was given. The CLI prints ``str(error)`` as one
    line and exits with code 2.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        one_line = " ".join(message.split())  # always one line, whatever it quotes
        if len(one_line) > MAX_MESSAGE:  # and a readable one, however long what it quotes
            one_line = f"{one_line[: MAX_MESSAGE - 40]}... ({len(one_line)} characters in all)"
        self.message = one_line
        shown = field if len(field) <= 100 else f"{field[:60]}...({len(field)} characters)"
        super().__init__(f"{' '.join(shown.split())}: {self.message}")

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        # Rebuilt from both fields when pickled or copied (Ray does both with trial errors).
        return (type(self), (self.field, self.message))
