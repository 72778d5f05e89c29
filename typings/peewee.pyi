# peewee, as mypy sees it here: untyped (see [tool.mypy] in pyproject.toml for why).
from typing import Any

def __getattr__(name: str) -> Any: ...
