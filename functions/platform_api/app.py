"""Platform routes: health, the OpenAPI document of the whole API, and the docs page."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from warung.api import create_app, make_handler
from warung.errors import NotFound
from warung.settings import get_settings

HERE = Path(__file__).parent
OPENAPI_FILE = HERE / "openapi.json"

# The docs page loads only what this function serves: no CDN, no inline script.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'"
)
# Swagger UI 5 ships inside Powertools (in the layer): served from there, no copy of our own.
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.min.js", "application/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
}
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Warung API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec-url="v1/openapi.json"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/init.js"></script>
</body>
</html>
"""
# Relative URLs keep the page working under an API Gateway stage prefix (/dev/docs).
INIT_SCRIPT = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false
  });
});
"""

app = create_app()


class Health(BaseModel):
    """Liveness of the API and the version that is deployed."""

    status: str
    version: str


@app.get(
    "/v1/health",
    operation_id="getHealth",
    summary="Liveness and deployed version",
    tags=["platform"],
)
def health() -> Health:
    """Answers 200 while the function can serve requests."""
    return Health(status="ok", version=get_settings().app_version)


@app.get(
    "/v1/openapi.json",
    operation_id="getOpenApiDocument",
    summary="The OpenAPI 3.1 document of the whole API",
    tags=["platform"],
    responses={200: {"description": "OpenAPI document", "content": {"application/json": {}}}},
)
def openapi_document() -> Response[str]:
    """The merged document of every function, with the server URL of this deployment."""
    document = dict(_openapi())
    document["servers"] = [{"url": _base_path()}]
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(document),
        headers={"Cache-Control": "public, max-age=60"},
    )


@app.get(
    "/docs",
    operation_id="getDocsPage",
    summary="Swagger UI for this API",
    tags=["platform"],
    responses={200: {"description": "HTML page", "content": {"text/html": {}}}},
)
def docs_page() -> Response[str]:
    """The interactive documentation page."""
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=DOCS_PAGE,
        headers={"Content-Security-Policy": DOCS_CSP, "Cache-Control": "public, max-age=60"},
    )


@app.get(
    "/docs/<asset>",
    operation_id="getDocsAsset",
    summary="Static assets of the docs page",
    tags=["platform"],
    responses={
        200: {
            "description": "Script or style sheet",
            "content": {"application/javascript": {}, "text/css": {}},
        },
        404: {"description": "No such asset"},
    },
)
def docs_asset(asset: str) -> Response[str]:
    """Swagger UI's own files (from Powertools) and the page's start-up script."""
    if asset == "init.js":
        body, content_type = INIT_SCRIPT, "application/javascript; charset=utf-8"
    elif asset in SWAGGER_UI_FILES:
        file_name, content_type = SWAGGER_UI_FILES[asset]
        # Text, not bytes: a REST API would need binary media types for base64 bodies.
        body = (_swagger_ui_dir() / file_name).read_text(encoding="utf-8")
    else:
        raise NotFound(f"No docs asset named {asset!r}.")
    return Response(
        status_code=200,
        content_type=content_type,
        body=body,
        headers={"Cache-Control": "public, max-age=3600", "Content-Security-Policy": DOCS_CSP},
    )


@cache
def _swagger_ui_dir() -> Path:
    import aws_lambda_powertools

    return Path(aws_lambda_powertools.__file__).parent / "event_handler" / "openapi" / "swagger_ui"


@cache
def _openapi() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    return loaded


def _base_path() -> str:
    # Behind the execute-api host the stage is the first path segment; behind a custom
    # domain or the local runtime the API sits at the root.
    context = app.current_event.request_context
    domain = context.domain_name or ""
    if ".execute-api." in domain and context.stage:
        return f"/{context.stage}"
    return "/"


handler = make_handler(app)
