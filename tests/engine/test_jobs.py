"""Job protocols against the emulator: submit, poll, results in every shape, failures, cancel."""
from __future__ import annotations

import json
import zipfile

import pytest

from plugin.core import jobs
from plugin.core.download import download
from plugin.core.errors import (
    CancelledError,
    JobCancelledError,
    JobFailedError,
    JobNotFoundError,
    JobTimedOutError,
    JobTimedOutOnServerError,
    TooManyTilesError,
)
from plugin.core.http import CancelToken
from plugin.core.jobs import Job, PollPolicy, interpret, too_many_tiles_from_text

MERC = 20037508.342787
SMALL = {"xmin": -2e6, "ymin": -2e6, "xmax": 2e6, "ymax": 2e6, "spatialReference": {"wkid": 3857}}


def map_params(levels="0-2", extent=SMALL):
    return {"levels": levels, "exportBy": "LevelID", "exportExtent": json.dumps(extent), "tilePackage": "true",
            "storageFormatType": "esriMapCacheStorageModeCompactV2", "optimizeTilesForSize": "false"}


def vector_params(levels="0-2", extent=SMALL):
    return {"levels": levels, "exportBy": "LevelID", "exportExtent": json.dumps(extent),
            "extent": json.dumps(extent)}


FAST = PollPolicy(first=1, factor=1.5, max=10, timeout=3600)


def run_job(session, service_url, params, clock, **kw):
    job = jobs.submit(session, service_url, params, **kw)
    statuses = []
    status = jobs.wait(session, job, policy=FAST, clock=clock, progress=statuses.append)
    return job, status, statuses


@pytest.mark.parametrize("shape", ["url_dict", "file_url", "folder"])
def test_gp_export_all_result_shapes(emu, fast_session, fake_clock, tmp_path, shape):
    emu.configure("World_Map/MapServer", result_shape=shape, job_steps=3)
    url = emu.service_url("World_Map", "MapServer")
    job, status, statuses = run_job(fast_session, url, map_params(), fake_clock)
    assert job.protocol == jobs.GP and job.job_id.startswith("j")
    assert status.state == jobs.SUCCEEDED and status.fraction == 1.0
    assert [s.state for s in statuses][-1] == jobs.SUCCEEDED
    assert any(s.state == jobs.RUNNING for s in statuses)
    assert fake_clock.sleeps[:2] == [1, 1.5]  # back-off from 1 s
    urls = jobs.package_urls(fast_session, job, status)
    assert len(urls) == 1 and urls[0].endswith(".tpkx")
    path = download(fast_session, urls[0], tmp_path / "out.tpkx")
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()


def test_gp_progress_messages(emu, fast_session, fake_clock):
    emu.configure("World_Map/MapServer", job_steps=4)
    _, _, statuses = run_job(fast_session, emu.service_url("World_Map", "MapServer"), map_params(), fake_clock)
    with_progress = [s for s in statuses if "progress" in s.doc]
    assert with_progress and all(s.state == jobs.RUNNING for s in with_progress)
    for status in with_progress:  # the server's own text and percentage, not a placeholder
        assert status.message == status.doc["progress"]["message"] == "Exporting tiles..."
        assert status.fraction == status.doc["progress"]["percent"] / 100
    fractions = [s.fraction for s in with_progress]
    assert fractions == sorted(fractions) and fractions[-1] > 0
    assert statuses[0].state == jobs.PENDING and statuses[0].fraction is None  # esriJobSubmitted: no progress
    assert statuses[-1].state == jobs.SUCCEEDED and statuses[-1].fraction == 1.0


def test_gp_messages_give_the_progress_text_when_the_server_sends_no_progress(emu, fast_session, fake_clock):
    emu.configure("World_Map/MapServer", job_steps=4, gp_progress=False)
    _, _, statuses = run_job(fast_session, emu.service_url("World_Map", "MapServer"), map_params(), fake_clock)
    running = [s for s in statuses if s.state == jobs.RUNNING]
    assert running and all("progress" not in s.doc for s in statuses)
    for status in running:
        last = status.doc["messages"][-1]["description"]
        assert last.startswith("Start Time:") and status.message.endswith(f"({last})")
        assert status.fraction is None  # nothing to say how far: no made-up number


def test_polling_backs_off_from_1_s_to_at_most_10_s(emu, fast_session, fake_clock):
    emu.configure("World_Map/MapServer", job_steps=12)
    job = jobs.submit(fast_session, emu.service_url("World_Map", "MapServer"), map_params())
    jobs.wait(fast_session, job, policy=PollPolicy(), clock=fake_clock)  # the default policy
    assert len(fake_clock.sleeps) >= 12
    assert fake_clock.sleeps[:7] == [1, 1.5, 2.25, 3.375, 5.0625, 7.59375, 10]
    assert set(fake_clock.sleeps[6:]) == {10}


