"""The plugin as a user meets it: tests written with its fixtures, run by pytester against the real
binary (ECSD_BIN)."""

from pathlib import Path

import pytest

pytest_plugins = "pytester"


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(source)
    return pytester.runpytest_subprocess(*args)


def test_a_ten_line_test_creates_servers_injects_a_fault_and_sees_a_failed_sub_job(pytester):
    result = run(pytester, """
        def test_stop_fails_on_one_server(ecsd):
            servers = ecsd.create_servers(count=3, name="web")
            with ecsd.fault(operation="stop", code="Ecs.0226", count=1, server_id=servers[1]):
                job = ecsd.batch("os-stop", servers)
            assert job["status"] == "FAIL"
            failed = [s for s in job["entities"]["sub_jobs"] if s["status"] == "FAIL"]
            assert [s["entities"]["server_id"] for s in failed] == [servers[1]]
            assert failed[0]["error_code"] == "Ecs.0226"
            assert ecsd.faults() == []
    """)
    result.assert_outcomes(passed=1)


def test_each_test_starts_from_an_empty_fleet_without_rules(pytester):
    result = run(pytester, """
        def test_first(ecsd):
            ecsd.create_servers(count=2)
            ecsd.add_fault("delete", {"kind": "hang"})

        def test_second(ecsd):
            assert ecsd.request("GET", "/v1/{project_id}/cloudservers/detail")["count"] == 0
            assert ecsd.faults() == []
    """)
    result.assert_outcomes(passed=2)


def test_the_official_sdk_clients_are_preconfigured(pytester):
    result = run(pytester, """
        from huaweicloudsdkecs.v2 import ListServersDetailsRequest, ShowServerRequest

        def test_sdk(ecsd):
            [server] = ecsd.create_servers(name="sdk")
            assert ecsd.ecs.show_server(ShowServerRequest(server_id=server)).server.name == "sdk"
            assert ecsd.ecs.list_servers_details(ListServersDetailsRequest()).count == 1
    """)
    result.assert_outcomes(passed=1)


def test_health_tells_the_timings(pytester):
    result = run(pytester, """
        def test_health(ecsd):
            health = ecsd.health()
            assert (health["status"], health["store"], health["timings"]) == ("ok", "reachable", "instant")
    """)
    result.assert_outcomes(passed=1)


def test_time_snapshots_and_fixtures(pytester):
    result = run(pytester, """
        def test_control(ecsd):
            ids = ecsd.load_fixtures([{"name": "db", "status": "SHUTOFF", "count": 2}])
            assert ecsd.wait_for_server_status(ids[0], "SHUTOFF")["name"] == "db-0000"
            ecsd.save_snapshot("two")
            ecsd.create_servers(name="extra")
            ecsd.restore_snapshot("two")
            assert ecsd.request("GET", "/v1/{project_id}/cloudservers/detail")["count"] == 2
            assert [s["name"] for s in ecsd.snapshots()] == ["two"]
            ecsd.delete_snapshot("two")
            before = ecsd.settle()
            assert ecsd.advance_clock(3600) > before
    """)
    result.assert_outcomes(passed=1)


def test_realistic_timings_and_the_server_status_wait(pytester):
    result = run(pytester, """
        def test_realistic(ecsd):
            [server] = ecsd.create_servers(wait=False)
            assert ecsd.request("GET", f"/v1/{{project_id}}/cloudservers/{server}")["server"]["status"] == "BUILD"
            ecsd.settle()
            assert ecsd.wait_for_server_status(server, "ACTIVE", timeout=1)["status"] == "ACTIVE"
    """, "--ecsd-timings", "realistic")
    result.assert_outcomes(passed=1)


def test_a_refused_call_raises_with_the_api_code(pytester):
    result = run(pytester, """
        import pytest
        from pytest_ecsd import EcsdError

        def test_refusal(ecsd):
            with pytest.raises(EcsdError) as refused:
                ecsd.request("GET", "/v1/{project_id}/cloudservers/6a1e3c9d-0b7f-4e2a-9c5d-8f1b2a3c4d5e")
            assert (refused.value.status, refused.value.code) == (404, "Ecs.0114")
            with pytest.raises(ValueError, match="unknown operation"):
                ecsd.add_fault("sotp", {"kind": "hang"})
    """)
    result.assert_outcomes(passed=1)


def test_a_missing_binary_is_a_clear_failure(pytester, monkeypatch):
    monkeypatch.setenv("ECSD_BIN", "/nonexistent/ecsd")
    result = run(pytester, """
        def test_needs_ecsd(ecsd):
            pass
    """)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ECSD_BIN names /nonexistent/ecsd, which is not an executable file*"])


def test_the_worked_example_of_docs_testing_md_runs_as_written(pytester):
    text = (Path(__file__).resolve().parents[3] / "docs" / "testing.md").read_text()
    example = text.split("## Worked example", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    pytester.makepyfile(test_retry=example)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
