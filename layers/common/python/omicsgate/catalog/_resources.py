"""The catalog's resources, read through the layer's own readers from the same arrays and
records the standard APIs serve (nothing is copied): releases and their tables
(:mod:`omicsgate.portal`), expression studies (:mod:`omicsgate.rnaget.catalog`), GWAS
studies and variants (:func:`omicsgate.gwas.get_gwas`), tools (:func:`omicsgate.trs.get_registry`).

Visibility is each reader's: a restricted release, study or tool is absent for callers
outside its groups, exactly as an ID that never existed.

Release-scoped resources (samples, tissues, genes, variants' release side, eQTLs) answer for
one release: the ``project`` option (a release ID), else the current release.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from omicsgate.auth import Caller
from omicsgate.gwas import GwasStore, Locus, get_gwas, is_rsid, parse_chrpos
from omicsgate.portal import expression_schema as xs
from omicsgate.portal import qtl, reference
from omicsgate.portal.expression import UnknownIds
from omicsgate.rnaget import catalog as rnaget_catalog
from omicsgate.storage import DataStore, InvalidRelease, ReleaseNotFound
from omicsgate.web.errors import ApiError
from omicsgate.web.params import find_release, visible_releases

Obj = dict[str, Any]
MAX_REGION = 10_000_000  # bp of one variant search
GWAS_PROJECT_TYPE = "gwas"


@dataclass(frozen=True)
class Scope:
    store: DataStore
    caller: Caller
    release: str | None = None  # the project of release-scoped resources

    @property
    def gwas(self) -> GwasStore:
        return get_gwas(self.store)

    def need_release(self) -> str:
        assert self.release is not None, "a release-scoped resource without a release"
        return self.release


def resolve_project(store: DataStore, caller: Caller, project: str | None) -> str:
    """The release a release-scoped request reads: ``project`` or the current one. A
    release the caller may not see is answered as one that does not exist."""
    if project is None:
        return store.resolve(None)
    release = find_release(store, caller, project)
    if release is None:
        raise ApiError(400, f"unknown project {project!r}", "project")
    return release


Finder = Callable[[Scope, list[str]], dict[str, Obj]]
Searcher = Callable[[Scope, dict[str, str]], list[Obj]]
Linker = Callable[[Scope, str], list[Obj] | None]  # None: the ID does not exist


@dataclass(frozen=True)
class Link:
    result_type: str
    find: Linker
    description: str


@dataclass(frozen=True)
class Resource:
    name: str
    result_type: str
    description: str
    filters: dict[str, str]
    info: Finder
    search: Searcher
    release_scoped: bool = False
    links: dict[str, Link] = field(default_factory=dict)
    # Whole records for a page of search results, when search answers summaries.
    expand: Callable[[Scope, list[Obj]], list[Obj]] | None = None


# ----------------------------------------------------------------- filter helpers


def _contains(value: Any, wanted: str) -> bool:
    return wanted.lower() in str(value or "").lower()


def _equals(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() == wanted.lower()
    return str(value if value is not None else "").lower() == wanted.lower()


def _filtered(records: Iterable[Obj], filters: dict[str, str], rules: dict[str, Any]) -> list[Obj]:
    """Records matching every filter given; ``rules`` maps a filter to (field, test)."""
    out = list(records)
    for name, wanted in filters.items():
        path, test = rules[name]
        out = [r for r in out if test(r.get(path), wanted)]
    return out


def _by_id(records: Iterable[Obj], ids: list[str]) -> dict[str, Obj]:
    index = {r["id"]: r for r in records}
    return {i: index[i] for i in ids if i in index}


def parse_region(text: str, parameter: str = "region") -> tuple[str, int, int]:
    chrom, sep, span = text.partition(":")
    start_text, dash, end_text = span.partition("-")
    try:
        start, end = int(start_text), int(end_text if dash else start_text)
    except ValueError:
        start = end = -1
    if not chrom or not sep or start < 1 or end < start:
        raise ApiError(400, f"{text!r} is not a region (chr:start-end)", parameter)
    if end - start + 1 > MAX_REGION:
        raise ApiError(400, f"a region spans at most {MAX_REGION} bp", parameter)
    return chrom, start, end


# ----------------------------------------------------------------- projects


def _release_project(store: DataStore, release: str, current: str | None) -> Obj:
    manifest = store.manifest(release)
    parts = manifest.get("parts")
    return {
        "id": release,
        "name": release,
        "type": "release",
        "description": manifest.get("description") or f"OmicsGate data release {release}",
        "current": release == current,
        "created": manifest.get("created"),
        "parts": sorted(parts) if isinstance(parts, dict | list) else [],
    }


def _current(store: DataStore) -> str | None:
    try:
        return store.current_release()
    except (ReleaseNotFound, InvalidRelease):
        return None


def all_projects(scope: Scope) -> list[Obj]:
    store, caller = scope.store, scope.caller
    current = _current(store)
    found = [_release_project(store, r, current) for r in visible_releases(store, caller)]
    seen = {p["id"] for p in found}
    for hosted in rnaget_catalog.hosted(store)["projects"]:
        if hosted["id"] not in seen:
            seen.add(hosted["id"])
            found.append({**hosted, "type": "rnaget"})
    batches: dict[str, int] = {}
    for study in scope.gwas.visible(caller).values():
        batches[study.batch] = batches.get(study.batch, 0) + 1
    for batch, count in sorted(batches.items()):
        if batch not in seen:
            found.append(
                {
                    "id": batch,
                    "name": batch,
                    "type": GWAS_PROJECT_TYPE,
                    "description": f"GWAS batch {batch} (OpenGWAS)",
                    "numStudies": count,
                }
            )
    return found


PROJECT_FILTERS = {
    "type": "release (a data release), gwas (a batch of GWAS studies) or rnaget (hosted)",
    "name": "part of the name, any case",
}
_PROJECT_RULES = {"type": ("type", _equals), "name": ("name", _contains)}

# ----------------------------------------------------------------- studies


def _gwas_study(study: Any) -> Obj:
    info = study.gwasinfo()
    return {
        "id": study.id,
        "name": study.trait,
        "type": "gwas",
        "project": study.batch,
        "trait": study.trait,
        "population": info.get("population"),
        "sampleSize": info.get("sample_size"),
        "year": info.get("year"),
        "gwasinfo": info,
    }


def _expression_study(study: Obj) -> Obj:
    release, sep, tissue = study["id"].partition(rnaget_catalog.STUDY_SEPARATOR)
    return {
        "id": study["id"],
        "name": study.get("name"),
        "type": "expression",
        "project": study.get("parentProjectID") or (release if sep else None),
        "tissue": tissue if sep else None,
        "description": study.get("description"),
        "genome": study.get("genome"),
        "tags": study.get("tags") or [],
    }


def all_studies(scope: Scope) -> list[Obj]:
    expression = rnaget_catalog.studies(scope.store, scope.caller)
    gwas = sorted(scope.gwas.visible(scope.caller).values(), key=lambda s: s.id)
    return [_expression_study(s) for s in expression] + [_gwas_study(s) for s in gwas]


STUDY_FILTERS = {
    "type": "gwas or expression",
    "project": "the project (release, GWAS batch) the study belongs to",
    "trait": "part of a GWAS study's trait, any case",
    "tissue": "an expression study's tissue (tissueSiteDetailId)",
    "population": "a GWAS study's population (European, ...)",
    "name": "part of the name, any case",
}
_STUDY_RULES = {
    "type": ("type", _equals),
    "project": ("project", _equals),
    "trait": ("trait", _contains),
    "tissue": ("tissue", _equals),
    "population": ("population", _equals),
    "name": ("name", _contains),
}


def _study_samples(scope: Scope, study_id: str) -> list[Obj] | None:
    found = _by_id(all_studies(scope), [study_id]).get(study_id)
    if found is None:
        return None
    if found["type"] != "expression" or not found.get("tissue"):
        return []  # GWAS studies publish summary statistics, hosted matrices no samples
    release = str(found["project"])
    return [s for s in release_samples(scope.store, release) if s["tissue"] == found["tissue"]]


def _project_studies(scope: Scope, project_id: str) -> list[Obj] | None:
    if project_id not in {p["id"] for p in all_projects(scope)}:
        return None
    return [s for s in all_studies(scope) if s["project"] == project_id]


# ----------------------------------------------------------------- samples


def release_samples(store: DataStore, release: str) -> list[Obj]:
    """The expression samples of a release, in matrix column order."""

    def load() -> list[Obj]:
        if not store.has_table(release, xs.SAMPLES):
            return []
        table = store.read_all(release, xs.SAMPLES)
        rows = sorted(
            zip(
                table["column"].tolist(),
                table["sampleId"].tolist(),
                table["tissue"].tolist(),
                table["subjectId"].tolist(),
                table["sex"].tolist(),
                table["ageBracket"].tolist(),
                strict=True,
            )
        )
        return [
            {
                "id": str(sample),
                "project": release,
                "study": f"{release}{rnaget_catalog.STUDY_SEPARATOR}{tissue}",
                "tissue": str(tissue),
                "individual": {"id": str(subject), "sex": str(sex), "ageBracket": str(age)},
            }
            for _, sample, tissue, subject, sex, age in rows
        ]

    return store.memo(release, "catalogSamples", load)


SAMPLE_FILTERS = {
    "tissue": "tissueSiteDetailId",
    "study": "the expression study (<release>:<tissue>)",
    "individual": "the subject's ID",
    "sex": "male or female",
    "ageBracket": "e.g. 40-49",
}
_SAMPLE_RULES = {
    "tissue": ("tissue", _equals),
    "study": ("study", _equals),
    "individual": ("individual", lambda v, w: _equals((v or {}).get("id"), w)),
    "sex": ("individual", lambda v, w: _equals((v or {}).get("sex"), w)),
    "ageBracket": ("individual", lambda v, w: _equals((v or {}).get("ageBracket"), w)),
}


def _samples(scope: Scope) -> list[Obj]:
    return release_samples(scope.store, scope.need_release())


# ----------------------------------------------------------------- tissues


def _tissues(scope: Scope) -> list[Obj]:
    release = scope.need_release()
    rows = reference.tissue_info(scope.store, release)
    return [{"id": t["tissueSiteDetailId"], "project": release, **t} for t in rows]


TISSUE_FILTERS = {
    "name": "part of tissueSiteDetail, any case",
    "tissueSite": "the tissue site",
    "hasEGenes": "true or false",
}
_TISSUE_RULES = {
    "name": ("tissueSiteDetail", _contains),
    "tissueSite": ("tissueSite", _equals),
    "hasEGenes": ("hasEGenes", _equals),
}

# ----------------------------------------------------------------- genes


def _gene(release: str, row: Obj) -> Obj:
    return {"id": row["geneId"], "project": release, **row}


def _genes(scope: Scope) -> list[Obj]:
    """Summaries (no statusInTissue): a search filters, sorts and pages these, and only
    the page is expanded (:func:`_expand_genes`): 56,000 genes x 54 tissues of status
    would cost seconds per search."""
    release = scope.need_release()
    return [_gene(release, g) for g in reference.gene_summaries(scope.store, release)]


def _expand_genes(scope: Scope, page: list[Obj]) -> list[Obj]:
    found = _gene_info(scope, [g["id"] for g in page])
    return [found.get(g["id"], g) for g in page]


def _gene_info(scope: Scope, ids: list[str]) -> dict[str, Obj]:
    """IDs match case-insensitively, as /gene's do; a result answers under the ID asked."""
    release = scope.need_release()
    found: dict[str, Obj] = {}
    for gene_id in ids:
        rows = reference.genes(scope.store, release, [gene_id])
        if rows:
            found[gene_id] = _gene(release, rows[0])
    return found