@pytest.mark.parametrize("style", ["esri", "stats"])
def test_online_protocol_presigned_download(emu, fast_session, fake_clock, tmp_path, style):
    emu.configure("World_Basemap_Export_v2/VectorTileServer", online_status_style=style, job_steps=2)
    url = emu.service_url("World_Basemap_Export_v2", "VectorTileServer")
    job, status, statuses = run_job(fast_session, url, vector_params(), fake_clock)
    assert job.protocol == jobs.ONLINE
    assert status.state == jobs.SUCCEEDED
    assert any("export tasks" in s.message for s in statuses)
    urls = jobs.package_urls(fast_session, job, status)
    assert urls and "X-Amz-Signature" in urls[0]
    emu.clear_requests()
    path = download(fast_session, urls[0], tmp_path / "out.vtpk", presigned=True)
    assert zipfile.is_zipfile(path)
    s3 = emu.requests_to("/s3/")
    assert s3 and all(r.header("X-Esri-Authorization") is None and "token" not in r.args for r in s3)


def test_legacy_job_url_is_found_and_remembered(emu, fast_session, fake_clock):
    url = emu.service_url("World_Map", "MapServer")
    emu.inject("http_error", status=404, path="MapServer/jobs/", count=None)
    job, status, _ = run_job(fast_session, url, map_params(), fake_clock)
    assert job.job_url == f"{url}/exportTiles/jobs/{job.job_id}"
    assert status.state == jobs.SUCCEEDED
    emu.clear_requests()
    jobs.fetch_status(fast_session, job)
    legacy = f"/arcgis/rest/services/World_Map/MapServer/exportTiles/jobs/{job.job_id}"
    assert [r.path for r in emu.requests] == [legacy]


def test_unknown_job_is_job_not_found(emu, fast_session):
    job = Job(emu.service_url("World_Map", "MapServer"), "j" + "0" * 32 + "_et")
    with pytest.raises(JobNotFoundError):
        jobs.fetch_status(fast_session, job)


def test_job_failed_carries_server_messages(emu, fast_session, fake_clock):
    emu.inject("job_fail", message="ERROR 999999: Something unexpected caused the tool to fail.")
    with pytest.raises(JobFailedError) as info:
        run_job(fast_session, emu.service_url("World_Map", "MapServer"), map_params(), fake_clock)
    assert "999999" in str(info.value)


def test_job_timed_out_on_server(emu, fast_session, fake_clock):
    emu.inject("job_timeout", message="Timeout: the job exceeded 3600 seconds.")
    with pytest.raises(JobTimedOutError) as info:
        run_job(fast_session, emu.service_url("World_Map", "MapServer"), map_params(), fake_clock)
    assert isinstance(info.value, JobTimedOutOnServerError)  # the server gave up, not our own patience
    message = str(info.value)
    assert "Timeout: the job exceeded 3600 seconds" in message  # the server's words
    assert "gave up" in message and "fewer levels or a smaller area" in message and "retry later" in message


@pytest.mark.parametrize("service", ["World_Map/MapServer", "World_Basemap_Export_v2/VectorTileServer"])
def test_job_cancelled_on_the_server(emu, fast_session, fake_clock, service):
    emu.inject("job_cancel", message="Cancelled by the administrator for maintenance.")
    name, kind = service.split("/")
    params = vector_params() if kind == "VectorTileServer" else map_params()
    with pytest.raises(JobCancelledError) as info:
        run_job(fast_session, emu.service_url(name, kind), params, fake_clock)
    assert not isinstance(info.value, CancelledError)  # not the user's cancel: reported as a failure
    message = str(info.value)
    assert "Cancelled by the administrator for maintenance" in message and "Start the export again" in message
    assert not emu.requests_to("/cancel")


def test_our_timeout_keeps_the_server_job(emu, fast_session, fake_clock):
    emu.configure("World_Map/MapServer", job_steps=10_000)
    url = emu.service_url("World_Map", "MapServer")
    job = jobs.submit(fast_session, url, map_params())
    with pytest.raises(JobTimedOutError):
        jobs.wait(fast_session, job, policy=PollPolicy(timeout=60), clock=fake_clock)
    assert sum(fake_clock.sleeps) <= 60
    assert emu.job(job.job_id).status in ("esriJobExecuting", "esriJobSubmitted")  # not cancelled


def test_too_many_tiles_from_the_job(emu, fast_session, fake_clock):
    emu.configure("World_Map/MapServer", max_export_tiles=5)
    with pytest.raises(TooManyTilesError) as info:
        run_job(fast_session, emu.service_url("World_Map", "MapServer"), map_params("0-3"), fake_clock)
    assert info.value.params["limit"] == 5
    assert info.value.params["count"] > 5
    assert "5" in str(info.value)


