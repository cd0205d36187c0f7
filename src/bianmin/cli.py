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
    from bianmin.core.tasks import wake_delivery

    try:
        # A delivery run at start: it sends what waited while no worker ran and starts the
        # outbox's heartbeat (core/tasks.py) on a new installation.
        wake_delivery()
    except Exception as exc:  # e.g. not migrated yet: the worker itself will say so
        print(f"外发消息投递任务未能排队：{exc}", file=sys.stderr)
    return cmd_manage(["db_worker", *argv])


def cmd_demo(argv: list[str]) -> int:
    if "--scale" in argv or any(a.startswith("--scale=") for a in argv):
        # `bianmin demo --scale N [--days D]`: the city-year generator (core/management/commands/demo_scale.py)
        rest, n = [], None
        it = iter(argv)
        for a in it:
            if a == "--scale":
                n = next(it, None)
            elif a.startswith("--scale="):
                n = a.split("=", 1)[1]
            else:
                rest.append(a)
        if n is None:
            print("用法：bianmin demo --scale N", file=sys.stderr)
            return 2
        return cmd_manage(["demo_scale", n, *rest])
    return cmd_manage(["load_demo", *argv])


def cmd_up(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from bianmin.accounts.models import User
    from bianmin.demo import DEMO_LOGINS, database_is_empty

    print("正在迁移数据库……", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("seed_calendar", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not args.no_demo and database_is_empty():
        print("数据库为空，正在载入演示数据（福州市）……", flush=True)
        call_command("load_demo", verbosity=1)

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
    print(f"\n便民 政务服务平台 {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} 数据库")
    print(f"  公众首页     {base}/")
    print(f"  工作人员登录 {base}/accounts/login/")
    print(f"  管理后台     {base}/admin/")
    print(f"  接口文档     {base}/api/docs")
    print(f"  健康检查     {base}/healthz")
    print("  后台任务     " + ("未启动（--no-worker）：请另行运行 bianmin worker" if args.no_worker
                            else "随服务启动（短信、回访名单、导出文件等）"))
    if has_demo_logins:
        print("\n演示账号（仅用于演示，密码相同）：")
        for username, label, password in DEMO_LOGINS:
            if User.objects.filter(username=username, is_demo=True).exists():
                print(f"  {username:<22} {password}  {label}")
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        return cmd_manage(argv[1:])
    if argv and argv[0] == "worker":
        return cmd_worker(argv[1:])
    if argv and argv[0] == "demo":
        return cmd_demo(argv[1:])
    if argv and argv[0] in ("backup", "restore"):
        return cmd_manage(argv)

    parser = argparse.ArgumentParser(prog="bianmin", description="便民 政务服务平台")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="迁移数据库、（首次）载入演示数据并启动服务")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="工作进程数，默认等于 CPU 核数")
    up.add_argument("--no-demo", action="store_true", help="不载入演示数据")
    up.add_argument("--access-log", action="store_true", help="输出访问日志")
    up.add_argument("--no-worker", action="store_true",
                    help="不随服务启动后台任务进程（另行运行 bianmin worker 的部署）")
    up.add_argument("--allow-demo-logins-on-network", action="store_true",
                    help="存在演示账号时仍允许监听非本机地址（不建议）")
    sub.add_parser("manage", help="Django 管理命令，例如 bianmin manage createsuperuser")
    sub.add_parser("worker", help="运行后台任务（短信、回访名单、超期提醒等）")
    sub.add_parser("demo", help="载入演示数据；--scale N 生成 N 条办件规模的数据")
    sub.add_parser("backup", help="备份数据库和上传文件：bianmin backup [目录]")
    sub.add_parser("restore", help="从备份恢复：bianmin restore 目录 --yes")
    args = parser.parse_args(argv)
    if args.command == "up":
        return cmd_up(args)
    parser.error("未知命令")
    return 2


if __name__ == "__main__":
    sys.exit(main())
