"""``omicsgate``: build data releases and look after them.

A release is built from parts, each ingested into the draft ID (created on first use; a
part ingested again replaces the earlier one), then published: checked, made visible and
immutable in one step.

omicsgate ingest reference --release ID --tissues T --annotation GTF --variants VCF
omicsgate ingest expression --release ID --gct GCT --sample-attributes TSV [...]
omicsgate ingest genotypes --release ID --vcf VCF
omicsgate ingest qtl --release ID --cis TISSUE=PATH [--independent MODALITY:TISSUE=PATH]
                     [--pairs TISSUE=PARQUET ...]
omicsgate ingest gwas --study ID --metadata JSON|TSV FILE...   add or replace a GWAS study
omicsgate ingest gwas --from-dir DIR [--metadata TSV]          one study per file
omicsgate gwas list|remove ID|consolidate
omicsgate ingest rnaget-compliance DIR    host the RNAget compliance suite's objects
omicsgate ingest continuous --id ID --study STUDY [--units U]
                     (--bigwig NAME=FILE ... | --bedgraph NAME=FILE ... | --loom FILE)
omicsgate releases publish ID [--current]   check the draft and publish it
omicsgate releases current [ID]             show (or switch) the current release
omicsgate releases list|prune
omicsgate demo files DIR           write the demo input files
omicsgate demo release             ingest the demo data unless a release is current
omicsgate demo trs                 register the demo TRS tools through the write API
omicsgate token issue --user NAME [--groups a,b] [--tier standard]
omicsgate token revoke --user NAME    refuse every token issued to NAME until now
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from omicsgate.gwas.writer import InvalidStudy
from omicsgate.ingest import gwas_cli
from omicsgate.ingest.demo import DEMO_RELEASE, DemoFiles, write_demo
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.reference import ReferenceInputs, write_reference
from omicsgate.settings import get_settings
from omicsgate.storage import (
    DamagedFile,
    DataStore,
    InvalidRelease,
    ReleaseExists,
    ReleaseNotFound,
    RestrictedRelease,
    StoreUnavailable,
)
from omicsgate.storage.writer import (
    DEFAULT_PRUNE_GRACE_SECONDS,
    DraftInconsistent,
    PartWriter,
    draft_parts,
    find_orphans,
    prune,
    publish,
    publish_draft,
)

if TYPE_CHECKING:
    from omicsgate.ingest.expression import ExpressionInputs


def _store(data_uri: str | None) -> DataStore:
    settings = get_settings()
    if data_uri:
        settings = dataclasses.replace(settings, data_uri=data_uri.rstrip("/"))
    return DataStore(settings)


def _groups(text: str) -> frozenset[str]:
    """``a, b`` -> {"a", "b"}: the --groups option of ingest and token issue."""
    return frozenset(g.strip() for g in text.split(",") if g.strip())


def ingest_part(
    store: DataStore,
    release: str,
    part: str,
    write: Callable[[PartWriter], None],
    description: str = "",
    groups: frozenset[str] = frozenset(),
) -> None:
    """Add one part to the draft ``release``, replacing an earlier version of that part."""
    with PartWriter(store, release, part, description, groups) as writer:
        write(writer)
        writer.commit()


def publish_release(store: DataStore, release: str, make_current: bool) -> dict[str, Any]:
    """Check the draft's parts agree, derive what comes from several of them, publish."""
    from omicsgate.ingest.assemble import assemble_portal

    return publish_draft(store, release, assemble_portal, make_current)


def reference_part(inputs: ReferenceInputs, progress: bool) -> Callable[[PartWriter], None]:
    return lambda writer: write_reference(writer, inputs, progress)


def expression_part(inputs: ExpressionInputs, progress: bool) -> Callable[[PartWriter], None]:
    from omicsgate.ingest.expression import write_expression

    return lambda writer: write_expression(writer, inputs, progress)