def test_too_many_tiles_message_parsing():
    err = too_many_tiles_from_text("ERROR 001564: Requested tile count(2116929) exceeds the maximum allowed "
                                   "number of tiles(100000) to be exported for service World_Street_Map:MapServer.")
    assert err.params == {"count": 2116929, "limit": 100000}
    assert too_many_tiles_from_text("ERROR 999999: other") is None


def test_transient_faults_while_polling(emu, fast_session, fake_clock):
    url = emu.service_url("World_Map", "MapServer")
    job = jobs.submit(fast_session, url, map_params())
    emu.inject("http_error", status=503, count=2, path="/jobs/")
    emu.inject("json_error", code=500, count=1, path="/jobs/")
    emu.inject("invalid_json", count=1, path="/jobs/")
    status = jobs.wait(fast_session, job, policy=FAST, clock=fake_clock)
    assert status.state == jobs.SUCCEEDED


def test_submit_survives_429_burst(emu, fast_session, fake_clock):
    emu.inject("http_error", status=429, count=2, path="/exportTiles", retry_after=3)
    job = jobs.submit(fast_session, emu.service_url("World_Map", "MapServer"), map_params())
    assert job.job_id
    assert fake_clock.sleeps[:2] == [3.0, 3.0]


def test_cancel_sends_cancel_and_stops_at_once(emu, fast_session, fake_clock):
    emu.configure("World_Map/MapServer", job_steps=10_000)
    url = emu.service_url("World_Map", "MapServer")
    job = jobs.submit(fast_session, url, map_params())
    cancel = CancelToken()
    fake_clock.on_sleep = lambda s: cancel.cancel() if len(fake_clock.sleeps) == 3 else None
    with pytest.raises(CancelledError):
        jobs.wait(fast_session, job, policy=FAST, clock=fake_clock, cancel=cancel)
    assert jobs.cancel_job(fast_session, job)
    assert emu.job(job.job_id).status in ("esriJobCancelling", "esriJobCancelled")


def test_estimate_job(emu, fast_session, fake_clock):
    url = emu.service_url("World_Map", "MapServer")
    params = map_params("0-3")
    params.pop("storageFormatType")
    job = jobs.submit(fast_session, url, params, operation=jobs.ESTIMATE)
    status = jobs.wait(fast_session, job, policy=FAST, clock=fake_clock)
    estimate = jobs.parse_estimate(jobs.result_value(fast_session, job, status))
    assert estimate.total_tiles > 0 and estimate.total_bytes > 0


def test_interpret_real_failed_gp_job(real_fixtures):
    doc = json.loads((real_fixtures / "json" / "esri_solutions-webappbuilder-widgets_issue89_GPjob_esriJobFailed.json")
                     .read_text())
    status = interpret(doc, jobs.GP)
    assert status.state == jobs.FAILED
    with pytest.raises(JobFailedError):
        jobs.raise_for_failure(status, Job("https://x/MapServer", doc["jobId"]))


def test_interpret_online_shapes():
    accepted = interpret({"status": "success", "jobId": "b1"}, jobs.ONLINE)
    assert accepted.state == jobs.PENDING
    running = interpret({"jobStatus": "esriJobExecuting", "numTasks": 4, "numDoneTasks": 1}, jobs.ONLINE)
    assert running.fraction == 0.25
    done = interpret({"status": "DONE", "numTasks": 1, "numDoneTasks": 1,
                      "output": {"outputUrl": ["https://s3/x.vtpk?X-Amz-Signature=1"]}}, jobs.ONLINE)
    assert done.state == jobs.SUCCEEDED
    for failed in ("FAILED", "ERROR", "CANCELED", "esriJobFailed", "esriJobCancelled"):
        assert interpret({"status": failed}, jobs.ONLINE).done


def test_result_value_shapes_resolve_relative_urls(fake_server, fast_session):
    svc = fake_server.url("/arcgis/rest/services/X/MapServer")
    assert jobs.urls_from_value(fast_session, svc, {"url": "../../../directories/out/a.tpkx"}) == [
        fake_server.url("/arcgis/rest/directories/out/a.tpkx")]
    assert jobs.urls_from_value(fast_session, svc, "/arcgis/rest/directories/x/b.tpk") == [
        fake_server.url("/arcgis/rest/directories/x/b.tpk")]
    fake_server.route("/arcgis/rest/directories/folder", {"files": [{"name": "p1.vtpk"}, {"name": "readme.txt"},
                                                                   {"name": "p2.vtpk"}]})
    assert jobs.urls_from_value(fast_session, svc, fake_server.url("/arcgis/rest/directories/folder")) == [
        fake_server.url("/arcgis/rest/directories/folder/p1.vtpk"),
        fake_server.url("/arcgis/rest/directories/folder/p2.vtpk")]