def _genes_search(scope: Scope, filters: dict[str, str]) -> list[Obj]:
    filters = dict(filters)
    region = filters.pop("region", None)
    records = _filtered(_genes(scope), filters, _GENE_RULES)
    if region is not None:
        chrom, start, end = parse_region(region)
        records = [
            g
            for g in records
            if g["chromosome"] == chrom and g["start"] <= end and g["end"] >= start
        ]
    return records


GENE_FILTERS = {
    "chromosome": "e.g. chr1",
    "region": "genes overlapping chr:start-end",
    "description": "part of the description, any case",
    "hasEqtl": "true or false",
}
_GENE_RULES = {
    "chromosome": ("chromosome", _equals),
    "description": ("description", _contains),
    "hasEqtl": ("hasEqtl", _equals),
}


def _gene_eqtls(scope: Scope, gene_id: str) -> list[Obj] | None:
    release = scope.need_release()
    try:
        qtl.require(scope.store, release, "independent")
    except qtl.NoQtl as error:
        raise ApiError(400, str(error), "project") from error
    try:
        return qtl.independent(scope.store, release, gene_id, None)
    except UnknownIds:
        return None


# ----------------------------------------------------------------- variants


def _loci(release: str, rows: Iterable[Obj]) -> list[Obj]:
    """Variant rows (one per ALT, as /variant serves them) as one record per locus."""
    loci: dict[tuple[str, int], Obj] = {}
    for row in rows:
        record = loci.setdefault(
            (row["chromosome"], row["pos"]),
            {
                "id": f"{row['chromosome']}:{row['pos']}",
                "source": "release",
                "project": release,
                "chromosome": row["chromosome"],
                "start": int(row["pos"]),
                "reference": row["ref"],
                "alternates": [],
            },
        )
        record["alternates"].append(row["alt"])
    return list(loci.values())


