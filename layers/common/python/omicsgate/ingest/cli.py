"""``omicsgate``: build data releases and look after them.

omicsgate ingest reference --release ID --tissues T --annotation GTF --variants VCF
omicsgate demo files DIR           write the demo input files
omicsgate demo release             ingest the demo data unless a release is current
omicsgate releases list|current|publish ID|prune
omicsgate token issue --user NAME [--groups a,b] [--tier standard]
omicsgate token revoke --user NAME    refuse every token issued to NAME until now
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from collections.abc import Sequence

from omicsgate.ingest.demo import DEMO_RELEASE, write_demo
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
    ReleaseWriter,
    find_orphans,
    prune,
    publish,
)


def _store(data_uri: str | None) -> DataStore:
    settings = get_settings()
    if data_uri:
        settings = dataclasses.replace(settings, data_uri=data_uri.rstrip("/"))
    return DataStore(settings)


def _groups(text: str) -> frozenset[str]:
    """``a, b`` -> {"a", "b"}: the --groups option of ingest and token issue."""
    return frozenset(g.strip() for g in text.split(",") if g.strip())


def ingest_reference(
    store: DataStore,
    release: str,
    inputs: ReferenceInputs,
    progress: bool,
    make_current: bool = True,
    description: str = "",
    groups: frozenset[str] = frozenset(),
) -> None:
    with ReleaseWriter(store, release, description, groups) as writer:
        write_reference(writer, inputs, progress)
        writer.commit(make_current=make_current and not groups)


def _cmd_ingest_reference(args: argparse.Namespace) -> int:
    inputs = ReferenceInputs(
        args.tissues, args.annotation, args.variants, args.gene_status, args.gene_id_attribute
    )
    store = _store(args.data_uri)
    groups = _groups(args.groups)
    current = not (args.no_current or groups)
    ingest_reference(store, args.release, inputs, not args.quiet, current, args.description, groups)
    state = "current" if current else "not current"
    print(f"release {args.release} written to {store.root} ({state})")
    return 0


def _cmd_demo_files(args: argparse.Namespace) -> int:

    files = write_demo(args.directory, genes=args.genes, seed=args.seed)
    print("\n".join(dataclasses.astuple(files)))
    return 0


def _cmd_demo_release(args: argparse.Namespace) -> int:
    """Build the demo release once; later runs reuse it."""
    store = _store(args.data_uri)
    try:
        print(f"current release: {store.current_release()} at {store.root}")
        return 0
    except ReleaseNotFound:
        pass
    with tempfile.TemporaryDirectory() as directory:
        files = write_demo(directory, genes=args.genes)
        inputs = ReferenceInputs(files.tissues, files.annotation, files.variants, files.gene_status)
        print(f"building the demo release {args.release} in {store.root} ...")
        ingest_reference(
            store,
            args.release,
            inputs,
            not args.quiet,
            description="OmicsGate demo data (synthetic)",
        )
    print(f"current release: {args.release}")
    return 0


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
    """Every complete release, * on the current one; a damaged file is named, not fatal."""
    damaged = False
    try:
        current = _current_or_none(store)
    except DamagedFile as error:
        print(f"omicsgate: {error}", file=sys.stderr)
        current, damaged = None, True
    for release in store.release_dirs():
        try:
            store.resolve(release)
        except ReleaseNotFound:
            continue  # never committed: see `releases prune`
        except DamagedFile as error:
            print(f"omicsgate: {error}", file=sys.stderr)
            damaged = True
            continue
        print(f"{'*' if release == current else ' '} {release}")
    return 2 if damaged else 0


def _releases_current(store: DataStore, args: argparse.Namespace) -> int:
    current = _current_or_none(store)
    print(current or "no release is current")
    return 0 if current else 1


def _releases_publish(store: DataStore, args: argparse.Namespace) -> int:
    try:
        previous = _current_or_none(store)
    except DamagedFile:
        previous = None  # publishing repairs a damaged pointer
    publish(store, args.release)
    print(f"release {args.release} is now current (was {previous or 'none'})")
    return 0


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
    print(issue_token(auth, args.user, groups, args.tier, round(args.days * 24 * 3600)))
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

    ingest = commands.add_parser("ingest", help="write a release from files")
    kinds = ingest.add_subparsers(dest="kind", required=True)
    reference = kinds.add_parser("reference", help="tissues, genes, exons, variants")
    reference.add_argument("--release", required=True, help="release ID (the datasetId)")
    reference.add_argument("--tissues", required=True, help="tissue table (TSV)")
    reference.add_argument("--annotation", required=True, help="genes and exons (GTF or GFF3)")
    reference.add_argument("--variants", required=True, help="variant sites (VCF)")
    reference.add_argument("--gene-status", help="per-tissue gene status (TSV)")
    reference.add_argument(
        "--gene-id-attribute",
        default="gene_name",
        help="attribute served as geneId (default gene_name)",
    )
    reference.add_argument("--description", default="")
    reference.add_argument(
        "--no-current", action="store_true", help="write the release without making it current"
    )
    reference.add_argument(
        "--groups",
        default="",
        help="restrict the release to these comma-separated groups "
        "(a restricted release is never current: callers choose it with datasetId)",
    )
    reference.set_defaults(run=_cmd_ingest_reference)

    demo = commands.add_parser("demo", help="the synthetic demo data")
    demo_kinds = demo.add_subparsers(dest="kind", required=True)
    files = demo_kinds.add_parser("files", help="write the demo input files")
    files.add_argument("directory")
    files.add_argument("--genes", type=int, default=3000)
    files.add_argument("--seed", type=int, default=4)
    files.set_defaults(run=_cmd_demo_files)
    release = demo_kinds.add_parser("release", help="ingest the demo unless a release exists")
    release.add_argument("--release", default=DEMO_RELEASE)
    release.add_argument("--genes", type=int, default=3000)
    release.set_defaults(run=_cmd_demo_release)

    releases = commands.add_parser("releases", help="list, show, publish or prune releases")
    releases.add_argument("action", choices=["list", "current", "publish", "prune"])
    releases.add_argument("release", nargs="?")
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
    except (ReleaseExists, ReleaseNotFound, InvalidRelease, RestrictedRelease) as error:
        print(f"omicsgate: {error}", file=sys.stderr)
    except StoreUnavailable as error:
        print(f"omicsgate: data store unavailable: {error}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
