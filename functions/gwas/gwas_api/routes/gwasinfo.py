import os
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gwas_api.routes import MAX_IDS, Gwas, cursor_of, page
from omicsgate.models.gwas import GwasInfo
from omicsgate.settings import get_settings
from omicsgate.web import ApiError, signing
from omicsgate.web.forms import RequestParams
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["gwasinfo"])
ALL_COST = 50  # GET, or POST without IDs or with more than SMALL_REQUEST
SMALL_REQUEST = 100
FILE_COST = 1000  # per requested ID
MAX_FILE_IDS = 100


@router.get("/gwasinfo", response_model=dict[str, GwasInfo])
def gwasinfo_all(
    response: Response, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> dict[str, object]:
    """Every study the caller may see, keyed by ID (OpenGWAS's GET), paged like every
    long answer (50,000 studies are more than a Lambda response holds). Costs 50."""
    cursor_of(params)
    meter.charge(ALL_COST)
    rows = page(params, response, [s.gwasinfo() for s in gwas.visible(caller).values()])
    return {str(row["id"]): row for row in rows}


@router.post("/gwasinfo", response_model=list[GwasInfo])
def gwasinfo(
    response: Response, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, object]]:
    """The studies named by ``id`` in request order, or every visible one without ``id``
    (paged). Unknown studies, and studies the caller may not see, are silently left out,
    as OpenGWAS does. Costs 1 for 1-100 IDs, else 50."""
    ids = params.ids("id", limit=MAX_IDS, required=False)
    cursor_of(params)
    meter.charge(1 if 1 <= len(ids) <= SMALL_REQUEST else ALL_COST)
    visible = gwas.visible(caller)
    if not ids:
        return page(params, response, [s.gwasinfo() for s in visible.values()])
    return [visible[i].gwasinfo() for i in ids if i in visible]


def file_name(study_id: str, kind: str, uri: str) -> str:
    """``ieu-a-2.vcf.gz``, ``ieu-a-2.vcf.gz.tbi``: OpenGWAS's names."""
    if kind == "vcf":
        return study_id + (".vcf.gz" if uri.endswith(".gz") else ".vcf")
    if kind == "tbi":
        return study_id + ".vcf.gz.tbi"
    return f"{study_id}.{kind}"


@router.post("/gwasinfo/files", response_model=dict[str, list[str]])
def gwasinfo_files(
    request: Request, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> dict[str, list[str]]:
    """Download URLs of each study's GWAS-VCF and its index, valid 2 hours: presigned S3
    URLs for files on S3, otherwise signed URLs of ``GET /gwas/files/{id}/{name}``.
    Studies the caller may not see are left out. Costs 1000 per requested ID."""
    ids = params.ids("id", limit=MAX_FILE_IDS)
    meter.charge(FILE_COST * len(ids))
    settings = get_settings()
    visible = gwas.visible(caller)
    result: dict[str, list[str]] = {}
    for study_id in ids:
        study = visible.get(study_id)
        if study is None:
            continue
        urls = []
        for kind, uri in sorted(study.files.items(), key=lambda kv: kv[0] != "vcf"):
            if uri.startswith("s3://"):
                urls.append(signing.presigned_s3_url(settings, uri))
            else:
                name = file_name(study.id, kind, uri)
                urls.append(
                    signing.api_file_url(
                        settings, signing.request_base_url(request.headers), study.id, name
                    )
                )
        result[study.id] = urls
    return result


@router.get("/files/{study_id}/{name}", response_class=Response)
def download(
    gwas: Gwas,
    study_id: str,
    name: str,
    expires: Annotated[str | None, Query()] = None,
    signature: Annotated[str | None, Query()] = None,
) -> Response:
    """A study's file, for a URL ``/gwasinfo/files`` signed (HMAC, 2 hours): the URL is
    the authorisation, as a presigned S3 URL is. 403 when the signature is wrong or
    expired; 404 when the study or file no longer exists. Costs nothing (the URL did)."""
    problem = signing.check_signature(get_settings(), study_id, name, expires, signature)
    if problem:
        raise ApiError(403, problem, "signature")
    study = gwas.studies().get(study_id)
    uris = {file_name(study_id, k, u): u for k, u in (study.files if study else {}).items()}
    uri = uris.get(name)
    if uri is None:
        raise ApiError(404, f"no file {name!r}", "name")
    vfs = gwas.store.vfs()
    if not uri.startswith("s3://") and not os.path.exists(uri):
        raise ApiError(404, f"file {name!r} is gone", "name")
    with vfs.open(uri, "rb") as handle:
        data = handle.read()
    return Response(
        bytes(data),
        media_type="application/gzip" if name.endswith(".gz") else "application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
