"""The OpenFn Lightning engine (spec workflow.md §6): groups are Lightning projects, workflows are the project's
workflows with a webhook trigger; a run is a JSON POST to that webhook and is asynchronous from our side."""
import logging
from urllib.parse import quote

import requests

from workflow.systems.base import WorkflowAdaptor, WorkflowHandler
from workflow.util import result

logger = logging.getLogger(__name__)

REQUEST_FAILED = "openFN/Lightning request failed"
REQUEST_ERROR = "Error during openFN/Lightning request"
NOT_CONFIGURED = "openFN/Lightning is not configured"


def lightning_settings():
    """(base URL, API key, timeout in seconds) as configured now: URL, port and timeout from the module
    configuration, the key from the environment (settings.LIGHTNING_API_KEY) only."""
    from django.apps import apps
    from django.conf import settings

    config = type(apps.get_app_config("workflow"))
    url = str(config.lightning_url or "").rstrip("/")
    port = str(config.lightning_port or "").strip()
    base = f"{url}:{port}" if port else url
    return base, getattr(settings, "LIGHTNING_API_KEY", "") or "", float(config.lightning_timeout)


class LightningClient:
    """One HTTP session per ``with`` block; every request carries the bearer token and a timeout. Each call answers
    a result dict: ``data`` is the engine's JSON; failures never raise."""

    def __init__(self, base_url=None, api_key=None, timeout=None):
        base, key, seconds = lightning_settings()
        self._base = (base_url or base).rstrip("/")
        self._api_key = api_key if api_key is not None else key
        self._timeout = timeout if timeout is not None else seconds
        self._session = None

    def __enter__(self):
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"})
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self._session is not None:
            self._session.close()
            self._session = None
        return False

    def get_projects(self):
        return self._request("GET", "api/projects/")

    def get_provision(self, project_id):
        return self._request("GET", f"api/provision/{quote(str(project_id), safe='')}")

    def trigger_workflow(self, trigger_id, payload):
        return self._request("POST", f"i/{quote(str(trigger_id), safe='')}", payload)

    def _request(self, method, path, payload=None):
        url = f"{self._base}/{path}"
        if not self._base or not self._api_key:
            missing = "LIGHTNING_API_KEY" if self._base else "lightning_url"
            logger.error("%s: %s is not set", NOT_CONFIGURED, missing)
            return result(success=False, message=NOT_CONFIGURED, details=f"{missing} is not set")
        try:
            # JSON body (upstream posted form-encoded data, which mangles nested values)
            response = self._session.request(method, url, json=payload, timeout=self._timeout)
        except requests.Timeout:
            logger.error("%s %s: no answer within %ss", method, url, self._timeout)
            return result(success=False, message=REQUEST_ERROR,
                          details=f"{method} {url}: no answer within {self._timeout:g} s")
        except requests.RequestException as exc:
            logger.error("%s %s failed: %s", method, url, exc)
            return result(success=False, message=REQUEST_ERROR, details=f"{method} {url}: {exc}")
        if not response.ok:
            logger.error("%s %s: %s, code: %s", method, url, REQUEST_FAILED, response.status_code)
            return result(success=False, message=REQUEST_FAILED, details=str(response.status_code))
        try:
            return result(success=True, data=response.json())
        except ValueError:
            logger.error("%s %s: the answer is not JSON", method, url)
            return result(success=False, message=REQUEST_ERROR, details=f"{method} {url}: the answer is not JSON")


class LightningWorkflowHandler(WorkflowHandler):
    def __init__(self, name, group, system, webhook_id):
        super().__init__(name, group, system)
        self.webhook_id = webhook_id

    def run(self, data):
        try:
            with LightningClient() as client:
                return client.trigger_workflow(self.webhook_id, data)
        except Exception as exc:
            logger.exception("Error while executing workflow %s/%s/%s", self.system, self.group, self.name)
            return result(success=False, message="Error while executing workflow", details=str(exc))


class LightningWorkflowAdaptor(WorkflowAdaptor):
    system = "lightning"

    @classmethod
    def get_groups(cls):
        try:
            with LightningClient() as client:
                projects = client.get_projects()
                if not projects["success"]:
                    return projects
                return result(success=True, data={"groups": [p["attributes"]["name"] for p in _entries(projects)]})
        except Exception as exc:
            logger.exception("Error during retrieving openFN/Lightning groups")
            return result(success=False, message="Error during retrieving openFN/Lightning groups", details=str(exc))

    @classmethod
    def get_workflows(cls, name=None, group=None):
        try:
            workflows = []
            with LightningClient() as client:
                projects = client.get_projects()
                if not projects["success"]:
                    return projects
                for project in _entries(projects):
                    if group is not None and project["attributes"]["name"] != group:
                        continue
                    provision = client.get_provision(project["id"])
                    if not provision["success"]:
                        return provision
                    workflows.extend(cls._handlers(provision["data"]["data"], name))
            return result(success=True, data={"workflows": workflows})
        except Exception as exc:
            logger.exception("Error during retrieving openFN/Lightning workflows")
            return result(success=False, message="Error during retrieving openFN/Lightning workflows",
                          details=str(exc))

    @classmethod
    def _handlers(cls, provision, name):
        project_name = provision["name"]
        handlers = []
        for workflow in provision.get("workflows") or []:
            if name is not None and workflow["name"] != name:
                continue
            webhook = next((t for t in workflow.get("triggers") or [] if t.get("type") == "webhook"), None)
            if webhook is None:
                logger.error("%s/%s/%s has no webhook trigger: skipped", cls.system, project_name, workflow["name"])
                continue
            handlers.append(LightningWorkflowHandler(workflow["name"], project_name, cls.system, webhook["id"]))
        return handlers


def _entries(projects_result):
    return (projects_result.get("data") or {}).get("data") or []
