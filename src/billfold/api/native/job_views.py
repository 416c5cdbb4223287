"""Job polling at the speed clients poll: cached bodies on a lean route.

Clients poll `GET /v1/jobs/{id}` many times a second while a person waits on a
screen, so a poll must cost next to nothing: bodies come from `JobViewCache`.
The route is a plain Starlette route placed ahead of the FastAPI one: FastAPI's
per-request machinery alone costs more than the whole cached poll. The FastAPI
route (same path) stays for the OpenAPI document and renders through the same
function, so both give the same bytes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billfold.api.native.auth import current_client
from billfold.api.native.schemas import JobOut
from billfold.container import Container
from billfold.services import jobs


def render_job(container: Container, client_id: str, job_id: str) -> bytes:
    """The job's JSON for this client (raises NotFound for other clients' jobs)."""
    cache = container.job_views
    cached = cache.get(job_id)
    if cached is not None and cached[0] == client_id:
        return cached[1]
    token = cache.token(job_id)
    job = jobs.get_job(ctx=container.ctx, client_id=client_id, job_id=job_id)
    body = JobOut.of(job).model_dump_json().encode()
    cache.put(job_id, client_id, body, token)
    return body


async def poll_job(request: Request) -> Response:
    container: Container = request.app.state.container
    client = current_client(request)
    body = render_job(container, client.id, request.path_params["job_id"])
    return Response(body, media_type="application/json")


poll_route = Route("/v1/jobs/{job_id}", poll_job, methods=["GET"], name="poll_job")