def _release_region(store: DataStore, release: str, chrom: str, start: int, end: int) -> list[Obj]:
    """The release's variants in a region: one range query of the array /variant reads."""

    def read(array: Any) -> dict[str, Any]:
        return dict(array.query(attrs=("ref", "alt", "ordinal")).multi_index[[chrom], start:end])

    if not store.has_table(release, reference.VARIANTS):
        return []
    columns = store.read(release, reference.VARIANTS, read)
    order = sorted(
        range(len(columns["pos"])),
        key=lambda i: (int(columns["pos"][i]), int(columns["ordinal"][i])),
    )
    rows = [
        {
            "chromosome": chrom,
            "pos": int(columns["pos"][i]),
            "ref": str(columns["ref"][i]),
            "alt": str(columns["alt"][i]),
        }
        for i in order
    ]
    return _loci(release, rows)


def _gwas_variants(scope: Scope, loci: list[Locus]) -> list[Obj]:
    studies = list(scope.gwas.visible(scope.caller).values())
    by_rsid: dict[str, Obj] = {}
    for row in scope.gwas.variants(loci, studies):
        key = str(row["rsid"] or f"{row['chr']}:{row['pos']}")
        record = by_rsid.setdefault(
            key,
            {
                "id": key,
                "source": "gwas",
                "project": GWAS_PROJECT_TYPE,
                "chromosome": str(row["chr"]),
                "start": int(row["pos"]),
                "reference": str(row["ref"]),
                "alternates": [],
            },
        )
        if row["alt"] not in record["alternates"]:
            record["alternates"].append(str(row["alt"]))
    return list(by_rsid.values())


