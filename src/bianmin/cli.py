"""The `bianmin` command: `up`, `manage`, `worker`, `demo`, `backup`, `restore`."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

LOOPBACK_NAMES = {"localhost"}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")
    import django

    django.setup()


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["bianmin manage", *argv])
    return 0


def cmd_worker(argv: list[str]) -> int:
    _setup_django()
    from bianmin.core.tasks import ensure_daily_purge, wake_delivery

    try:
        # A delivery run at start: it sends what waited while no worker ran and starts the
        # outbox's heartbeat (core/tasks.py) on a new installation; and the nightly purge of
        # ended rate-limit windows.
        wake_delivery()
        ensure_daily_purge()
    except Exception as exc:  # e.g. not migrated yet: the worker itself will say so
        print(f"外发消息投递任务未能排队：{exc}", file=sys.stderr)
    return cmd_manage(["db_worker", *argv])


def cmd_demo(args: argparse.Namespace) -> int:
    if args.scale is not None and (args.scale < 1 or args.days < 1 or args.chunk < 1):
        print("办件数（--scale）、天数和批大小必须是正整数", file=sys.stderr)
        return 2
    _setup_django()
    from bianmin.demo import real_accounts

    real = real_accounts()
    if real and not args.allow_real_accounts:
        # Demo data beside real accounts: demo log-ins with a published password, and invented
        # cases and citizens mixed into a real city's figures.
        print(f"数据库中已有 {real} 个正式账号（非演示账号），不载入演示数据。"
              "确需在此数据库载入，请加 --allow-real-accounts。", file=sys.stderr)
        return 2
    if args.scale is None:
        from bianmin.demo import load_demo

        load_demo(out=None if args.quiet else print)
        return 0
    return _demo_scale(args)


def _demo_scale(args: argparse.Namespace) -> int:
    """The city-year generator (bianmin/demo/scale.py) with a progress bar on stderr."""
    import time

    from django.core.management import call_command

    from bianmin.demo.scale import generate
    from bianmin.regions.models import Area

    if not Area.objects.filter(level="city").exists():
        call_command("load_areas", verbosity=0)
    started = time.monotonic()

    def progress(done, total):
        if args.quiet:
            return
        elapsed = time.monotonic() - started
        rate = done / elapsed if elapsed else 0
        width = 30
        bar = "#" * int(width * done / total)
        eta = (total - done) / rate if rate else 0
        sys.stderr.write(f"\r[{bar:<{width}}] {done:,}/{total:,} 件  {rate:,.0f} 件/秒  剩余约 {eta:,.0f} 秒")
        sys.stderr.flush()
        if done == total:
            sys.stderr.write("\n")

    counts = generate(args.scale, days=args.days, seed=args.seed, chunk=args.chunk, progress=progress)
    summary = "，".join(f"{k} {v:,}" for k, v in counts.items())
    print(f"规模数据生成完成（{time.monotonic() - started:.1f} 秒）：{summary}")
    return 0


def public_base_for(host: str, port: int, environ=None) -> tuple[str, str]:
    """The base of the links citizens get (SMS, slips, QR codes) and a warning, if any.

    ``BIANMIN_PUBLIC_BASE_URL`` wins when set. Otherwise the links follow the address this
    server listens on; beyond loopback that is a guess (a proxy, a domain name or NAT may stand
    in front), so the operator is told to set the variable."""
    from bianmin.core.public_url import served_base_url

    environ = os.environ if environ is None else environ
    configured = (environ.get("BIANMIN_PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if configured:
        return configured, ""
    base = served_base_url(host, port)
    if _is_loopback(host):
        return base, ""
    return base, (f"未设置 BIANMIN_PUBLIC_BASE_URL，短信和办结回执中的评价链接将使用 {base}。"
                  "若群众经域名、反向代理或其他地址访问本平台，请设置该变量为群众可访问的地址"
                  "（如 https://bianmin.example.gov.cn）。")


def cmd_up(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from bianmin.accounts.demo import DEMO_LOGINS
    from bianmin.accounts.models import User
    from bianmin.demo import database_is_empty, load_demo

    print("正在迁移数据库……", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("seed_calendar", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not args.no_demo and database_is_empty():
        print("数据库为空，正在载入演示数据（福州市）……", flush=True)
        load_demo(out=print)

    has_demo_logins = User.objects.filter(is_demo=True).exists()
    if has_demo_logins and not _is_loopback(args.host) and not args.allow_demo_logins_on_network:
        print(
            f"拒绝在 {args.host} 上监听：数据库中存在演示账号（弱口令公开）。\n"
            "请先删除演示账号（bianmin manage delete_demo_logins），"
            "或明确加上 --allow-demo-logins-on-network。",
            file=sys.stderr,
        )
        return 2

    base = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{args.port}"
    public_base, warning = public_base_for(args.host, args.port)
    # The workers and the task worker (children of gunicorn) read it through settings.
    os.environ["BIANMIN_PUBLIC_BASE_URL"] = public_base
    print(f"\n便民 政务服务平台 {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} 数据库")
    print(f"  公众首页     {base}/")
    print(f"  工作人员登录 {base}/accounts/login/")
    print(f"  管理后台     {base}/admin/")
    print(f"  接口文档     {base}/api/docs")
    print(f"  健康检查     {base}/healthz")
    print(f"  群众链接     {public_base}/（短信、办结回执和二维码中的评价、问卷链接）")
    print("  后台任务     " + ("未启动（--no-worker）：请另行运行 bianmin worker" if args.no_worker
                            else "随服务启动（短信、回访名单、导出文件等）"))
    if has_demo_logins:
        print("\n演示账号（仅用于演示，密码相同）：")
        for username, label, password in DEMO_LOGINS:
            if User.objects.filter(username=username, is_demo=True).exists():
                print(f"  {username:<22} {password}  {label}")
    if warning:
        print(f"\n注意：{warning}", file=sys.stderr)
    print(flush=True)

    sys.stdout.flush()
    sys.stderr.flush()
    # Replace this process with gunicorn rather than running it here: the migration and demo
    # load above leave hundreds of MB in this interpreter, which forked workers would inherit.
    gunicorn_args = [
        sys.executable, "-m", "gunicorn", "bianmin.wsgi:application",
        "-c", "python:bianmin.gunicorn_conf",  # the task worker as the master's child (gunicorn_conf.py)
        "--bind", f"{args.host}:{args.port}" if ":" not in args.host else f"[{args.host}]:{args.port}",
        "--workers", str(args.workers),
        "--worker-class", "sync",
        "--preload",  # with BIANMIN_WARM_SEARCH: see wsgi.py
        "--timeout", "60",
        "--graceful-timeout", "10",
        "--max-requests", "5000", "--max-requests-jitter", "500",
        "--access-logfile", "-" if args.access_log else "/dev/null",
    ]
    os.environ["BIANMIN_WARM_SEARCH"] = "1"
    os.environ["BIANMIN_UP_WORKER"] = "0" if args.no_worker else "1"
    os.execv(sys.executable, gunicorn_args)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bianmin", description="便民 政务服务平台")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    up = sub.add_parser("up", help="迁移数据库、（首次）载入演示数据并启动服务",
                        description="迁移数据库、种下工作日日历、数据库为空时载入演示数据，然后启动 gunicorn 和后台任务进程。")
    up.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    up.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    up.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="工作进程数，默认等于 CPU 核数")
    up.add_argument("--no-demo", action="store_true", help="不载入演示数据")
    up.add_argument("--access-log", action="store_true", help="输出访问日志")
    up.add_argument("--no-worker", action="store_true",
                    help="不随服务启动后台任务进程（另行运行 bianmin worker 的部署）")
    up.add_argument("--allow-demo-logins-on-network", action="store_true",
                    help="存在演示账号时仍允许监听非本机地址（不建议）")

    manage = sub.add_parser("manage", help="Django 管理命令，例如 bianmin manage createsuperuser",
                            description="运行 Django 管理命令；其后的参数原样交给该命令。")
    manage.add_argument("rest", nargs=argparse.REMAINDER, metavar="命令及参数")

    worker = sub.add_parser("worker", help="运行后台任务（短信、回访名单、超期提醒等）",
                            description="运行后台任务进程（django-tasks 的 db_worker）；其后的参数原样交给 db_worker。")
    worker.add_argument("rest", nargs=argparse.REMAINDER, metavar="db_worker 参数")

    demo = sub.add_parser("demo", help="载入演示数据；--scale N 生成 N 条办件规模的数据",
                          description="载入演示城市（福州市）的演示数据：区划、服务场所、事项、账号、办件、诉求、评价与回访。"
                                      "加 --scale N 则生成一年规模数据：N 件办件及其评价、差评处理、整改和诉求。")
    demo.add_argument("--scale", type=int, metavar="N", help="生成 N 件办件的规模数据（而不是演示数据）")
    demo.add_argument("--days", type=int, default=365, help="规模数据覆盖天数（默认 365）")
    demo.add_argument("--seed", type=int, default=2026, help="规模数据的随机种子（默认 2026）")
    demo.add_argument("--chunk", type=int, default=20000, help="规模数据每批写入的办件数（内存上限，默认 20000）")
    demo.add_argument("--quiet", action="store_true", help="不输出进度")
    demo.add_argument("--allow-real-accounts", action="store_true",
                      help="数据库中已有正式账号时仍载入演示数据（默认拒绝）")

    backup = sub.add_parser("backup", help="备份数据库和上传文件：bianmin backup [目录]",
                            description="备份数据库和上传文件。SQLite 使用在线备份接口，PostgreSQL 使用 pg_dump。")
    backup.add_argument("path", nargs="?", help="备份目录（新建或为空），默认 var/backups/bianmin-<时间>")

    restore = sub.add_parser("restore", help="从备份恢复：bianmin restore 目录 --yes",
                             description="从备份目录恢复数据库和上传文件（覆盖当前数据）。先校验备份，校验不通过则不做任何改动。")
    restore.add_argument("path", help="由 bianmin backup 生成的备份目录")
    restore.add_argument("--yes", action="store_true", help="不再询问，直接恢复")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "up":
        return cmd_up(args)
    if args.command == "manage":
        return cmd_manage(args.rest)
    if args.command == "worker":
        return cmd_worker(args.rest)
    if args.command == "demo":
        return cmd_demo(args)
    if args.command == "backup":
        return cmd_manage(["backup", *([args.path] if args.path else [])])
    return cmd_manage(["restore", args.path, *(["--yes"] if args.yes else [])])


if __name__ == "__main__":
    sys.exit(main())
