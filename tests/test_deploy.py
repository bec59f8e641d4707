"""deploy/: the haproxy configuration passes `haproxy -c`, the Kubernetes manifests pass kubernetes-validate and
agree with each other, the compose file wires haproxy to the replicas; and, through a real haproxy in front of
two replicas (deploy/local-cluster.sh), 16 clients of mixed load lose no request while every replica is
restarted in turn (deploy/rolling-restart.sh), while the replicas reload their data 20 times (and haproxy its
configuration 10 times), and when one replica is killed with SIGKILL: no non-2xx answer, no socket error, no
GraphQL or SPARQL answer that differs from the one given before.

haproxy (Debian's, `make haproxy`) and kubernetes-validate (requirements.lock) are needed: a test that cannot
find them fails and says how to install them.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.layout import ROOT
from graph.snapshot import Snapshot

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
HVKG = Path(sys.executable).parent / "hvkg"
CONTRACT = ROOT / "tests" / "shared" / "contract" / "operations" / "CheckGuest.graphql"
CHECK_GUEST = {
    "query": CONTRACT.read_text(encoding="utf-8"),
    "operationName": "CheckGuest",
    "variables": {"os": "Windows XP", "edition": "Professional", "sp": 2, "arch": "X86", "vcpus": 2},
}
SPARQL = (
    "PREFIX hv: <https://hyperv-kg.example.org/id/ontology/> "
    "SELECT ?row ?max WHERE { ?row hv:maxVirtualProcessors ?max } ORDER BY ?row LIMIT 5"
)
# the scripts talk to haproxy's runtime API with this interpreter when socat is not installed
SCRIPT_ENV = {**os.environ, "PYTHON": sys.executable}
KUBERNETES_VERSION = "1.30.0"  # the oldest release the manifests are meant for (deploy/README.md)


def tool(name: str, install: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is needed by these tests and is not installed: {install}")
    return found


def haproxy() -> str:
    return tool("haproxy", "`make haproxy`, or apt-get install haproxy (Debian)")


def haproxy_check(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`haproxy -c` with warnings counted as errors (-dW): a configuration it would run with complaints fails."""
    return subprocess.run(
        [haproxy(), "-dW", "-c", "-f", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "HVKG_LB_SOCKET": str(config.parent / "admin.sock"), **env},
    )


# --- haproxy ----------------------------------------------------------------------------------------------------


def test_the_haproxy_configuration_passes_haproxy_check(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    shutil.copy(DEPLOY / "haproxy.cfg", config)
    alone = haproxy_check(config)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    # as compose.yaml runs it: the servers are what a DNS name resolves to (none yet: init-addr none)
    dns = haproxy_check(config, HVKG_REPLICA_DNS="hvkg:8000", HVKG_LB_BIND=":8080")
    assert dns.returncode == 0, dns.stdout + dns.stderr


def test_haproxy_check_fails_on_a_broken_configuration(tmp_path: Path) -> None:
    """The check above could not pass vacuously: a mistyped keyword, or a line haproxy only warns about, fails."""
    text = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    for broken in (text.replace("retry-on conn-failure", "retry-onn conn-failure"), text + "    option httplog\n"):
        config = tmp_path / "broken.cfg"
        config.write_text(broken, encoding="utf-8")
        assert haproxy_check(config).returncode != 0


def local_cluster(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(DEPLOY / "local-cluster.sh"), *args], capture_output=True, text=True, timeout=30, check=False
    )