def build_demo_release(
    store: DataStore,
    release: str,
    files: DemoFiles,
    progress: bool,
    make_current: bool = True,
    groups: frozenset[str] = frozenset(),
    description: str = "OmicsGate demo data (synthetic)",
) -> None:
    """The demo files as a release: the reference, expression, genotype and QTL parts (the
    last two when the demo has them), published."""
    from omicsgate.ingest.expression import ExpressionInputs

    reference = ReferenceInputs(files.tissues, files.annotation, files.variants, files.gene_status)
    expression = ExpressionInputs(
        gct=files.expression,
        sample_attributes=files.sample_attributes,
        subject_phenotypes=files.subject_phenotypes,
    )
    parts = [
        ("reference", reference_part(reference, progress)),
        ("expression", expression_part(expression, progress)),
    ]
    if files.genotypes:
        from omicsgate.ingest.genotypes import GenotypeInputs, write_genotypes

        genotypes = GenotypeInputs(files.genotypes)
        parts.append(("genotypes", lambda writer: write_genotypes(writer, genotypes, progress)))
    if files.qtl:
        from omicsgate.ingest.demo_qtl import qtl_inputs
        from omicsgate.ingest.qtl import write_qtl

        qtl = qtl_inputs(files.qtl)
        parts.append(("qtl", lambda writer: write_qtl(writer, qtl, progress)))
    for part, write in parts:
        ingest_part(store, release, part, write, description, groups)
    publish_release(store, release, make_current and not groups)
    from omicsgate.ingest.continuous import build_demo_continuous

    build_demo_continuous(store, release)  # as visible as the release: its first study's


def _cmd_ingest(args: argparse.Namespace) -> int:
    store = _store(args.data_uri)
    groups = _groups(args.groups)
    write = _part_writer(args)
    ingest_part(store, args.release, args.kind, write, args.description, groups)
    print(f"{args.kind} part of draft release {args.release} written to {store.root}")
    if args.publish:
        return _publish(store, args.release, not (args.no_current or groups))
    return 0


def _part_writer(args: argparse.Namespace) -> Callable[[PartWriter], None]:
    progress = not args.quiet
    if args.kind == "reference":
        inputs = ReferenceInputs(
            args.tissues, args.annotation, args.variants, args.gene_status, args.gene_id_attribute
        )
        return reference_part(inputs, progress)
    if args.kind == "genotypes":
        from omicsgate.ingest.genotypes import GenotypeInputs, write_genotypes

        genotypes = GenotypeInputs(args.vcf)
        return lambda writer: write_genotypes(writer, genotypes, progress)
    if args.kind == "qtl":
        return _qtl_part(args, progress)
    from omicsgate.ingest.expression import ExpressionInputs

    bed = dict(_tissue_file(text) for text in args.bed)
    expression = ExpressionInputs(
        gct=args.gct,
        sample_attributes=args.sample_attributes,
        subject_phenotypes=args.subject_phenotypes,
        bed=bed,
    )
    return expression_part(expression, progress)


def _qtl_part(args: argparse.Namespace, progress: bool) -> Callable[[PartWriter], None]:
    from omicsgate.ingest.qtl import QtlInputs, write_qtl

    independent: dict[tuple[str, str], str] = {}
    for text in args.independent:
        key, path = _tissue_file(text, "--independent")
        modality, _, tissue = key.rpartition(":")
        independent[(modality or "expression", tissue)] = path
    pairs: dict[str, list[str]] = {}
    for text in args.pairs:
        tissue, path = _tissue_file(text, "--pairs")
        pairs.setdefault(tissue, []).append(path)
    cis = dict(_tissue_file(text, "--cis") for text in args.cis)
    inputs = QtlInputs(cis=cis, independent=independent, pairs=pairs)
    return lambda writer: write_qtl(writer, inputs, progress)


def _tissue_file(text: str, option: str = "--bed") -> tuple[str, str]:
    tissue, _, path = text.partition("=")
    if not tissue or not path:
        raise InputError(text, 0, option, "expected TISSUE=PATH")
    return tissue, path


def _publish(store: DataStore, release: str, make_current: bool) -> int:
    manifest = publish_release(store, release, make_current)
    parts = ", ".join(manifest["parts"])
    state = "current" if make_current and not manifest["access"]["groups"] else "not current"
    print(f"release {release} published with parts {parts} ({state})")
    for note in manifest.get("notes", []):
        print(f"note: {note}")
    return 0


