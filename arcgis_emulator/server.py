"""The emulator's WSGI application (werkzeug routing).

Routes (``/arcgis`` is the site; ``<svc>`` = ``/arcgis/rest/services[/<folder>]/<name>/<kind>``):

``GET  /arcgis/rest/info``                          server info with ``authInfo``
``GET  /arcgis/rest/services``                      catalog (folders + services)
``GET  /arcgis/rest/services/<folder>``             folder catalog
``GET  <svc>``                                      service document (``f=json|pjson``; HTML otherwise)
``GET  <svc>/tile/<level>/<row>/<col>[.pbf]``        tile bytes, HTTP 404 when absent
``GET  <svc>/tilemap``                              vector tilemap
``GET  <svc>/resources/styles/root.json``           vector style (also ``resources/style[s]``), sprites, fonts
``GET|POST <svc>/exportTiles``                      submit an export job (also ``exportTiles/submitJob``)
``GET|POST <svc>/estimateExportTilesSize``          submit an estimate job (Map/Image)
``GET  <svc>/jobs/<id>``                            job status (also ``exportTiles/jobs/<id>``,
                                                    ``estimateExportTilesSize/jobs/<id>``)
``GET  <svc>/jobs/<id>/results/out_service_url``    GP result; ``.../inputs/<name>``; ``.../cancel``
``GET  /arcgis/rest/directories/arcgisoutput/...``  GP output folder (``f=json`` lists files) and files
``GET  /s3/export/<id>[_<n>].<ext>?X-Amz-...``       presigned package URL(s) of Online jobs
``POST /arcgis/tokens/generateToken``               server token
``POST /arcgis/sharing/rest/generateToken``         portal token
``/emulator/...``                                   admin (configure, faults, reset, requests, jobs)
"""
from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from .auth import BAD_CREDENTIALS, INVALID_TOKEN, MAX_EXPIRATION_MIN, TOKEN_REQUIRED, s3_error_xml, token_from_request
from .faults import DOWNLOAD_KINDS, JOB_KINDS, REQUEST_KINDS
from .jobs import (
    STATS_VOCABULARY,
    SUCCEEDED,
    Job,
    JobContext,
    ParamError,
    new_job_id,
    parse_export_request,
)

if TYPE_CHECKING:
    from .emulator import Emulator, RecordedRequest, ServiceEntry

log = logging.getLogger(__name__)

KINDS = "MapServer,ImageServer,VectorTileServer"


class QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr (tests read the emulator's request log instead)."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            log.error(message.rstrip(), *args)


class EmulatorRequest(Request):
    max_form_memory_size = 64 * 1024 * 1024
    max_form_parts = 10000


@dataclass
class Ctx:
    request: EmulatorRequest
    params: dict[str, str]
    record: RecordedRequest | None = None
    service: ServiceEntry | None = None

    @property
    def fmt(self) -> str:
        return (self.params.get("f") or "").strip().lower()

    @property
    def wants_json(self) -> bool:
        return self.fmt in ("json", "pjson")


def _url_map() -> Map:
    svc = f"<any({KINDS}):kind>"
    return Map([
        Rule("/", endpoint="root"),
        Rule("/arcgis", endpoint="root"),
        Rule("/arcgis/rest", endpoint="root"),
        Rule("/arcgis/rest/info", endpoint="info"),
        Rule("/arcgis/rest/services", endpoint="catalog"),
        Rule("/arcgis/rest/services/<folder>", endpoint="folder"),
        Rule(f"/arcgis/rest/services/<name>/{svc}", endpoint="service"),
        Rule(f"/arcgis/rest/services/<name>/{svc}/<path:sub>", endpoint="service"),
        Rule(f"/arcgis/rest/services/<folder>/<name>/{svc}", endpoint="service"),
        Rule(f"/arcgis/rest/services/<folder>/<name>/{svc}/<path:sub>", endpoint="service"),
        Rule("/arcgis/rest/services/<path:rest>", endpoint="unknown_service"),
        Rule("/arcgis/rest/directories/arcgisoutput/<path:sub>", endpoint="output"),
        Rule("/arcgis/tokens/generateToken", endpoint="server_token"),
        Rule("/arcgis/tokens", endpoint="tokens_info"),
        Rule("/arcgis/sharing/rest/generateToken", endpoint="portal_token"),
        Rule("/s3/export/<fname>", endpoint="s3"),
        Rule("/emulator", endpoint="admin_index"),
        Rule("/emulator/configure", endpoint="admin_configure"),
        Rule("/emulator/faults", endpoint="admin_faults"),
        Rule("/emulator/reset", endpoint="admin_reset"),
        Rule("/emulator/requests", endpoint="admin_requests"),
        Rule("/emulator/jobs", endpoint="admin_jobs"),
        Rule("/emulator/tokens/expire", endpoint="admin_expire_tokens"),
    ], strict_slashes=False, merge_slashes=False)


def make_app(emulator: Emulator) -> EmulatorApp:
    return EmulatorApp(emulator)


def _content_type(data: bytes, path: str = "") -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    suffix = Path(path).suffix.lower()
    return {".json": "application/json; charset=utf-8", ".png": "image/png", ".pbf": "application/x-protobuf",
            ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}.get(suffix, "application/octet-stream")


class EmulatorApp:
    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.url_map = _url_map()

    # ------------------------------------------------------------------------------ WSGI
    def __call__(self, environ, start_response):
        request = EmulatorRequest(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    def dispatch(self, request: EmulatorRequest) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except NotFound:
            endpoint, values = "not_found", {}
        except MethodNotAllowed:
            endpoint, values = "not_found", {}
        params = {**request.args.to_dict(), **request.form.to_dict()}
        ctx = Ctx(request=request, params=params)
        if endpoint.startswith("admin_"):
            try:
                return getattr(self, endpoint)(ctx, **values)
            except (ValueError, KeyError, TypeError) as exc:
                return self._plain_json({"error": str(exc)}, status=400)

        from .emulator import RecordedRequest

        ctx.record = RecordedRequest(
            method=request.method, path=request.path, args=request.args.to_dict(),
            form=request.form.to_dict(), headers=dict(request.headers.items()), time=time.time())
        self.emu.record(ctx.record)
        response = self._request_faults(ctx)
        if response is None:
            response = getattr(self, f"on_{endpoint}")(ctx, **values)
        ctx.record.status = response.status_code
        return response

    # ------------------------------------------------------------------------------ helpers
    def _errors_as_status(self, ctx: Ctx) -> bool:
        if ctx.service is not None:
            return ctx.service.config.http_errors_as_status
        return self.emu.server_config.http_errors_as_status

    @staticmethod
    def _plain_json(data: Any, status: int = 200, indent: int | None = None) -> Response:
        return Response(json.dumps(data, indent=indent), status=status,
                        content_type="application/json; charset=utf-8")

    def _json(self, ctx: Ctx, data: Any, status: int = 200) -> Response:
        return self._plain_json(data, status=status, indent=2 if ctx.fmt == "pjson" else None)

    @staticmethod
    def _html(title: str, data: Any = None, links: list[tuple[str, str]] | None = None) -> Response:
        body = [f"<html><head><title>{html.escape(title)}</title></head><body>",
                "<table width='100%' class='userTable'><tr><td class='titlecell'>ArcGIS REST Services Directory"
                "</td></tr></table>", f"<h2>{html.escape(title)}</h2>"]
        for href, text in links or []:
            body.append(f"<a href='{html.escape(href)}'>{html.escape(text)}</a><br/>")
        if data is not None:
            body.append(f"<pre>{html.escape(json.dumps(data, indent=2))}</pre>")
        body.append("<p>Supported interfaces: <a href='?f=pjson'>JSON</a></p></body></html>")
        return Response("".join(body), content_type="text/html; charset=utf-8")

    def _resource(self, ctx: Ctx, data: Any, title: str, links: list[tuple[str, str]] | None = None) -> Response:
        """JSON for f=json/pjson, the HTML page otherwise (ArcGIS's default format)."""
        if ctx.wants_json:
            return self._json(ctx, data)
        return self._html(title, data, links)

    def _error(self, ctx: Ctx, code: int, message: str, details: list[str] | None = None,
               message_code: str | None = None, http_status: int | None = None) -> Response:
        err: dict[str, Any] = {"code": code, "message": message}
        if message_code:
            err["messageCode"] = message_code
        err["details"] = list(details or [])
        if http_status is None:
            http_status = code if self._errors_as_status(ctx) and 400 <= code < 600 else 200
        if ctx.fmt == "html":
            return Response(f"<html><body><h2>Error: {html.escape(message)}</h2><p>Code: {code}</p>"
                            f"{''.join('<p>' + html.escape(d) + '</p>' for d in err['details'])}</body></html>",
                            status=http_status, content_type="text/html; charset=utf-8")
        return self._json(ctx, {"error": err}, status=http_status)

    def _error_dict(self, ctx: Ctx, err: dict) -> Response:
        return self._error(ctx, err["code"], err["message"], err.get("details"), err.get("messageCode"))

    # ------------------------------------------------------------------------------ faults
    def _request_faults(self, ctx: Ctx) -> Response | None:
        fired = {f.kind: f for f in self.emu.faults.take(REQUEST_KINDS, ctx.request.path)}
        if "slow" in fired:
            time.sleep(fired["slow"].options["delay"])
        if "http_error" in fired:
            opts = fired["http_error"].options
            status = opts["status"]
            default_messages = {429: "Unable to perform query. Too many requests.", 502: "Bad Gateway",
                                503: "An error occurred.", 504: "Your request has timed out."}
            message = opts["message"] or default_messages.get(status, "Error handling service request.")
            response = self._plain_json({"error": {"code": status, "message": message, "details": []}},
                                        status=status)
            if opts.get("retry_after") is not None:
                response.headers["Retry-After"] = str(opts["retry_after"])
            return response
        if "json_error" in fired:
            opts = fired["json_error"].options
            return self._plain_json({"error": {"code": int(opts["code"]), "message": opts["message"],
                                               "details": list(opts["details"] or [])}})
        if "invalid_json" in fired:
            opts = fired["invalid_json"].options
            return Response(opts["body"], status=200, content_type=opts["content_type"])
        return None

    # ------------------------------------------------------------------------------ catalog
    def on_not_found(self, ctx: Ctx, **_: Any) -> Response:
        return self._error(ctx, 404, f"Could not find resource or operation '{ctx.request.path}' on the system.",
                           ["Not Found"])

    def on_unknown_service(self, ctx: Ctx, rest: str) -> Response:
        return self._error(ctx, 404, f"Service {rest} not found", [])

    def on_root(self, ctx: Ctx) -> Response:
        return self.on_catalog(ctx)

    def on_info(self, ctx: Ctx) -> Response:
        version = self.emu.server_config.version
        data = {
            "currentVersion": version,
            "fullVersion": f"{version:.1f}.0",
            "owningSystemUrl": self.emu.base_url,
            "authInfo": {"isTokenBasedSecurity": True, "tokenServicesUrl": self.emu.token_url,
                         "shortLivedTokenValidity": 60},
        }
        return self._resource(ctx, data, "Server Info")

    def _folders(self) -> list[str]:
        return sorted({e.folder for e in self.emu.services.values() if e.folder})

    def on_catalog(self, ctx: Ctx) -> Response:
        services = [{"name": e.name, "type": e.kind} for e in self.emu.services.values() if not e.folder]
        data = {"currentVersion": self.emu.server_config.version, "folders": self._folders(),
                "services": sorted(services, key=lambda s: (s["name"], s["type"]))}
        links = [(f"{self.emu.services_url}/{f}", f) for f in data["folders"]]
        links += [(f"{self.emu.services_url}/{s['name']}/{s['type']}", f"{s['name']} ({s['type']})")
                  for s in data["services"]]
        return self._resource(ctx, data, "Folder: /", links)

    def on_folder(self, ctx: Ctx, folder: str) -> Response:
        if folder not in self._folders():
            return self._error(ctx, 404, f"Folder {folder} not found", [])
        services = [{"name": e.full_name, "type": e.kind} for e in self.emu.services.values()
                    if e.folder == folder]
        data = {"currentVersion": self.emu.server_config.version, "folders": [],
                "services": sorted(services, key=lambda s: (s["name"], s["type"]))}
        links = [(f"{self.emu.services_url}/{s['name']}/{s['type']}", s["name"]) for s in data["services"]]
        return self._resource(ctx, data, f"Folder: {folder}", links)

    # ------------------------------------------------------------------------------ tokens
    def on_tokens_info(self, ctx: Ctx) -> Response:
        return self._resource(ctx, {"currentVersion": self.emu.server_config.version,
                                    "generateTokenUrl": self.emu.token_url}, "Tokens")

    def on_server_token(self, ctx: Ctx) -> Response:
        return self._generate_token(ctx)

    def on_portal_token(self, ctx: Ctx) -> Response:
        return self._generate_token(ctx)

    def _generate_token(self, ctx: Ctx) -> Response:
        if ctx.request.method != "POST":
            return self._error(ctx, 405, "Method not supported.",
                               ["generateToken must be called with HTTP POST."])
        username = ctx.params.get("username") or ""
        password = ctx.params.get("password") or ""
        expected = self.emu.users.get(username)
        if not username or expected is None or expected != password:
            return self._error_dict(ctx, BAD_CREDENTIALS)
        client = (ctx.params.get("client") or "requestip").strip().lower()
        referer = ctx.params.get("referer")
        if client == "referer" and not referer:
            return self._error(ctx, 400, "Unable to generate token.", ["'referer' must be specified."])
        if client == "ip" and not ctx.params.get("ip"):
            return self._error(ctx, 400, "Unable to generate token.", ["'ip' must be specified."])
        if client not in ("referer", "ip", "requestip"):
            return self._error(ctx, 400, "Unable to generate token.", [f"Invalid client type '{client}'."])
        try:
            minutes = float(ctx.params.get("expiration") or 60)
        except ValueError:
            return self._error(ctx, 400, "Unable to generate token.", ["Invalid expiration."])
        lifetime = max(1.0, min(minutes, MAX_EXPIRATION_MIN)) * 60
        cap = self.emu.server_config.token_lifetime_s
        if cap is not None:
            lifetime = min(lifetime, float(cap))
        token = self.emu.tokens.issue(username, lifetime, referer=referer)
        if not ctx.wants_json:
            return Response(token.value, content_type="text/plain; charset=utf-8")
        return self._json(ctx, {"token": token.value, "expires": int(token.expires * 1000), "ssl": False})

    def _auth_error(self, ctx: Ctx, entry: ServiceEntry) -> Response | None:
        if not entry.config.secured:
            return None
        token = token_from_request(ctx.params, ctx.request.headers)
        state = self.emu.tokens.check(token, entry.config.token_lifetime_s)
        if state == "missing":
            return self._error_dict(ctx, TOKEN_REQUIRED)
        if state == "invalid":
            return self._error_dict(ctx, INVALID_TOKEN)
        return None

    # ------------------------------------------------------------------------------ services
    def on_service(self, ctx: Ctx, name: str, kind: str, folder: str | None = None, sub: str = "") -> Response:
        key = f"{folder}/{name}/{kind}" if folder else f"{name}/{kind}"
        entry = self.emu.services.get(key)
        if entry is None:
            return self._error(ctx, 404, f"Service {key.rsplit('/', 1)[0]}/{kind} not found", [])
        ctx.service = entry
        denied = self._auth_error(ctx, entry)
        if denied is not None:
            return denied
        parts = [p for p in sub.split("/") if p]
        vector = entry.kind == "VectorTileServer"
        if not parts:
            return self._resource(ctx, entry.document(), f"{entry.full_name} ({entry.kind})")
        head = parts[0]
        if head == "tile" and len(parts) == 4:
            return self._tile(ctx, entry, parts[1:])
        if head == "tilemap" and vector and len(parts) == 1:
            tilemap = getattr(entry.sample, "tilemap", None)
            if tilemap is None:
                return self._error(ctx, 404, "Tilemap not found", [], http_status=404)
            return self._plain_json(tilemap)
        if head == "resources" and vector:
            return self._vector_resource(ctx, entry, parts[1:])
        if head == "exportTiles" and parts[1:] in ([], ["submitJob"]):
            return self._submit(ctx, entry, "export")
        if head == "estimateExportTilesSize" and parts[1:] in ([], ["submitJob"]) and not vector:
            return self._submit(ctx, entry, "estimate")
        if head == "jobs" and len(parts) >= 2:
            return self._job_route(ctx, entry, parts[1], parts[2:])
        if head in ("exportTiles", "estimateExportTilesSize") and len(parts) >= 3 and parts[1] == "jobs":
            return self._job_route(ctx, entry, parts[2], parts[3:])
        return self._error(ctx, 404, f"Could not find resource or operation '{'/'.join(parts)}' "
                                     f"on the service {entry.full_name}/{entry.kind}.", ["Not Found"])

    def _tile(self, ctx: Ctx, entry: ServiceEntry, parts: list[str]) -> Response:
        col_text = re.sub(r"\.(pbf|png|jpg|jpeg|mvt)$", "", parts[2])
        try:
            level, row, col = int(parts[0]), int(parts[1]), int(col_text)
        except ValueError:
            return self._error(ctx, 400, "Invalid tile address", [f"{'/'.join(parts)}"], http_status=400)
        data = None
        if row >= 0 and col >= 0 and level >= 0:
            data = entry.sample.get_tile(level, row, col)
        if data is None:
            return self._error(ctx, 404, "Tile not found", [f"{level}/{row}/{col}"], http_status=404)
        ctype = "application/x-protobuf" if entry.kind == "VectorTileServer" else _content_type(data)
        return Response(data, content_type=ctype)

    def _vector_resource(self, ctx: Ctx, entry: ServiceEntry, parts: list[str]) -> Response:
        path = "/".join(parts)
        if path in ("style", "styles", "styles/root", "style/root.json"):
            path = "styles/root.json"
        resources = getattr(entry.sample, "resources", None) or {}
        data = resources.get(path)
        if data is None:
            return self._error(ctx, 404, f"Resource '{path}' not found", [], http_status=404)
        if isinstance(data, (dict, list)):
            data = json.dumps(data).encode()
        return Response(data, content_type=_content_type(data, path))

    # ------------------------------------------------------------------------------ jobs
    def _submit(self, ctx: Ctx, entry: ServiceEntry, operation: str) -> Response:
        cfg = entry.config
        if operation == "export" and not cfg.export_allowed:
            return self._error(ctx, 400, "Unable to complete operation.",
                               ["Export Tiles operation is not allowed on this service "
                                "(exportTilesAllowed is false)."])
        document = entry.document()
        protocol = cfg.job_protocol if operation == "export" else "gp"
        try:
            request = parse_export_request(ctx.params, document, entry.kind, operation,
                                           online=protocol == "online")
        except ParamError as exc:
            return self._error(ctx, exc.code, exc.message, exc.details)
        job_ctx = JobContext(service_key=entry.key, service_name=entry.full_name, service_kind=entry.kind,
                             document=document, sample=entry.sample, max_tiles=int(cfg.max_export_tiles),
                             writer=self.emu._writer, work_dir=self.emu.work_dir,
                             cache_zip=cfg.cache_result == "zip")
        faults = self.emu.faults.take(JOB_KINDS, ctx.request.path)
        job = Job(new_job_id(protocol), protocol, request, job_ctx, steps=cfg.job_steps,
                  step_delay_s=cfg.job_step_delay_s, submit_status=cfg.submit_status, faults=faults,
                  submit_path=ctx.request.path, output_files=cfg.output_urls if protocol == "online" else 1)
        self.emu.add_job(job)
        job.start()
        if protocol == "online":
            data = {"id": job.id, "name": entry.name, "url": None, "status": "success", "itemId": job.item_id,
                    "type": "Vector Tile Service", "jobId": job.id, "message": "success"}
        else:
            data = {"jobId": job.id, "jobStatus": cfg.submit_status}
        return self._resource(ctx, data, f"{operation} job {job.id}")

    def _find_job(self, ctx: Ctx, entry: ServiceEntry, job_id: str) -> Job | Response:
        job = self.emu.jobs.get(job_id)
        if job is None or job.ctx.service_key != entry.key:
            return self._error(ctx, 404, f"Job '{job_id}' does not exist or is inaccessible.", [])
        return job

    def _job_route(self, ctx: Ctx, entry: ServiceEntry, job_id: str, rest: list[str]) -> Response:
        job = self._find_job(ctx, entry, job_id)
        if isinstance(job, Response):
            return job
        if not rest:
            status = job.poll()
            return self._resource(ctx, self._status_body(job, entry, status), f"Job {job.id}")
        if rest == ["cancel"]:
            status = job.cancel()
            return self._resource(ctx, {"jobId": job.id, "jobStatus": status}, f"Job {job.id}")
        if job.protocol == "gp" and len(rest) == 2 and rest[0] == "results":
            return self._job_result(ctx, entry, job, rest[1])
        if job.protocol == "gp" and len(rest) == 2 and rest[0] == "inputs":
            values = job.input_values()
            if rest[1] not in values:
                return self._error(ctx, 400, f"Invalid input parameter '{rest[1]}'", [])
            return self._resource(ctx, {"paramName": rest[1], "dataType": "GPString", "value": values[rest[1]]},
                                  f"Job {job.id} input {rest[1]}")
        return self._error(ctx, 404, f"Could not find resource or operation '{'/'.join(rest)}' on job {job.id}.",
                           ["Not Found"])

    def _status_body(self, job: Job, entry: ServiceEntry, status: str) -> dict:
        if job.protocol == "gp":
            return job.gp_json(status, progress=entry.config.gp_progress)
        urls = self.emu.sign_download_urls(job) if status == SUCCEEDED else []
        body = job.online_json(status, urls)
        if entry.config.online_status_style == "stats":
            body.pop("jobStatus")
            body["status"] = STATS_VOCABULARY.get(status, status)
        return body

    def _job_result(self, ctx: Ctx, entry: ServiceEntry, job: Job, name: str) -> Response:
        status = job.status
        if status != SUCCEEDED:
            return self._error(ctx, 400, f"Result not available: the job is {status}.", [])
        if name != "out_service_url":
            return self._error(ctx, 400, f"Invalid result parameter '{name}'", [])
        if job.operation == "estimate":
            value: Any = dict(job.estimate or {})
        else:
            shape = entry.config.result_shape
            if job.is_cache and not job.ctx.cache_zip:
                # the REST reference's one export example: the arcgisoutput folder of the cache dataset
                value = self.emu.output_folder_url(job, entry)
            elif shape == "url_dict":
                value = {"url": self.emu.output_file_url(job, entry)}
            elif shape == "file_url":
                value = self.emu.output_file_url(job, entry)
            else:
                value = self.emu.output_folder_url(job, entry)
        return self._resource(ctx, {"paramName": "out_service_url", "dataType": "GPString", "value": value},
                              f"Job {job.id} result")

    # ------------------------------------------------------------------------------ downloads
    def on_output(self, ctx: Ctx, sub: str) -> Response:
        parts = [p for p in sub.split("/") if p]
        index = next((i for i, p in enumerate(parts) if p.startswith("_ags_")), None)
        job = self.emu.jobs.get(parts[index][5:]) if index is not None else None
        if job is None or job.protocol != "gp" or job.operation != "export":
            return self._error(ctx, 404, "Could not find the output folder.", [], http_status=404)
        entry = self.emu.services.get(job.ctx.service_key)
        ctx.service = entry
        if entry is not None:
            denied = self._auth_error(ctx, entry)
            if denied is not None:
                return denied
        expected_prefix = f"{entry.folder + '/' if entry.folder else ''}{entry.name}_{entry.kind}".split("/")
        if parts[:index] != expected_prefix:
            return self._error(ctx, 404, "Could not find the output folder.", [], http_status=404)
        ready = job.done.is_set() and job.outcome == SUCCEEDED and job.package_path and job.package_path.exists()
        rest = parts[index + 1:]
        if ready and job.is_cache and not job.ctx.cache_zip:
            return self._cache_output(ctx, entry, job, parts, rest)
        if not rest:
            if not ready:
                return self._error(ctx, 404, "Could not find the output folder.", [], http_status=404)
            url = self.emu.output_file_url(job, entry)
            data = {"folders": [], "files": [{"name": job.package_name, "url": url,
                                              "size": job.package_path.stat().st_size}]}
            return self._resource(ctx, data, f"arcgisoutput/{'/'.join(parts)}", [(url, job.package_name)])
        if not ready or rest != [job.package_name]:
            return self._error(ctx, 404, f"File '{'/'.join(rest)}' not found.", [], http_status=404)
        return self._serve_file(ctx, job, job.package_path)

    def _cache_output(self, ctx: Ctx, entry: ServiceEntry, job: Job, parts: list[str], rest: list[str]) -> Response:
        """A cache dataset's output folder, browsed like ArcGIS Server's directories: each folder
        lists its ``folders`` (names) and ``files`` (name, url, size); files are served as they are."""
        base = self.emu.output_folder_url(job, entry)
        if any(p in (".", "..") or "\\" in p for p in rest):
            return self._error(ctx, 404, "Could not find the output folder.", [], http_status=404)
        path = job.folder.joinpath(*rest)
        if not path.exists() or path.is_symlink() or job.folder not in (path, *path.parents):
            return self._error(ctx, 404, f"File '{'/'.join(rest)}' not found.", [], http_status=404)
        if path.is_file():
            return self._serve_file(ctx, job, path)
        prefix = "/".join([base, *rest])
        children = sorted(path.iterdir())
        data = {"folders": [c.name for c in children if c.is_dir()],
                "files": [{"name": c.name, "url": f"{prefix}/{c.name}", "size": c.stat().st_size}
                          for c in children if c.is_file()]}
        return self._resource(ctx, data, f"arcgisoutput/{'/'.join(parts)}",
                              [(f"{prefix}/{c.name}", c.name) for c in children])

    def on_s3(self, ctx: Ctx, fname: str) -> Response:
        path = ctx.request.path
        problem = self.emu.presigner.verify(path, list(ctx.request.args.items(multi=True)), ctx.request.headers)
        if problem is not None:
            return Response(s3_error_xml(*problem, path), status=403, content_type="application/xml")
        job = self.emu.jobs.get(Path(fname).stem.split("_")[0])
        ready = job is not None and job.done.is_set() and job.outcome == SUCCEEDED
        index = next((i for i in range(len(job.package_paths)) if self.emu.presigned_path(job, i) == path),
                     None) if ready else None
        if index is None or not job.package_paths[index].exists():
            return Response(s3_error_xml("NoSuchKey", "The specified key does not exist.", path), status=404,
                            content_type="application/xml")
        return self._serve_file(ctx, job, job.package_paths[index])

    def _serve_file(self, ctx: Ctx, job: Job, path: Path) -> Response:
        fired = {f.kind: f for f in self.emu.faults.take(DOWNLOAD_KINDS, ctx.request.path)}
        generation = self.emu.etag_generation(job.id, bump="etag_change" in fired)
        stat = path.stat()
        size = stat.st_size
        digest = hashlib.sha1(f"{path}:{size}:{stat.st_mtime_ns}".encode()).hexdigest()[:20]
        etag = f'"{digest}-{generation}"'
        last_modified = formatdate(stat.st_mtime, usegmt=True)
        headers = {"ETag": etag, "Last-Modified": last_modified, "Accept-Ranges": "bytes",
                   "Content-Disposition": f'attachment; filename="{path.name}"'}
        request = ctx.request
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
            return Response(status=304, headers=headers)
        start, end, status = 0, size - 1, 200
        range_header = request.headers.get("Range")
        if range_header and request.method in ("GET", "HEAD") and self._if_range_ok(request, etag, stat.st_mtime):
            parsed = _parse_range(range_header, size)
            if parsed == "unsatisfiable":
                return Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
            if parsed is not None:
                start, end = parsed
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        drop = fired.get("drop_download")
        body = _file_body(path, start, length, drop.options["after_bytes"] if drop else None,
                          request.environ.get("werkzeug.socket"))
        return Response(body, status=status, headers=headers, content_type="application/octet-stream",
                        direct_passthrough=True)

    @staticmethod
    def _if_range_ok(request: Request, etag: str, mtime: float) -> bool:
        value = request.headers.get("If-Range")
        if not value:
            return True
        value = value.strip()
        if value.startswith(('"', "W/")):
            return value == etag  # strong comparison; weak validators never match
        try:
            return int(parsedate_to_datetime(value).timestamp()) >= int(mtime)
        except (TypeError, ValueError):
            return False

    # ------------------------------------------------------------------------------ admin
    def admin_index(self, ctx: Ctx) -> Response:
        return self._plain_json({
            "base_url": self.emu.base_url,
            "services": self.emu.service_urls(),
            "endpoints": {
                "POST /emulator/configure": '{"service": "World_Map/MapServer", "options": {...}} or '
                                            '{"server": {...}} or {"all": {...}}',
                "GET|POST|DELETE /emulator/faults": '{"kind": "http_error", "count": 1, "path": null, ...}',
                "POST /emulator/reset": "", "GET|DELETE /emulator/requests": "", "GET /emulator/jobs": "",
                "POST /emulator/tokens/expire": "",
            },
        }, indent=2)

    @staticmethod
    def _body_json(ctx: Ctx) -> Any:
        raw = ctx.request.get_data(as_text=True)
        if raw.strip():
            return json.loads(raw)
        return dict(ctx.params)

    def admin_configure(self, ctx: Ctx) -> Response:
        if ctx.request.method == "POST":
            body = self._body_json(ctx)
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            if body.get("server"):
                self.emu.configure_server(**body["server"])
            if body.get("all"):
                self.emu.configure_all(**body["all"])
            if body.get("service"):
                self.emu.configure(body["service"], **(body.get("options") or {}))
            if "users" in body:
                self.emu.users.clear()
                self.emu.users.update({str(k): str(v) for k, v in body["users"].items()})
        return self._plain_json(self.emu.config_json(), indent=2)

    def admin_faults(self, ctx: Ctx) -> Response:
        method = ctx.request.method
        if method == "DELETE":
            self.emu.clear_faults()
        elif method == "POST":
            body = self._body_json(ctx)
            for item in body if isinstance(body, list) else [body]:
                spec = dict(item)
                kind = spec.pop("kind")
                count = spec.pop("count", 1)
                path = spec.pop("path", None)
                self.emu.inject(kind, count=count, path=path, **spec)
        return self._plain_json({"faults": [f.to_json() for f in self.emu.faults.list()]}, indent=2)

    def admin_reset(self, ctx: Ctx) -> Response:
        if ctx.request.method != "POST":
            raise ValueError("use POST /emulator/reset")
        self.emu.reset()
        return self._plain_json({"reset": True})

    def admin_requests(self, ctx: Ctx) -> Response:
        if ctx.request.method == "DELETE":
            self.emu.clear_requests()
        return self._plain_json({"requests": [r.to_json() for r in self.emu.requests]}, indent=2)

    def admin_jobs(self, ctx: Ctx) -> Response:
        jobs = [{"id": j.id, "service": j.ctx.service_key, "protocol": j.protocol, "operation": j.operation,
                 "status": j.status, "outcome": j.outcome, "levels": j.request.levels,
                 "total_tiles": j.total_tiles, "tiles_written": len(j.tiles_written),
                 "package": str(j.package_path) if j.package_path else None, "errors": j.error_messages}
                for j in self.emu.jobs.values()]
        return self._plain_json({"jobs": jobs}, indent=2)

    def admin_expire_tokens(self, ctx: Ctx) -> Response:
        self.emu.expire_tokens()
        return self._plain_json({"expired": True})


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """``(start, end)`` inclusive, ``"unsatisfiable"``, or None (ignore the header: serve 200)."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not m or (not m.group(1) and not m.group(2)):
        return None  # malformed or several ranges: a server may ignore Range
    if m.group(1):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
        if start >= size:
            return "unsatisfiable"
        if end < start:
            return None  # syntactically invalid: ignored
        return start, min(end, size - 1)
    suffix = int(m.group(2))
    if suffix == 0:
        return "unsatisfiable"
    return max(0, size - suffix), size - 1


def _file_body(path: Path, start: int, length: int, drop_after: int | None, sock) -> Iterator[bytes]:
    sent = 0
    yield b""  # sends the status line and headers
    with open(path, "rb") as fh:
        fh.seek(start)
        while sent < length:
            n = min(65536, length - sent)
            if drop_after is not None:
                n = min(n, drop_after - sent)
                if n <= 0:
                    if sock is not None:
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                    raise ConnectionAbortedError("drop_download fault: connection closed on purpose")
            chunk = fh.read(n)
            if not chunk:
                break
            sent += len(chunk)
            yield chunk
