"""The ``llif`` command line.

Every subcommand is a thin layer over a plain function - ``synthetic_sources.api`` (sources),
``llif.demo``, ``llif.ui`` and ``llif.services`` (demo, ui, serve), ``llif.forecast_cli``
(forecast), ``explorer.auth`` (accounts), ``llif.connection_check`` (check); bad options are
refused here with a message naming the option, before any work starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_USAGE = 2


def _positive_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llif", description="llif: the provider's nightly flow pipeline")
    sub = parser.add_subparsers(dest="command", required=True)

    sources = sub.add_parser("sources", help="the synthetic world and the source systems it writes")
    ssub = sources.add_subparsers(dest="action", required=True)

    gen = ssub.add_parser("generate", help="simulate the world and write every source system")
    gen.add_argument("--scale", type=_positive_float, default=1.0, help="1.0 is the provider's size (~16,000 households)")
    gen.add_argument("--seed", type=_whole, default=None, help="random seed (default 20261031)")
    gen.add_argument("--until", default=None, help="the reference date, YYYY-MM-DD (default 2026-10-31)")
    gen.add_argument("--replace", action="store_true", help="overwrite a world already in LLIF_HOME")
    gen.add_argument(
        "--server", action="append", metavar="SYSTEM=URL",
        help="also write a system to a server: crm, assets, domcare (PostgreSQL) or care_b (MariaDB); repeatable",
    )

    adv = ssub.add_parser("advance", help="carry the world on N days; the sources get the new activity")
    adv.add_argument("--days", type=_whole, default=1, help="days to simulate (default 1: one night)")
    adv.add_argument("--server", action="append", metavar="SYSTEM=URL", help="server URL if not stored (passwords never are)")

    rep = ssub.add_parser("report", help="every calibration target beside the world's value")
    rep.add_argument("--json", action="store_true", help="a JSON list of objects for machines")
    rep.add_argument("--wide", type=_positive_float, default=1.0, help="multiply every tolerance (small worlds)")

    demo = sub.add_parser("demo", help="generate the world if there is none (else carry it on one day), "
                                       "then run the nightly refresh")
    demo.add_argument("--scale", type=_positive_float, default=1.0, help="the world's size when one is generated")
    demo.add_argument("--seed", type=_whole, default=None, help="its random seed (default 20261031)")
    demo.add_argument("--replications", type=_whole, default=None,
                      help="forecast runs per scenario (default 200; fewer for a quick look)")

    ui = sub.add_parser("ui", help="the Dagster and MLflow UIs, the explorer and the dbt docs site on localhost")
    ui.add_argument("--dagster-port", type=_whole, default=3000)
    ui.add_argument("--mlflow-port", type=_whole, default=5000)
    ui.add_argument("--explorer-port", type=_whole, default=8501)
    ui.add_argument("--docs-port", type=_whole, default=8580)

    from llif.services import SERVICES

    serve = sub.add_parser("serve", help="the long-lived services: Dagster webserver and daemon, MLflow, explorer, dbt docs")
    serve.add_argument("--only", action="append", choices=SERVICES, metavar="SERVICE",
                       help=f"run only this service (repeatable; one alone becomes that process, for systemd): {', '.join(SERVICES)}")
    serve.add_argument("--host", default=None, help="listen address (default LLIF_LISTEN_ADDRESS or 127.0.0.1)")
    serve.add_argument("--dagster-port", type=_whole, default=3000)
    serve.add_argument("--mlflow-port", type=_whole, default=5000)
    serve.add_argument("--explorer-port", type=_whole, default=8501)
    serve.add_argument("--docs-port", type=_whole, default=8580)

    chk = sub.add_parser("check", help="can this installation reach its warehouse? (a clear message if not)")
    chk.add_argument("--target", default="duckdb", choices=["duckdb", "postgres", "sqlserver"])
    chk.add_argument("--no-login", action="store_true", help="only test that the server's port answers")

    acc = sub.add_parser("accounts", help="the explorer's local accounts (hashed passwords under LLIF_HOME)")
    asub = acc.add_subparsers(dest="action", required=True)
    add = asub.add_parser("add", help="add an account (the password is asked for, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["planner", "care_manager"])
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--replace", action="store_true", help="change an existing account's password or role")
    rm = asub.add_parser("remove", help="remove an account")
    rm.add_argument("name")
    asub.add_parser("list", help="every account and its role")

    from llif.forecast_cli import add_forecast_commands

    add_forecast_commands(sub)
    return parser


def _sources(args) -> int:
    from synthetic_sources import api

    if args.action == "generate":
        servers = api.parse_servers(args.server)
        result = api.generate(
            scale=args.scale, seed=args.seed, until=args.until, replace=args.replace, servers=servers, progress=True
        )
        from contracts.settings import paths

        p = paths()
        print(f"llif: world generated to {result.as_of.date()} in {result.seconds:.0f}s")
        print(f"  sources: {p.sources}\n  truth:   {p.truth} (tests and validation only)")
        print("  next: `llif sources report` to check calibration, `llif sources advance --days 1` for a new night")
    elif args.action == "advance":
        result = api.advance(days=args.days, servers=api.parse_servers(args.server), progress=True)
        print(f"llif: sources now stand at {result.as_of.date()} ({result.seconds:.1f}s)")
    elif args.action == "report":
        from synthetic_sources.calibration import format_table, to_json

        results = api.report(wide=args.wide)
        if args.json:
            print(json.dumps(to_json(results), indent=2))
        else:
            print(format_table(results))
    return 0


def _accounts(args) -> int:
    from explorer import auth

    try:
        if args.action == "add":
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            else:
                import getpass

                password = getpass.getpass(f"password for {args.name}: ")
                if getpass.getpass("again: ") != password:
                    print("llif: error: the passwords differ", file=sys.stderr)
                    return EXIT_USAGE
            auth.add_account(args.name, password, args.role, replace=args.replace)
            print(f"llif: account {args.name} ({args.role}) saved in {auth.accounts_file()}")
        elif args.action == "remove":
            auth.remove_account(args.name)
            print(f"llif: account {args.name} removed")
        else:
            for name, role in auth.list_accounts():
                print(f"{name}\t{role}")
    except auth.AccountError as exc:
        print(f"llif: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line, with files owner-only (``owner_only_files``): what a command writes under
    LLIF_HOME, and what the services and nightly runs it starts write, inherit the umask. Put
    back on return, so a test calling this in its own process keeps its own."""
    from contracts.settings import owner_only_files

    previous = owner_only_files()
    try:
        return _main(argv)
    finally:
        os.umask(previous)