def _variant_info(scope: Scope, ids: list[str]) -> dict[str, Obj]:
    """``rs123``: a variant GWAS studies the caller may see report; ``chr:pos``: the
    project's variant at that position (every ALT of it), all read at once by /variant's
    reader."""
    found: dict[str, Obj] = {}
    rsids = [i for i in ids if is_rsid(i)]
    for rsid, loci in (scope.gwas.locate_rsids(rsids) if rsids else {}).items():
        records = [r for r in _gwas_variants(scope, loci) if r["id"] == rsid]
        if records:
            found[rsid] = records[0]
    positions = {
        i: parsed for i in ids if not is_rsid(i) and (parsed := reference.parse_variant_id(i))
    }
    if positions:
        release = scope.need_release()
        rows = reference.variants(scope.store, release, list(positions.values()))
        by_locus = {(r["chromosome"], r["start"]): r for r in _loci(release, rows)}
        for variant_id, locus in positions.items():
            if locus in by_locus:
                found[variant_id] = by_locus[locus]
    return found


def _variants_search(scope: Scope, filters: dict[str, str]) -> list[Obj]:
    region = filters.get("region")
    if region is None:
        raise ApiError(400, "a variant search needs a region (chr:start-end)", "region")
    chrom, start, end = parse_region(region)
    source = filters.get("source")
    if source not in (None, "release", "gwas"):
        raise ApiError(400, "release or gwas", "source")
    found: list[Obj] = []
    if source in (None, "release"):
        found += _release_region(scope.store, scope.need_release(), chrom, start, end)
    if source in (None, "gwas"):
        try:
            locus = parse_chrpos(f"{chrom}:{start}-{end}")
        except ValueError:
            locus = None
        if locus is not None:
            found += _gwas_variants(scope, [locus])
    return found


VARIANT_FILTERS = {
    "region": "chr:start-end (required; at most 10 Mb): the project's variants and the GWAS "
    "studies' variants there",
    "source": "release (the project's variants) or gwas (variants GWAS studies report)",
}


def _variant_loci(scope: Scope, variant_id: str) -> list[Locus] | None:
    if is_rsid(variant_id):
        loci = scope.gwas.locate_rsids([variant_id]).get(variant_id) or []
        return loci or None
    if not _variant_info(scope, [variant_id]):
        return None
    try:
        return [parse_chrpos(variant_id)]
    except ValueError:
        return []


