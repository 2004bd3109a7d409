"""The query service's rules do no I/O: nothing under ``hostdesk_query.domain`` imports a driver, a framework
or the service's adapters (what the import-linter contract checks for the tickets service)."""

import ast
from pathlib import Path

import hostdesk_query.domain
import pytest

FORBIDDEN = {"asyncpg", "nats", "fastapi", "starlette", "httpx", "uvicorn", "psycopg", "aiosmtplib", "socket"}
FORBIDDEN_INSIDE = ("hostdesk_query.adapters", "hostdesk_query.api", "hostdesk_query.main")
DOMAIN = Path(hostdesk_query.domain.__file__).parent


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda path: path.name)
def test_a_domain_module_imports_no_io(path: Path) -> None:
    modules = imported_modules(path)

    assert not {module for module in modules if module.split(".")[0] in FORBIDDEN}
    assert not {module for module in modules if module.startswith(FORBIDDEN_INSIDE)}