def _main(argv: list[str] | None) -> int:
    from synthetic_sources.api import SourcesError
    from synthetic_sources.world import ConfigError

    args = build_parser().parse_args(argv)
    try:
        if args.command == "sources":
            return _sources(args)
        if args.command == "demo":
            from llif.demo import run

            return run(scale=args.scale, seed=args.seed, replications=args.replications)
        if args.command == "ui":
            from llif.ui import run

            return run(dagster_port=args.dagster_port, mlflow_port=args.mlflow_port, explorer_port=args.explorer_port,
                       docs_port=args.docs_port)
        if args.command == "serve":
            from llif import services

            ports = services.Ports(dagster=args.dagster_port, mlflow=args.mlflow_port, explorer=args.explorer_port,
                                   docs=args.docs_port)
            return services.run(only=args.only, host=args.host, ports=ports)
        if args.command == "forecast":
            return args.handler(args)
        if args.command == "accounts":
            return _accounts(args)
        if args.command == "check":
            from llif.connection_check import ConnectionCheckFailed, check_target

            try:
                print(check_target(args.target, login=not args.no_login).message)
            except ConnectionCheckFailed as exc:
                print(exc, file=sys.stderr)
                return 1
            return 0
    except (ConfigError, SourcesError) as exc:
        print(f"llif: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a server that cannot be reached names itself
        if type(exc).__name__ in ("SourceServerUnreachable", "TargetExistsError"):
            print(f"{exc}" if str(exc).startswith("llif:") else f"llif: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