def _variant_associations(scope: Scope, variant_id: str) -> list[Obj] | None:
    """Every association the caller's GWAS studies report at the variant's position."""
    loci = _variant_loci(scope, variant_id)
    if loci is None:
        return None
    studies = sorted(scope.gwas.visible(scope.caller).values(), key=lambda s: s.id)
    if not loci or not studies:
        return []
    rows = scope.gwas.associations(studies, loci)
    return [{"variant": variant_id, **row} for row in rows]


# ----------------------------------------------------------------- tools


def _tool(doc: Obj) -> Obj:
    versions = [
        {
            "id": v.get("id"),
            "name": v.get("name"),
            "descriptorTypes": list(v.get("descriptor_type") or []),
            "images": [i.get("image_name") for i in v.get("images") or []],
        }
        for v in doc.get("versions") or []
    ]
    return {
        "id": doc["id"],
        "name": doc.get("name"),
        "description": doc.get("description"),
        "organization": doc.get("organization"),
        "toolClass": (doc.get("toolclass") or {}).get("name"),
        "versions": versions,
        "trs": f"/ga4gh/trs/v2/tools/{doc['id']}",
    }


def all_tools(scope: Scope) -> list[Obj]:
    from omicsgate.trs import get_registry

    return sorted((_tool(d) for d in get_registry().tools(scope.caller)), key=lambda t: t["id"])


TOOL_FILTERS = {
    "name": "part of the name, any case",
    "toolClass": "CommandLineTool, Workflow, ...",
    "descriptorType": "CWL, WDL, NFL, SMK, GALAXY: tools with a version in it",
    "organization": "part of the organization, any case",
}
_TOOL_RULES = {
    "name": ("name", _contains),
    "toolClass": ("toolClass", _equals),
    "descriptorType": (
        "versions",
        lambda v, w: any(w.upper() in (x or {}).get("descriptorTypes", []) for x in v or []),
    ),
    "organization": ("organization", _contains),
}


# ----------------------------------------------------------------- the resources


def _lister(
    records: Callable[[Scope], list[Obj]], rules: dict[str, Any]
) -> tuple[Finder, Searcher]:
    return (
        lambda scope, ids: _by_id(records(scope), ids),
        lambda scope, filters: _filtered(records(scope), filters, rules),
    )


def _resources() -> dict[str, Resource]:
    projects = _lister(all_projects, _PROJECT_RULES)
    studies = _lister(all_studies, _STUDY_RULES)
    samples = _lister(_samples, _SAMPLE_RULES)
    tissues = _lister(_tissues, _TISSUE_RULES)
    tools = _lister(all_tools, _TOOL_RULES)
    eqtls = Link("eqtl", _gene_eqtls, "the gene's conditionally independent QTLs, every tissue")
    associations = Link(
        "association", _variant_associations, "the GWAS associations at the variant"
    )
    return {
        "projects": Resource(
            "projects",
            "project",
            "data releases, GWAS batches and hosted RNAget projects",
            PROJECT_FILTERS,
            *projects,
            links={"studies": Link("study", _project_studies, "the project's studies")},
        ),
        "studies": Resource(
            "studies",
            "study",
            "GWAS studies and expression studies (one per release tissue)",
            STUDY_FILTERS,
            *studies,
            links={"samples": Link("sample", _study_samples, "an expression study's samples")},
        ),
        "samples": Resource(
            "samples", "sample", "expression samples of a release", SAMPLE_FILTERS, *samples,
            release_scoped=True,
        ),
        "tissues": Resource(
            "tissues", "tissue", "tissues of a release", TISSUE_FILTERS, *tissues,
            release_scoped=True,
        ),
        "genes": Resource(
            "genes",
            "gene",
            "genes of a release",
            GENE_FILTERS,
            _gene_info,
            _genes_search,
            release_scoped=True,
            links={"eqtls": eqtls, "qtls": eqtls},
            expand=_expand_genes,
        ),
        "variants": Resource(
            "variants",
            "variant",
            "variants of a release (chr:pos) and of GWAS studies (rsid)",
            VARIANT_FILTERS,
            _variant_info,
            _variants_search,
            release_scoped=True,
            links={"associations": associations, "gwas": associations},
        ),
        "tools": Resource("tools", "tool", "tools of the TRS registry", TOOL_FILTERS, *tools),
    }  # fmt: skip


RESOURCES = _resources()
