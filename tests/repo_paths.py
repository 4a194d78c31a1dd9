"""Where the tests find the repository and their fixture files, from any test folder."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
