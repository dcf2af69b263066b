"""The GWAS commands of ``omicsgate``: studies come and go one at a time.

omicsgate ingest gwas --study ID --metadata JSON|TSV FILE...   add (or replace) one study
omicsgate ingest gwas --from-dir DIR [--metadata TSV]          one study per file in DIR
omicsgate ingest ld-panel --population POP --bfile PREFIX   (re)place one LD reference panel
omicsgate gwas list|remove ID|consolidate
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from omicsgate.gwas import POPULATIONS
from omicsgate.ingest.errors import InputError
from omicsgate.storage import DataStore

StoreFor = Callable[[str | None], DataStore]
GroupsFrom = Callable[[str], frozenset[str]]


def add_commands(
    commands: Any, ingest_kinds: Any, store_for: StoreFor, groups_from: GroupsFrom
) -> None:
    gwas = ingest_kinds.add_parser("gwas", help="GWAS summary statistics: one study per file")
    gwas.add_argument("files", nargs="*", metavar="FILE", help="GWAS-VCF or GWAS-SSF TSV")
    gwas.add_argument("--study", help="study ID (OpenGWAS-style: batch-number, e.g. ieu-a-2)")
    gwas.add_argument("--metadata", help="study metadata: JSON, or TSV with an id column")
    gwas.add_argument("--from-dir", help="ingest every ID.vcf.gz / ID.tsv.gz in this directory")
    gwas.add_argument("--groups", default="", help="restrict the studies to these groups")
    gwas.set_defaults(run=lambda args: _ingest(args, store_for, groups_from))

    panel = ingest_kinds.add_parser("ld-panel", help="an LD reference panel (PLINK bed/bim/fam)")
    panel.add_argument("--population", required=True, choices=POPULATIONS)
    panel.add_argument("--bfile", required=True, metavar="PREFIX", help="PREFIX.bed/.bim/.fam")
    panel.set_defaults(run=lambda args: _ingest_panel(args, store_for))

    manage = commands.add_parser("gwas", help="list, remove or consolidate GWAS studies")
    manage.add_argument("action", choices=["list", "remove", "consolidate"])
    manage.add_argument("study", nargs="?")
    manage.set_defaults(run=lambda args: _manage(args, store_for))


def _ingest(args: argparse.Namespace, store_for: StoreFor, groups_from: GroupsFrom) -> int:
    from tqdm import tqdm

    from omicsgate.ingest.gwas import (
        StudyInput,
        ingest_study,
        read_metadata,
        studies_in_dir,
        study_metadata,
    )

    store = store_for(args.data_uri)
    groups = groups_from(args.groups)
    metadata = read_metadata(args.metadata) if args.metadata else {}
    if args.from_dir:
        if args.study or args.files:
            raise InputError(args.from_dir, 0, "--from-dir", "takes no --study and no FILE")
        studies = studies_in_dir(args.from_dir, metadata, args.metadata or args.from_dir)
    else:
        if not args.study or not args.files or not args.metadata:
            raise InputError("ingest gwas", 0, "arguments", "needs --study, --metadata and FILE")
        vcf = next((f for f in args.files if f.lower().endswith((".vcf", ".vcf.gz"))), None)
        info = study_metadata(metadata, args.study, args.metadata, vcf)
        studies = [StudyInput(args.study, list(args.files), info)]
    bar = tqdm(studies, unit=" studies", disable=args.quiet or len(studies) == 1)
    for study in bar:
        bar.set_postfix_str(study.study_id)
        written = ingest_study(store, study, groups, progress=not args.quiet and len(studies) == 1)
        print(f"study {written.id}: {written.info['nsnp']} associations (slot {written.slot})")
    if len(studies) > 1:
        from omicsgate.gwas.writer import consolidate

        consolidate(store)
        print(f"{len(studies)} studies ingested; shared arrays consolidated")
    return 0


def _ingest_panel(args: argparse.Namespace, store_for: StoreFor) -> int:
    from omicsgate.ingest.ld_panel import ingest_panel

    record = ingest_panel(store_for(args.data_uri), args.population, args.bfile)
    print(f"LD panel {record['population']}: {record['snps']} SNPs x {record['samples']} samples")
    return 0


def _manage(args: argparse.Namespace, store_for: StoreFor) -> int:
    from omicsgate.gwas.writer import consolidate, list_studies, remove_study

    store = store_for(args.data_uri)
    if args.action == "list":
        for study in list_studies(store):
            access = ",".join(sorted(study.groups)) or "public"
            print(f"{study.id}\t{study.info.get('nsnp')}\t{access}\t{study.trait}")
        return 0
    if args.action == "remove":
        if not args.study:
            raise InputError("gwas remove", 0, "study", "name the study to remove")
        if not remove_study(store, args.study):
            print(f"omicsgate: no study {args.study!r}")
            return 2
        print(f"study {args.study} removed")
        return 0
    done = consolidate(store)
    arrays = ", ".join(done["arrays"]) or "nothing"
    print(f"consolidated {arrays}; dropped the rows of slots {done['dropped_slots']}")
    return 0