def _cmd_demo_files(args: argparse.Namespace) -> int:

    files = write_demo(
        args.directory, genes=args.genes, seed=args.seed, expression=not args.reference_only
    )
    print("\n".join(path for path in dataclasses.astuple(files) if path))
    return 0


def _cmd_ingest_rnaget_compliance(args: argparse.Namespace) -> int:
    from omicsgate.ingest.rnaget import ingest_compliance

    store = _store(args.data_uri)
    ids = ingest_compliance(store, args.directory)
    print(f"RNAget objects hosted in {store.root}: {', '.join(ids)}")
    return 0


def _cmd_ingest_continuous(args: argparse.Namespace) -> int:
    from omicsgate.ingest import continuous

    if args.loom:
        source, what = continuous.loom_source(args.loom), args.loom
    elif args.bigwig:
        source, what = continuous.bigwig_source(args.bigwig), ", ".join(args.bigwig)
    else:
        source, what = continuous.bedgraph_source(args.bedgraph), ", ".join(args.bedgraph)
    store = _store(args.data_uri)
    meta = continuous.Meta(args.id, args.study, args.units, source=what)
    record = continuous.write_continuous(store, meta, source)
    chromosomes = ", ".join(record["chromosomes"])
    print(f"continuous {args.id}: {len(record['tracks'])} tracks on {chromosomes} in {store.root}")
    return 0


def build_rnaget_compliance_once(store: DataStore) -> None:
    """The compliance suite's objects, read in place from ../shared when it is there (or
    $OMICSGATE_RNAGET_COMPLIANCE_DIR), unless the store has them already."""
    from omicsgate.ingest.rnaget import default_compliance_dir, has_compliance, ingest_compliance

    directory = default_compliance_dir()
    if directory is None or has_compliance(store):
        return
    ids = ingest_compliance(store, directory)
    print(f"RNAget compliance objects from {directory}: {', '.join(ids)}")


def _cmd_demo_release(args: argparse.Namespace) -> int:
    """Build the demo release and the demo GWAS studies once; later runs reuse them."""
    store = _store(args.data_uri)
    build_demo_gwas_once(store)
    build_rnaget_compliance_once(store)
    try:
        current = store.current_release()
        if current == args.release:  # the demo's own release, never a user's
            build_demo_continuous_once(store, current)
        print(f"current release: {current} at {store.root}")
        return 0
    except ReleaseNotFound:
        pass
    with tempfile.TemporaryDirectory() as directory:
        files = write_demo(directory, genes=args.genes, seed=args.seed)
        print(f"building the demo release {args.release} in {store.root} ...")
        build_demo_release(store, args.release, files, not args.quiet)
    print(f"current release: {args.release}")
    return 0


def _cmd_demo_trs(args: argparse.Namespace) -> int:
    """The demo registry: CWL from the installed cwl-utils, OmicsGate's own descriptors."""
    from omicsgate.ingest.demo_trs import seed_registry

    registered = seed_registry(args.template)
    print(f"TRS registry: {len(registered)} demo tools ({', '.join(registered)})")
    return 0


def build_demo_continuous_once(store: DataStore, release: str) -> None:
    """The demo continuous signal for a store built before the continuous part existed."""
    from omicsgate.ingest.continuous import build_demo_continuous, demo_continuous_id
    from omicsgate.rnaget.continuous import record_uri

    if store.read_json(record_uri(store.root, demo_continuous_id(release))) is None:
        built = build_demo_continuous(store, release)
        if built:
            print(f"demo continuous signal: {built}")