@settings(max_examples=12, deadline=None)
@given(replicas=st.integers(1, 64), port=st.integers(1024, 60000))
def test_the_local_cluster_configures_one_checked_server_per_replica(
    replicas: int, port: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    done = local_cluster("--config", str(replicas), str(port))
    assert done.returncode == 0, done.stderr
    servers = re.findall(r"^\s+server (\S+) (\S+)", done.stdout, re.MULTILINE)
    assert servers == [(f"replica{i}", f"127.0.0.1:{port + i}") for i in range(1, replicas + 1)]
    config = tmp_path_factory.getbasetemp() / "local-cluster-haproxy.cfg"
    config.write_text(done.stdout, encoding="utf-8")
    checked = haproxy_check(config, HVKG_LB_BIND=f"127.0.0.1:{port}")
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("args", [(), ("2",), ("0", "8000"), ("two", "8000"), ("2", "65535"), ("2", "08")])
def test_the_local_cluster_refuses_bad_arguments_in_both_languages(args: tuple[str, ...]) -> None:
    done = local_cluster(*args)
    assert done.returncode == 2
    assert "usage:" in done.stderr and "使い方" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [(), ("--cluster",), ("--bogus", "x"), ("--socket", "/nonexistent.sock"), ("--socket", "/x", "--timeout", "soon")],
)
def test_the_rolling_restart_refuses_bad_arguments_in_both_languages(args: tuple[str, ...]) -> None:
    done = subprocess.run(
        ["bash", str(DEPLOY / "rolling-restart.sh"), *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    assert "error:" in done.stderr and "エラー:" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_scripts_parse_and_pass_shellcheck() -> None:
    scripts = sorted(DEPLOY.glob("*.sh"))
    assert {s.name for s in scripts} >= {"local-cluster.sh", "rolling-restart.sh"}
    for script in scripts:
        parsed = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
        assert parsed.returncode == 0, parsed.stderr
    shellcheck = tool("shellcheck", "`make haproxy` installs it too, or apt-get install shellcheck (Debian)")
    checked = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout


# --- Kubernetes and compose -------------------------------------------------------------------------------------


def kubernetes_validate() -> Any:
    try:
        import kubernetes_validate as validator
    except ImportError:
        pytest.fail("kubernetes-validate is needed (requirements.lock): .venv/bin/pip install kubernetes-validate")
    return validator


def manifests() -> dict[str, dict[str, Any]]:
    """Every document of deploy/k8s/*.yaml, by kind."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document:
                assert document["kind"] not in found, f"two {document['kind']}s"
                found[document["kind"]] = document
    return found


def test_the_kubernetes_manifests_are_valid() -> None:
    validator = kubernetes_validate()
    found = manifests()
    for kind, document in found.items():
        for version in (KUBERNETES_VERSION, validator.latest_version()):
            # strict: an unknown field is an error; a kind without a schema raises too, it is never let through
            validated = validator.validate(document, version, strict=True)
            assert validated.startswith(version.rsplit(".", 1)[0]), (kind, version, validated)
    assert set(found) >= {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }


def test_kubernetes_validate_rejects_a_broken_manifest() -> None:
    """The validation above is real: a probe's port given as a list, or an unknown field, is refused."""
    validator = kubernetes_validate()
    deployment = manifests()["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["port"] = [8000]
    with pytest.raises(validator.ValidationError):
        validator.validate(deployment, KUBERNETES_VERSION, strict=True)
    container["readinessProbe"]["httpGet"]["port"] = "http"
    container["readinessProbe"]["httpGett"] = {}
    with pytest.raises(validator.ValidationError):
        validator.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_the_kubernetes_manifests_agree_with_each_other() -> None:
    found = manifests()
    deployment, service = found["Deployment"], found["Service"]
    pdb, hpa = found["PodDisruptionBudget"], found["HorizontalPodAutoscaler"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    selects = deployment["spec"]["selector"]["matchLabels"]
    assert selects.items() <= labels.items()
    for selector in (service["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= labels.items() and selector
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    # a voluntary disruption (a node drained) leaves one replica at least, and the autoscaler never goes below two
    assert hpa["spec"]["minReplicas"] >= 2
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert f"--port={ports['http']}" in container["args"] or str(ports["http"]) in container["args"]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz" and get["port"] in ("http", ports["http"]), probe
    target = service["spec"]["ports"][0]["targetPort"]
    assert target in ("http", ports["http"])
    # SIGTERM after the preStop pause, then up to 30 s for requests in flight (`hvkg serve`'s graceful timeout):
    # the pod must be given both before it is killed
    pause = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pause[0] == "sleep"
    assert pod["spec"]["terminationGracePeriodSeconds"] > int(pause[1]) + 30
    # requests are what the autoscaler's percentages are of
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]


def test_the_compose_file_puts_haproxy_in_front_of_the_replicas() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    balancer, replica = services["haproxy"], services["hvkg"]
    assert any(v.startswith("./haproxy.cfg:") and v.endswith(":ro") for v in balancer["volumes"])
    environment = balancer["environment"]
    host, port = environment["HVKG_REPLICA_DNS"].split(":")
    assert host == "hvkg" and replica["command"][-1] == port
    assert replica["deploy"]["replicas"] >= 2
    assert "/healthz" in " ".join(replica["healthcheck"]["test"])
    assert balancer["depends_on"]["hvkg"]["condition"] == "service_healthy"
    # every variable the compose file gives haproxy is one the configuration reads
    haproxy_cfg = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
    for name in environment:
        assert re.search(rf"\b{name}\b", haproxy_cfg), name
    assert replica["stop_grace_period"]


# --- the cluster under load -------------------------------------------------------------------------------------


def free_ports(count: int) -> int:
    """A port whose next `count - 1` ports are free too."""
    for _ in range(200):
        # below Linux's ephemeral range (32768-60999), where the clients' own connections would take ports
        base = random.randint(20000, 32000)  # noqa: S311 (a port, not a secret)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
        return base
    raise AssertionError("no free ports")


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    port: int
    replicas: int
    directory: Path
    output: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pid(self, replica: int) -> int:
        return int((self.directory / f"replica{replica}.pid").read_text().split()[0])

    def health(self, replica: int) -> dict[str, Any]:
        """The replica's own /healthz (http.client: polled often, and cheaper than an httpx client each time)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port + replica, timeout=10)
        try:
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        assert answer.status == 200, body
        health: dict[str, Any] = json.loads(body)
        return health

    def admin(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(self.directory / "haproxy.sock"))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> dict[str, dict[str, str]]:
        """haproxy's `show stat`, by server name (and BACKEND)."""
        lines = self.admin("show stat").splitlines()
        header = lines[0].removeprefix("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {row["svname"]: row for row in rows if row["pxname"] == "hvkg"}

    def wait(self, condition: Any, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError, AssertionError, KeyError):
                if condition():
                    return
            assert self.process.poll() is None, f"the cluster ended: {self.output.read_text()}"
            assert time.monotonic() < deadline, f"not {what} within {timeout} s: {self.output.read_text()}"
            time.sleep(0.1)

    def haproxy_reloads(self) -> int:
        """How many times haproxy's master has loaded its configuration (the first start included)."""
        return (self.directory / "haproxy.log").read_text(errors="replace").count("Loading success")

    def up(self, replica: int) -> bool:
        return self.stats()[f"replica{replica}"]["status"] == "UP"


@contextlib.contextmanager
def cluster(work: Path, replicas: int) -> Iterator[Cluster]:
    tool("haproxy", "`make haproxy`, or apt-get install haproxy (Debian)")
    port = free_ports(replicas + 1)
    directory = work / "cluster"
    output = work / "cluster.out"
    env = {
        **SCRIPT_ENV,
        "HVKG": str(HVKG),
        "HVKG_CLUSTER_DIR": str(directory),
        "HVKG_ACCESS_LOG": "off",
        "HVKG_LOG_LEVEL": "warning",
    }
    with open(output, "wb") as out:
        process = subprocess.Popen(
            ["bash", str(DEPLOY / "local-cluster.sh"), str(replicas), str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the cleanup below can end the whole group if the script itself fails
        )
    running = Cluster(process, port, replicas, directory, output)
    try:
        running.wait((directory / "ready").exists, "ready", timeout=120)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@dataclass
class Load:
    """16 clients, each on its own kept-alive connection through haproxy, sending in turn a CheckGuest POST, a
    SPARQL GET, an /id/ page and /healthz; every outcome is counted under the phase it happened in."""

    url: str
    clients: int = 16
    phase: str = "start"
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    expected: dict[str, bytes] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def requests(self) -> list[tuple[str, Any]]:
        return [
            ("graphql", lambda c: c.post("/graphql", json=CHECK_GUEST)),
            (
                "sparql",
                lambda c: c.get(
                    "/sparql", params={"query": SPARQL}, headers={"accept": "application/sparql-results+json"}
                ),
            ),
            ("page", lambda c: c.get("/id/vmbus", headers={"accept": "text/html"})),
            ("healthz", lambda c: c.get("/healthz")),
        ]

    def expect(self) -> None:
        """The GraphQL and SPARQL answers, asked one at a time before the load starts: a verdict without errors
        and rows. Every answer under load must be the same, byte for byte: the same data is served throughout,
        whichever replica answers and however often it reloads."""
        with httpx.Client(base_url=self.url, timeout=60) as c:
            for kind, send in self.requests():
                response = send(c)
                assert response.status_code == 200, response.text
                if kind == "graphql":
                    assert "errors" not in response.json() and response.json()["data"]["checkGuest"], response.text
                elif kind == "sparql":
                    assert response.json()["results"]["bindings"], response.text
                self.expected[kind] = response.content

    def check(self, kind: str, response: httpx.Response) -> str | None:
        """What is wrong with an answer, or None."""
        if response.status_code != 200:
            return f"{response.status_code} {response.text[:200]}"
        if kind in ("graphql", "sparql") and response.content != self.expected[kind]:
            return f"a different answer: {response.text[:300]}"
        if kind == "page" and "text/html" not in response.headers.get("content-type", ""):
            return f"not a page: {response.headers.get('content-type')}"
        if kind == "healthz" and response.json().get("status") != "ok":
            return response.text[:200]
        return None

    async def client(self, number: int) -> None:
        requests = self.requests()
        async with httpx.AsyncClient(base_url=self.url, timeout=60, limits=httpx.Limits(max_connections=1)) as c:
            turn = number
            while not self.stop.is_set():
                kind, send = requests[turn % len(requests)]
                turn += 1
                phase = self.phase
                try:
                    problem = self.check(kind, await send(c))
                except httpx.HTTPError as error:
                    problem = f"socket error: {type(error).__name__}: {error}"
                self.outcomes[(phase, "failed" if problem else "ok")] += 1
                self.outcomes[(phase, kind)] += 1
                if problem:
                    self.failures.append(f"{phase} {kind}: {problem}")

    async def run(self) -> None:
        await asyncio.gather(*(self.client(n) for n in range(self.clients)))

    @contextlib.contextmanager
    def running(self) -> Iterator[Load]:
        thread = threading.Thread(target=asyncio.run, args=(self.run(),), name="load", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stop.set()
            thread.join(90)
            assert not thread.is_alive(), "the clients did not stop"

    def more(self, count: int, timeout: float = 60) -> None:
        """Wait until `count` more requests of the current phase are answered."""
        target = self.outcomes[(self.phase, "ok")] + count
        deadline = time.monotonic() + timeout
        while self.outcomes[(self.phase, "ok")] < target:
            assert not self.stop.is_set() and time.monotonic() < deadline, f"the load stalled: {self.outcomes}"
            time.sleep(0.05)

    def during(self, phase: str) -> None:
        now = time.monotonic()
        self.timings[self.phase] = now - self.started
        self.phase, self.started = phase, now


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_no_request_is_lost_through_a_rolling_restart_20_reloads_and_a_kill_9(
    tmp_path: Path, snapshot: Snapshot
) -> None:
    """(`snapshot`: built first, it leaves the validated snapshot in the suite's cache, where every replica
    started here finds it, as a replica started again in production finds its own.)"""
    # "20 reloads": and 10 of haproxy
    phases = ("steady", "rolling restart", "20 reloads", "kill -9", "a failed restart")
    with cluster(tmp_path, replicas=2) as running:
        load = Load(running.url)
        load.expect()
        before = {i: running.pid(i) for i in (1, 2)}
        with load.running():
            load.during("steady")
            load.more(100)

            load.during("rolling restart")
            restart = subprocess.run(
                ["bash", str(DEPLOY / "rolling-restart.sh"), "--cluster", str(running.directory), "--timeout", "90"],
                env=SCRIPT_ENV,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            assert restart.returncode == 0, restart.stderr
            restarted = {i: running.pid(i) for i in (1, 2)}
            assert all(restarted[i] != before[i] and not alive(before[i]) for i in (1, 2)), (before, restarted)

            load.during("20 reloads")
            generations = {i: running.health(i)["generation"] for i in (1, 2)}
            haproxy_reloads = running.haproxy_reloads()
            # 10 reloads of each replica, the next one sent as soon as the one before is done (never folded into
            # it); and, with each round, haproxy's own reload (master-worker: a new process takes the socket over)
            sent = dict.fromkeys((1, 2), 0)
            deadline = time.monotonic() + 180
            while any(n < 10 or running.health(i)["generation"] < generations[i] + n for i, n in sent.items()):
                for i, n in sent.items():
                    if n < 10 and running.health(i)["generation"] == generations[i] + n:
                        os.kill(running.pid(i), signal.SIGHUP)
                        sent[i] += 1
                        if i == 1:
                            os.kill(int((running.directory / "haproxy.pid").read_text()), signal.SIGUSR2)
                assert time.monotonic() < deadline, f"reloads stalled: {sent}"
                time.sleep(0.05)
            after = {i: running.health(i) for i in (1, 2)}
            assert all(after[i]["generation"] == generations[i] + 10 for i in (1, 2))
            assert after[1]["contentHash"] == after[2]["contentHash"] and after[1]["lastReloadError"] is None
            running.wait(lambda: running.haproxy_reloads() == haproxy_reloads + 10, "haproxy reloaded 10 times")

            load.during("kill -9")
            victim = running.pid(1)
            os.kill(victim, signal.SIGKILL)
            running.wait(lambda: not alive(victim), "killed", timeout=10)
            # local-cluster.sh starts it again; haproxy takes it back once its checks pass
            running.wait(lambda: running.pid(1) != victim and running.health(1)["status"] == "ok", "restarted")
            running.wait(lambda: running.up(1), "UP again in haproxy")
            load.more(100)  # and serves on

            # a restart command that fails: the script stops there, the replica left in maintenance, not taken back
            load.during("a failed restart")
            socket_path = str(running.directory / "haproxy.sock")
            failed = subprocess.run(
                ["bash", str(DEPLOY / "rolling-restart.sh"), "--socket", socket_path, "--restart", "exit 3"],
                env=SCRIPT_ENV,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert failed.returncode == 1 and "maintenance" in failed.stderr and "メンテナンス" in failed.stderr
            states = running.stats()
            assert (states["replica1"]["status"], states["replica2"]["status"]) == ("MAINT", "UP")
            load.more(100)
            running.admin("set server hvkg/replica1 state ready")
            running.wait(lambda: running.up(1), "UP again in haproxy")
            load.during("end")
        stats = running.stats()

        # SIGTERM stops haproxy and every replica
        pids = [running.pid(i) for i in (1, 2)]
        running.process.terminate()
        assert running.process.wait(60) == 0, running.output.read_text()
        assert not any(alive(pid) for pid in pids)
        for port in range(running.port, running.port + 3):
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the clients' closed connections linger
                s.bind(("127.0.0.1", port))  # free again: nothing of the cluster listens

    counts = {phase: (load.outcomes[(phase, "ok")], load.outcomes[(phase, "failed")]) for phase in phases}
    retries = {key: stats["BACKEND"][key] for key in ("wretr", "wredis")}
    print(f"requests answered per phase (ok, failed): {counts}; haproxy retries and redispatches: {retries}")
    print({phase: round(seconds, 1) for phase, seconds in load.timings.items()})
    assert not load.failures, f"{len(load.failures)} failed: {load.failures[:10]} (per phase: {counts})"
    for phase in phases:
        assert all(load.outcomes[(phase, kind)] > 0 for kind in ("graphql", "sparql", "page", "healthz")), phase
        assert load.outcomes[(phase, "ok")] >= 100, f"too little load to tell: {counts}"
    assert all(int(stats[f"replica{i}"]["stot"]) > 0 for i in (1, 2)), stats
