"""The benchmark's baseline: the same door as a Track identify, minus the write."""

from __future__ import annotations

from fastapi import Depends, Request

from roster.api import doors
from roster.api.answers import JsonAnswer
from roster.api.auth import system_of, track_workspace
from roster.api.bodies import json_object
from roster.api.parsing import identify_from
from roster.api.paths import segment
from roster.domain.identifiers import read_reference

router = doors.router("track_v1", tags=["Operations"], include_in_schema=False)


@router.put("/bench/noop/{ref}")
async def noop(
    request: Request, ref: str, workspace_id: int = Depends(track_workspace)
) -> JsonAnswer:
    body = await json_object(request, required=False)
    mode = system_of(request).workspaces.mode(workspace_id)
    identify_from(read_reference(segment(ref), mode), body, mode)
    return JsonAnswer({})