def build_demo_gwas_once(store: DataStore) -> None:
    """The demo GWAS studies, unless the store has studies already (then the demo LD
    panel, unless the store has a panel)."""
    from omicsgate.gwas._panels import load_panels
    from omicsgate.gwas.writer import list_studies
    from omicsgate.ingest.demo_gwas import build_demo_gwas, build_demo_panel

    if list_studies(store):
        if not load_panels(store):  # a store built before the panels existed
            print(f"adding the demo LD panel to {store.root} ...")
            build_demo_panel(store)
        return
    with tempfile.TemporaryDirectory() as directory:
        print(f"building the demo GWAS studies in {store.root} ...")
        studies = build_demo_gwas(store, directory)
    print(f"GWAS studies: {', '.join(studies)}")


def _cmd_releases(args: argparse.Namespace) -> int:
    actions = {
        "list": _releases_list,
        "current": _releases_current,
        "publish": _releases_publish,
        "prune": _releases_prune,
    }
    return actions[args.action](_store(args.data_uri), args)


def _current_or_none(store: DataStore) -> str | None:
    try:
        return store.current_release()
    except ReleaseNotFound:
        return None


def _releases_list(store: DataStore, args: argparse.Namespace) -> int:
    """Every published release, * on the current one, then the drafts with their parts; a
    damaged file is named, not fatal."""
    damaged = False
    try:
        current = _current_or_none(store)
    except DamagedFile as error:
        print(f"omicsgate: {error}", file=sys.stderr)
        current, damaged = None, True
    drafts: list[str] = []
    for release in store.release_dirs():
        try:
            store.resolve(release)
        except ReleaseNotFound:
            drafts += _draft_line(store, release)
            continue
        except DamagedFile as error:
            print(f"omicsgate: {error}", file=sys.stderr)
            damaged = True
            continue
        print(f"{'*' if release == current else ' '} {release}")
    if drafts:
        print("drafts (not visible until published):", *drafts, sep="\n")
    return 2 if damaged else 0


def _draft_line(store: DataStore, release: str) -> list[str]:
    """A draft and its parts; nothing for a release never committed (see `prune`)."""
    try:
        parts = draft_parts(store, release)
    except DamagedFile as error:
        print(f"omicsgate: {error}", file=sys.stderr)
        return [f"  {release} (damaged draft)"]
    return [f"  {release} (parts: {', '.join(parts)})"] if parts else []


def _releases_current(store: DataStore, args: argparse.Namespace) -> int:
    """Without an ID: the current release. With one: make that published release current
    (a roll-back is the same command with an older ID)."""
    if args.release:
        return _switch_current(store, args.release)
    current = _current_or_none(store)
    print(current or "no release is current")
    return 0 if current else 1


def _switch_current(store: DataStore, release: str) -> int:
    try:
        previous = _current_or_none(store)
    except DamagedFile:
        previous = None  # switching repairs a damaged pointer
    publish(store, release)
    print(f"release {release} is now current (was {previous or 'none'})")
    return 0


def _releases_publish(store: DataStore, args: argparse.Namespace) -> int:
    return _publish(store, args.release, args.current)


def _releases_prune(store: DataStore, args: argparse.Namespace) -> int:
    """Remove what failed or killed ingestions left; a live writer's attempt is kept."""
    try:
        orphans = find_orphans(store, args.grace_seconds)
    except ValueError as error:
        print(f"omicsgate: --grace-seconds: {error}", file=sys.stderr)
        return 2
    if not args.dry_run:
        prune(store, orphans)
    verb = "would remove" if args.dry_run else "removed"
    for orphan in orphans:
        print(f"{verb} {orphan.uri} ({orphan.reason})")
    if not orphans:
        print("nothing to prune")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from omicsgate.auth import get_auth

    auth = get_auth()
    if args.action == "revoke":
        user = auth.revoke(args.user)
        print(f"tokens of {user.uid} issued before epoch {user.valid_after} are now refused")
        return 0
    from omicsgate.localapi.tokens import issue_token

    problem = _token_problem(args, [name for name, _ in auth.settings.tier_limits])
    if problem:
        print(f"omicsgate: {problem}", file=sys.stderr)
        return 2
    groups = _groups(args.groups)
    lifetime = round(args.days * 24 * 3600)
    print(issue_token(auth, args.user, groups, args.tier, lifetime, _groups(args.roles)))
    return 0


