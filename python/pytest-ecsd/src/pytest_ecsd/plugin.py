"""The pytest plugin: ``ecsd_server`` starts one ecsd for the session; ``ecsd`` hands it to a test and
puts the project back as it was afterwards (its fault rules removed, its fleet reset)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from .client import Ecsd, EcsdError
from .server import EcsdNotFound, EcsdProcess, find_binary


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ecsd", "a local Elastic Cloud Server endpoint")
    group.addoption("--ecsd-bin", default=None, help="the ecsd binary (default: $ECSD_BIN, then ecsd on PATH)")
    group.addoption("--ecsd-timings", default="instant", choices=("instant", "realistic"),
                    help="how long transitions take (default: instant)")
    group.addoption("--ecsd-config", default=None, help="a TOML configuration file for ecsd serve --config")


@pytest.fixture(scope="session")
def ecsd_server(request: pytest.FixtureRequest) -> Iterator[Ecsd]:
    """One ecsd for the whole session, on a free port with a temporary data dir."""
    option = request.config.getoption
    try:
        binary = find_binary(option("--ecsd-bin"))
    except EcsdNotFound as error:
        pytest.fail(str(error), pytrace=False)
    config = option("--ecsd-config")
    process = EcsdProcess(binary, timings=option("--ecsd-timings"), config=Path(config) if config else None)
    try:
        ecsd = process.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield ecsd
    process.stop()


@pytest.fixture
def ecsd(ecsd_server: Ecsd) -> Iterator[Ecsd]:
    """The session's ecsd, clean for each test: afterwards its fault rules are removed and the project's
    servers, jobs and client tokens are gone, so tests never see each other's fleet."""
    yield ecsd_server
    for rule in ecsd_server.faults():
        try:
            ecsd_server.delete_fault(rule.id)
        except EcsdError as error:
            if error.status != 404:
                raise
    ecsd_server.reset()
