"""The scaled set-up on one machine, from Debian's packages, for trying it and for the tests.

    python deploy/local/cluster.py start [--dir var/cluster] [--port 8080] [--accounts 300]
    python deploy/local/cluster.py status
    python deploy/local/cluster.py stop

``start`` makes (the first time) and starts, each on 127.0.0.1:

- PostgreSQL (its own cluster under DIR/postgres) and Redis (append-only file on, so jobs in
  the queue outlive a restart): the broker on database 0, the shared cache on 1;
- two app servers (gunicorn, ``abonent.config.gunicorn``) on ports of their own;
- nginx in front of them on ``--port``, spreading requests over both and passing a request
  to the other when one does not answer;
- two Celery workers, each on every queue (default, billing, bills, notifications), and beat;

then migrates and, the first time, loads the demo data. The processes run in the background
and write to DIR/logs; ``stop`` ends them in the reverse order (the workers finish the job
in hand) and ``status`` tells what runs. Everything is configured through environment
variables only, as a real install (deploy/README.md); DIR/env holds them for the commands
``abonent …`` run against the cluster:

    set -a; . var/cluster/env; set +a; .venv/bin/abonent billing run --workers …

It needs: postgresql, redis-server and nginx (Debian packages), and the project's virtual
environment (make install). Run as root, PostgreSQL runs as the postgres user.

The class ``Cluster`` is what the cluster tests drive: kill a worker, restart PostgreSQL or
Redis, run a command with the cluster's environment.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
VENV_BIN = PROJECT / ".venv" / "bin"
QUEUES = "default,billing,bills,notifications"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not found:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql")
    return found[-1]


def _need(program: str, package: str) -> str:
    path = shutil.which(program) or (f"/usr/sbin/{program}" if Path(f"/usr/sbin/{program}").exists() else None)
    if not path:
        raise SystemExit(f"{program} is not installed: apt-get install {package}")
    return path


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


def _run(command: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run a command; when it fails, say what it printed."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie of ours is not alive
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@dataclass
class State:
    """What runs where: kept in DIR/state.json between ``start`` and ``stop``."""

    port: int
    apps: list[int]
    postgres: int
    redis: int
    secret_key: str
    fast: bool = False
    visibility_timeout: int = 3600
    pids: dict[str, int] = field(default_factory=dict)
    worker_metrics: list[int] = field(default_factory=lambda: [_free_port(), _free_port()])


class Cluster:
    def __init__(self, directory: Path, *, port: int = 0, fast: bool = False, visibility_timeout: int = 3600) -> None:
        self.dir = directory.resolve()
        self.logs = self.dir / "logs"
        self.state_file = self.dir / "state.json"
        if self.state_file.exists():
            self.state = State(**json.loads(self.state_file.read_text()))
        else:
            self.state = State(
                port=port or _free_port(),
                apps=[_free_port(), _free_port()],
                postgres=_free_port(),
                redis=_free_port(),
                secret_key=secrets.token_urlsafe(50),
                fast=fast,
                visibility_timeout=visibility_timeout,
            )

    # --- addresses and environment ----------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.state.port}"

    @property
    def database_url(self) -> str:
        return f"postgres://abonent@127.0.0.1:{self.state.postgres}/abonent"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every process of the cluster: the production set-up's
        variables (deploy/README.md), on plain HTTP and with the sandbox gateway."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "REDIS_"))}
        env.update(self.variables(), **extra)
        return env

    def variables(self) -> dict[str, str]:
        """The cluster's own settings (written to DIR/env by ``start``)."""
        s = self.state
        return {
            "ABONENT_ENV": "development",  # production wants HTTPS and a real gateway; the rest is the same
            "DEBUG": "false",
            "SECRET_KEY": s.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TRUSTED_PROXIES": "127.0.0.1/32",
            "DATABASE_URL": self.database_url,
            "DB_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{s.redis}/0",
            "CELERY_VISIBILITY_TIMEOUT": str(s.visibility_timeout),
            "REDIS_URL": f"redis://127.0.0.1:{s.redis}/1",
            "ABONENT_VAR_DIR": str(self.dir / "var"),
            "MEDIA_ROOT": str(self.dir / "media"),
            "EMBEDDED_SCHEDULER": "false",
            "PAYMENT_GATEWAY": "sandbox",
            "SANDBOX_NOTIFY_URL": f"{self.url}/api/v1/payments/notifications/sandbox",
            "PORTAL_URL": f"{self.url}/",
            "LOG_FORMAT": "json",
            "STATIC_ROOT": str(self.dir / "static"),
            "PYTHONUNBUFFERED": "1",
        }

    def abonent(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``abonent ARGS`` with the cluster's environment; its output is returned."""
        done = subprocess.run(
            [str(VENV_BIN / "abonent"), *args],
            env=self.env(),
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode:
            raise RuntimeError(f"abonent {' '.join(args)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
        return done

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        """Rows of a query on the cluster's database (psycopg, autocommit)."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description else []

    # --- processes ----------------------------------------------------------------------

    def _save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(asdict(self.state), indent=2))

    def _spawn(self, name: str, command: Sequence[str], env: dict[str, str] | None = None) -> int:
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                list(command),
                env=env or self.env(),
                cwd=PROJECT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: stopped (or killed) with its children
            )
        self.state.pids[name] = process.pid
        self._save()
        return process.pid

    def _signal(self, name: str, sig: int) -> None:
        pid = self.state.pids.get(name)
        if pid and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)

    def _wait_gone(self, name: str, timeout: float) -> bool:
        pid = self.state.pids.get(name)
        deadline = time.monotonic() + timeout
        while pid and _alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        self._signal(name, sig)
        if not self._wait_gone(name, timeout):
            self._signal(name, signal.SIGKILL)
            self._wait_gone(name, 5)
        self.state.pids.pop(name, None)
        self._save()

    def running(self) -> dict[str, bool]:
        status = {name: _alive(pid) for name, pid in self.state.pids.items()}
        status["postgres"] = self._postgres_running()
        return status

    # --- PostgreSQL -------------------------------------------------------------------

    def _pg_data(self) -> Path:
        return self.dir / "postgres" / "data"

    def _pg_client(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A PostgreSQL client program (psql, createdb) against the cluster's server."""
        return _run([str(_pg_bin() / tool), "-h", "127.0.0.1", "-p", str(self.state.postgres), "-U", "abonent", *args])

    def _postgres_running(self) -> bool:
        if not (self._pg_data() / "postmaster.pid").exists():
            return False
        status = subprocess.run(
            _as_postgres([str(_pg_bin() / "pg_ctl"), "-D", str(self._pg_data()), "status"]), capture_output=True
        )
        return status.returncode == 0

    def postgres_start(self) -> None:
        pg = _pg_bin()
        data = self._pg_data()
        if not data.exists():
            data.parent.mkdir(parents=True, exist_ok=True)
            if os.getuid() == 0:
                shutil.chown(data.parent, "postgres")
            _run(
                _as_postgres(
                    [
                        str(pg / "initdb"),
                        "-D",
                        str(data),
                        "-U",
                        "abonent",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                    ]
                )
            )
        options = f"-p {self.state.postgres} -k {data.parent} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if self.state.fast:  # tests: durability of the test data does not matter
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run(
            _as_postgres(
                [
                    str(pg / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(data.parent / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            )
        )
        exists = self._pg_client(
            "psql", "-d", "postgres", "-tAc", "SELECT 1 FROM pg_database WHERE datname = 'abonent'"
        )
        if exists.stdout.strip() != "1":
            self._pg_client("createdb", "abonent")

    def postgres_stop(self, mode: str = "fast") -> None:
        if self._postgres_running():
            _run(_as_postgres([str(_pg_bin() / "pg_ctl"), "-D", str(self._pg_data()), "-m", mode, "-w", "stop"]))

    def postgres_restart(self) -> None:
        """Stop PostgreSQL (``fast``: open transactions are rolled back, connections cut)
        and start it again."""
        self.postgres_stop("fast")
        self.postgres_start()

    # --- Redis --------------------------------------------------------------------------

    def redis_start(self) -> None:
        redis_dir = self.dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        command = [_need("redis-server", "redis-server"), "--port", str(self.state.redis), "--bind", "127.0.0.1"]
        command += ["--dir", str(redis_dir), "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        command += ["--protected-mode", "yes", "--daemonize", "no"]
        self._spawn("redis", command)
        self._wait_port(self.state.redis, "redis")

    def redis_stop(self) -> None:
        """Stop Redis the way its service does (SIGTERM: the append-only file is flushed)."""
        self._stop("redis")

    def redis_restart(self) -> None:
        self.redis_stop()
        self.redis_start()

    # --- app servers, proxy, workers ----------------------------------------------------

    def app_start(self, n: int) -> None:
        port = self.state.apps[n - 1]
        prometheus = self.dir / "prometheus" / f"web{n}"
        shutil.rmtree(prometheus, ignore_errors=True)
        prometheus.mkdir(parents=True)
        env = self.env(
            GUNICORN_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY=os.environ.get("CLUSTER_WEB_CONCURRENCY", "2"),
            GUNICORN_THREADS="4",
            PROMETHEUS_MULTIPROC_DIR=str(prometheus),
            APP_SERVER=f"web{n}",
        )
        self._spawn(f"web{n}", [str(VENV_BIN / "gunicorn"), "-c", "python:abonent.config.gunicorn"], env)

    def worker_start(self, n: int) -> None:
        prometheus = self.dir / "prometheus" / f"worker{n}"
        shutil.rmtree(prometheus, ignore_errors=True)
        prometheus.mkdir(parents=True)
        env = self.env(
            PROMETHEUS_MULTIPROC_DIR=str(prometheus),
            WORKER_METRICS_PORT=f"127.0.0.1:{self.state.worker_metrics[n - 1]}",
        )
        command = [str(VENV_BIN / "celery"), "-A", "abonent.config.celery", "worker", "-Q", QUEUES]
        command += ["-n", f"worker{n}@%h", "--concurrency", os.environ.get("CLUSTER_WORKER_CONCURRENCY", "2")]
        command += ["--loglevel", "INFO", "--without-mingle", "--without-gossip"]
        self._spawn(f"worker{n}", command, env)

    def worker_kill(self, n: int) -> None:
        """kill -9 the worker and its pool: the machine it ran on is gone."""
        self._signal(f"worker{n}", signal.SIGKILL)
        self._wait_gone(f"worker{n}", 10)

    def beat_start(self) -> None:
        schedule = self.dir / "var" / "beat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        command = [str(VENV_BIN / "celery"), "-A", "abonent.config.celery", "beat", "--schedule", str(schedule)]
        self._spawn("beat", [*command, "--loglevel", "INFO"])

    def nginx_start(self) -> None:
        nginx = _need("nginx", "nginx")
        conf_dir = self.dir / "nginx"
        conf_dir.mkdir(parents=True, exist_ok=True)
        template = (PROJECT / "deploy" / "nginx" / "abonent.conf").read_text()
        upstream = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in self.state.apps)
        site = (
            re.sub(r"(    server 10\.0\.0\.\d+:8000[^\n]*\n)+", upstream, template, count=1)
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{self.state.port};")
            .replace("/var/log/nginx/abonent.access.log", str(self.logs / "nginx-access.log"))
            .replace("/srv/abonent/static", str(self.dir / "static"))
        )
        site = "\n".join(
            line for line in site.splitlines() if not line.strip().startswith(("ssl_", "add_header Strict"))
        )
        site = site.split("# --- plain HTTP")[0]
        user = "user root;\n" if os.getuid() == 0 else ""
        conf = f"""{user}worker_processes 2;
pid {conf_dir}/nginx.pid;
error_log {self.logs}/nginx-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {conf_dir}/body;
    proxy_temp_path {conf_dir}/proxy;
    fastcgi_temp_path {conf_dir}/fastcgi;
    uwsgi_temp_path {conf_dir}/uwsgi;
    scgi_temp_path {conf_dir}/scgi;
{site}
}}
"""
        (conf_dir / "nginx.conf").write_text(conf)
        self._spawn("nginx", [nginx, "-c", str(conf_dir / "nginx.conf"), "-p", str(conf_dir)])

    # --- whole cluster ------------------------------------------------------------------

    def _wait_port(self, port: int, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} does not listen on {port}: see {self.logs}")

    def wait_healthy(self, url: str | None = None, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen((url or self.url) + "/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.3)
        raise RuntimeError(f"{url or self.url}/healthz did not answer 200 in {timeout} s ({last}): see {self.logs}")

    def start(self, *, seed: Sequence[str] = ("--accounts", "300")) -> None:
        self.prepare(seed=seed)
        self.launch()

    def prepare(self, *, seed: Sequence[str] = ("--accounts", "300")) -> None:
        """PostgreSQL and Redis running, the database migrated, the demo data loaded the
        first time (``seed``: the arguments of ``abonent seed``; empty: none)."""
        self._save()
        first = not (self.dir / "postgres" / "data").exists()
        self.postgres_start()
        self.redis_start()
        self.abonent("migrate", "--noinput")
        if first and seed:
            self.abonent("seed", "--no-progress", *seed, timeout=3600)

    def database_copy(self, name: str) -> str:
        """A copy of the cluster's database as it is now (nothing may be connected to it):
        returns its URL."""
        self._pg_client("createdb", "-T", "abonent", name)
        return self.database_url.rsplit("/", 1)[0] + f"/{name}"

    def launch(self) -> None:
        """The app servers, the workers, beat and the proxy, on the prepared database."""
        self.abonent("collectstatic", "--noinput")
        for n in (1, 2):
            self.app_start(n)
        for n in (1, 2):
            self.worker_start(n)
        self.beat_start()
        for port in self.state.apps:
            self.wait_healthy(f"http://127.0.0.1:{port}")
        self.nginx_start()
        self._wait_port(self.state.port, "nginx")
        self.wait_healthy()

    def stop(self) -> None:
        for name in ("nginx", "beat", "web1", "web2", "worker1", "worker2"):
            self._stop(name, timeout=60)
        self.redis_stop()
        self.postgres_stop()

    @contextlib.contextmanager
    def running_for(self) -> Iterator[Cluster]:
        try:
            self.start()
            yield self
        finally:
            self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "status", "env"])
    parser.add_argument("--dir", default=str(PROJECT / "var" / "cluster"), help="where the cluster keeps its data")
    parser.add_argument("--port", type=int, default=8080, help="the front's port (nginx)")
    parser.add_argument("--accounts", default="300", help="demo accounts loaded the first time")
    args = parser.parse_args(argv)
    cluster = Cluster(Path(args.dir), port=args.port)
    say = sys.stdout.write
    if args.action == "start":
        if any(cluster.running().values()):
            sys.stderr.write("The cluster is already running; stop it first: make cluster-stop\n")
            return 1
        cluster.start(seed=("--accounts", args.accounts))
        env_file = cluster.dir / "env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(cluster.variables().items())))
        say(f"Портал: {cluster.url}/   бэк-офис: {cluster.url}/backoffice/   метрики: {cluster.url}/metrics\n")
        say(f"App servers: {', '.join(f'127.0.0.1:{p}' for p in cluster.state.apps)}; logs: {cluster.logs}\n")
        say(f"Workers' metrics: {', '.join(f'http://127.0.0.1:{p}/' for p in cluster.state.worker_metrics)}\n")
        say(f"Commands against it: set -a; . {env_file}; set +a; .venv/bin/abonent …\n")
        say("Stop: make cluster-stop\n")
    elif args.action == "stop":
        cluster.stop()
        say("Stopped.\n")
    elif args.action == "env":
        for key, value in sorted(cluster.variables().items()):
            say(f"{key}={value}\n")
    else:
        for name, up in cluster.running().items():
            say(f"{name:10} {'running' if up else 'stopped'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