MAX_TOKEN_DAYS = 365  # a development token; a longer-lived one is a leak waiting to happen


def _token_problem(args: argparse.Namespace, tiers: list[str]) -> str | None:
    """Why ``token issue`` must refuse: an unknown tier would silently get the standard
    allowance, and a lifetime of zero or less an already expired token."""
    if args.tier not in tiers:
        return f"--tier: unknown tier {args.tier!r} (known: {', '.join(tiers)}; OMICSGATE_TIERS)"
    if not 0 < args.days <= MAX_TOKEN_DAYS:
        return f"--days: {args.days:g} is not a number of days in (0, {MAX_TOKEN_DAYS}]"
    if not args.user.strip():
        return "--user: empty user name"
    return None


def _part_options() -> argparse.ArgumentParser:
    """What every ``ingest`` kind takes: the draft, and what publishing it would do."""
    part = argparse.ArgumentParser(add_help=False)
    part.add_argument("--release", required=True, help="release ID (the datasetId)")
    part.add_argument("--description", default="")
    part.add_argument(
        "--groups",
        default="",
        help="restrict the release to these comma-separated groups "
        "(a restricted release is never current: callers choose it with datasetId)",
    )
    part.add_argument(
        "--publish", action="store_true", help="publish the draft once this part is written"
    )
    part.add_argument(
        "--no-current",
        action="store_true",
        help="with --publish: do not make the release current",
    )
    return part


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omicsgate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-uri",
        help="local directory or s3://bucket/prefix (default: $OMICSGATE_DATA_URI or ./.data)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="add a part to a draft release")
    kinds = ingest.add_subparsers(dest="kind", required=True)
    part = _part_options()
    reference = kinds.add_parser(
        "reference", parents=[part], help="tissues, genes, exons, variants"
    )
    reference.add_argument("--tissues", required=True, help="tissue table (TSV)")
    reference.add_argument("--annotation", required=True, help="genes and exons (GTF or GFF3)")
    reference.add_argument("--variants", required=True, help="variant sites (VCF)")
    reference.add_argument("--gene-status", help="per-tissue gene status (TSV)")
    reference.add_argument(
        "--gene-id-attribute",
        default="gene_name",
        help="attribute served as geneId (default gene_name)",
    )
    expression = kinds.add_parser(
        "expression", parents=[part], help="per-sample TPM (GTEx GCT or RatGTEx BED)"
    )
    expression.add_argument("--gct", help="gene x sample TPM (GCT 1.2, may be gzipped)")
    expression.add_argument(
        "--sample-attributes", help="GTEx sample attributes (TSV: SAMPID, SMTSD[, SUBJID])"
    )
    expression.add_argument(
        "--subject-phenotypes", help="GTEx subject phenotypes (TSV: SUBJID, SEX, AGE)"
    )
    expression.add_argument(
        "--bed",
        action="append",
        default=[],
        metavar="TISSUE=PATH",
        help="RatGTEx expression BED of one tissue (repeat per tissue)",
    )
    genotypes = kinds.add_parser("genotypes", parents=[part], help="genotype dosages (VCF)")
    genotypes.add_argument("--vcf", required=True, help="VCF with GT (bgzipped or plain)")
    qtl = kinds.add_parser(
        "qtl", parents=[part], help="tensorQTL results (cis, independent, pairs)"
    )
    qtl.add_argument(
        "--cis", action="append", default=[], metavar="TISSUE=PATH", help="tensorQTL cis table"
    )
    qtl.add_argument(
        "--independent",
        action="append",
        default=[],
        metavar="[MODALITY:]TISSUE=PATH",
        help="tensorQTL cis_independent table (modality: expression unless given)",
    )
    qtl.add_argument(
        "--pairs",
        action="append",
        default=[],
        metavar="TISSUE=PARQUET",
        help="tensorQTL cis_qtl_pairs.<chr>.parquet (repeat per chromosome)",
    )
    for kind in (reference, expression, genotypes, qtl):
        kind.set_defaults(run=_cmd_ingest)
    gwas_cli.add_commands(commands, kinds, _store, _groups)
    compliance = kinds.add_parser(
        "rnaget-compliance",
        help="the RNAget compliance suite's project and study, under the IDs it expects",
    )
    compliance.add_argument("directory", help="e.g. ../shared/data/rnaget-compliance")
    compliance.set_defaults(run=_cmd_ingest_rnaget_compliance)
    signal = kinds.add_parser(
        "continuous", help="RNAget continuous signal (bigWig, bedGraph or loom) of a study"
    )
    signal.add_argument("--id", required=True, help="the continuous matrix's ID")
    signal.add_argument("--study", required=True, help="the RNAget study it belongs to")
    signal.add_argument("--units", default="", help="units of the values (e.g. count)")
    sources = signal.add_mutually_exclusive_group(required=True)
    sources.add_argument("--bigwig", action="append", metavar="NAME=FILE", help="one per track")
    sources.add_argument("--bedgraph", action="append", metavar="NAME=FILE", help="one per track")
    sources.add_argument("--loom", help="tracks x positions (row attr tracks, col attr position)")
    signal.set_defaults(run=_cmd_ingest_continuous)

    demo = commands.add_parser("demo", help="the synthetic demo data")
    demo_kinds = demo.add_subparsers(dest="kind", required=True)
    files = demo_kinds.add_parser("files", help="write the demo input files")
    files.add_argument("directory")
    files.add_argument("--genes", type=int, default=3000)
    files.add_argument("--seed", type=int, default=4)
    # make scale needs only the reference of 56,200 genes; the demo's simulated genotypes
    # and QTL tables at that size take over 20 GB.
    files.add_argument("--reference-only", action="store_true", help="no expression or QTL")
    files.set_defaults(run=_cmd_demo_files)
    release = demo_kinds.add_parser("release", help="ingest the demo unless a release exists")
    release.add_argument("--release", default=DEMO_RELEASE)
    release.add_argument("--genes", type=int, default=3000)
    release.add_argument("--seed", type=int, default=4)
    release.set_defaults(run=_cmd_demo_release)
    trs = demo_kinds.add_parser("trs", help="register the demo TRS tools (idempotent)")
    trs.add_argument("--template", default="infra/template.yaml")
    trs.set_defaults(run=_cmd_demo_trs)

    releases = commands.add_parser("releases", help="list, publish, switch or prune releases")
    releases.add_argument("action", choices=["list", "current", "publish", "prune"])
    releases.add_argument("release", nargs="?")
    releases.add_argument(
        "--current", action="store_true", help="publish: also make the release current"
    )
    releases.add_argument(
        "--grace-seconds",
        type=float,
        default=DEFAULT_PRUNE_GRACE_SECONDS,
        help="prune: keep attempts whose writer was alive this recently "
        f"(default {DEFAULT_PRUNE_GRACE_SECONDS:.0f})",
    )
    releases.add_argument("--dry-run", action="store_true", help="prune: only list")
    releases.set_defaults(run=_cmd_releases)

    token = commands.add_parser("token", help="local development tokens (ES256, 14 days)")
    token.add_argument("action", choices=["issue", "revoke"])
    token.add_argument("--user", required=True)
    token.add_argument("--groups", default="", help="comma-separated groups")
    token.add_argument("--roles", default="", help="comma-separated roles (trs-writer)")
    token.add_argument("--tier", default="standard", help="a tier of OMICSGATE_TIERS")
    token.add_argument("--days", type=float, default=14, help="lifetime, at most 365 days")
    token.set_defaults(run=_cmd_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "releases" and args.action == "publish" and not args.release:
        _parser().error("releases publish needs a release ID")
    try:
        return int(args.run(args))
    except InputError as error:
        print(f"omicsgate: invalid input: {error}", file=sys.stderr)
    except (
        ReleaseExists,
        ReleaseNotFound,
        InvalidRelease,
        RestrictedRelease,
        DraftInconsistent,
        InvalidStudy,
    ) as error:
        print(f"omicsgate: {error}", file=sys.stderr)
    except StoreUnavailable as error:
        print(f"omicsgate: data store unavailable: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
