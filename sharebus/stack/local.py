"""The local stack: Kafka (KRaft, one node or a cluster) and Apicurio Registry, from jars.

Downloads go through Maven (its own cache) into a git-ignored folder, so a second
`up` downloads nothing. Each JVM is started in its own session with an explicit heap
and a `-Dsharebus.stack=<dir>` marker, its pid written to a file; `down` stops exactly
those pids (after checking the marker, so a recycled pid is never killed). Readiness
is probed (Kafka metadata; the registry's own health check, then `GET subjects`), never
slept for.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import subprocess
import tarfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from foundation.errors import StackError
from foundation.secrets import write_private
from foundation.settings import ADMIN, KafkaSettings, StackSettings, scram_jaas
from sharebus.principals import REGISTRY, REGISTRY_GROUP_PREFIX, registry_acls
from sharebus.stack.certs import StackCerts
from sharebus.stack.nodes import Node, nodes_of, server_properties
from sharebus.stack.processes import launch_all, terminate

# Apicurio refuses to start on kafkasql topics that could lose schemas by retention.
REGISTRY_TOPICS = ("sharebus.registry.journal", "sharebus.registry.snapshots")

Report = Callable[[str], None]
# The brokers' log configuration: package data beside this module.
LOG4J = Path(__file__).with_name("log4j2.properties")


@dataclass(frozen=True)
class Component:
    name: str
    pid: int | None
    running: bool
    detail: str


class LocalStack:
    """Start, probe and stop the broker and the registry described by `StackSettings`."""

    def __init__(self, settings: StackSettings, report: Report = print) -> None:
        self.s = settings
        self.report = report
        self.dir = settings.dir.resolve()
        self.run_dir = self.dir / "run"
        self.cache = settings.cache.resolve()
        self.kafka_home = self.cache / f"kafka-{settings.kafka_version}"
        self.registry_home = self.cache / f"apicurio-{settings.apicurio_version}"
        self.nodes = nodes_of(settings, self.dir)
        self.marker = f"-Dsharebus.stack={self.dir}"
        self.secrets = settings.secrets()
        self.certs = StackCerts.under(settings.security_dir)

    # ---- public -----------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        return self.s.bootstrap

    @property
    def registry_url(self) -> str:
        return f"http://127.0.0.1:{self.s.registry_port}/apis/ccompat/v7"

    def up(self) -> dict[str, float]:
        """Start whatever is not running; return the seconds each start took."""
        timings: dict[str, float] = {}
        kafka_down = [node for node in self.nodes if not self._alive(node.name)]
        registry_up = self._alive("registry")
        if not kafka_down and registry_up:
            self.report(f"already running: kafka {self.bootstrap}, registry {self.registry_url}")
            return timings
        java = self._require_tool(self.s.java, "Java 17+ (for Kafka)", "SHAREBUS_STACK_JAVA")
        registry_java = self._registry_java()
        self._require_tool(self.s.mvn, "Maven (to fetch the jars)", "SHAREBUS_STACK_MVN")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.certs.make()
        self._fetch_kafka()
        self._fetch_registry()
        if kafka_down:
            for node in kafka_down:
                self._check_ports(node.name, [node.port, node.controller_port])
            timings["kafka"] = self._start_kafka(java, kafka_down)
        self._ensure_registry_topics()
        self._ensure_registry_access()
        if not registry_up:
            self._check_ports("registry", [self.s.registry_port, self.s.registry_management_port])
            timings["registry"] = self._start_registry(registry_java)
        return timings

    def down(self) -> list[str]:
        """Stop the processes this stack started (registry first); return what was stopped."""
        return self.stop("registry") + self.stop(*(node.name for node in self.nodes))

    def stop(self, *names: str, kill: bool = False) -> list[str]:
        """Stop components (`kafka`, `kafka-2`, `registry`) together; `kill` sends SIGKILL,
        as a crash. `up()` starts them again. Brokers of a cluster are signalled at once:
        one by one, the last would wait for a quorum that has already gone."""
        pids = {name: self._pid(name) for name in names}
        ours = {name: pid for name, pid in pids.items() if pid is not None and self._is_ours(pid)}
        terminate(*ours.values(), grace=0.0 if kill else 30.0)
        for name, pid in pids.items():
            if pid is not None:
                (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        return [f"{name} (pid {pid})" for name, pid in ours.items()]

    def status(self) -> list[Component]:
        out = []
        ports = [(node.name, node.port) for node in self.nodes]
        for name, port in [*ports, ("registry", self.s.registry_port)]:
            pid = self._pid(name)
            alive = pid is not None and self._is_ours(pid)
            detail = f"pid {pid}, port {port}" if alive else "not running"
            out.append(Component(name, pid if alive else None, alive, detail))
        return out

    def stray_pids(self) -> list[int]:
        """JVMs carrying this stack's marker, whether or not a pid file names them."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and self._is_ours(int(entry.name)):
                found.append(int(entry.name))
        return found

    # ---- downloads ---------------------------------------------------------------

    def _fetch_kafka(self) -> None:
        libs = self.kafka_home / "libs"
        done = self.kafka_home / ".complete"
        if done.exists():
            return
        self.report(f"fetching Kafka {self.s.kafka_version} jars through Maven ...")
        pom = resources.files("sharebus.stack").joinpath("pom.xml")
        with resources.as_file(pom) as pom_path:
            self._mvn(
                "-f",
                str(pom_path),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={libs}",
                f"-Dkafka.version={self.s.kafka_version}",
                f"-Dlog4j.version={self.s.log4j_version}",
            )
        done.touch()

    def _fetch_registry(self) -> None:
        done = self.registry_home / ".complete"
        if done.exists():
            return
        version = self.s.apicurio_version
        self.report(f"fetching Apicurio Registry {version} through Maven ...")
        downloads = self.cache / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        self._mvn(
            "dependency:copy",
            f"-Dartifact=io.apicurio:apicurio-registry-app:{version}:tar.gz:all",
            f"-DoutputDirectory={downloads}",
        )
        archive = downloads / f"apicurio-registry-app-{version}-all.tar.gz"
        if self.registry_home.exists():
            shutil.rmtree(self.registry_home)
        with tarfile.open(archive) as tar:
            tar.extractall(self.registry_home, filter="data")
        archive.unlink()
        if self._registry_jar() is None:
            raise StackError(f"the Apicurio {version} archive holds no runnable jar")
        done.touch()

    def _mvn(self, *args: str) -> None:
        cmd = [self.s.mvn, "-q", "-B", *args]
        # Standalone goals (dependency:copy) run from our own folder, never a stranger's pom.
        self.cache.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(cmd, cwd=self.cache, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            lines = [ln for ln in (result.stdout + result.stderr).splitlines() if "ERROR" in ln]
            cause = lines[0] if lines else f"exit code {result.returncode}"
            cause = re.sub(r"\x1b\[[0-9;]*m", "", cause).replace("[ERROR] ", "").strip()
            raise StackError(f"download failed: {cause}")

    # ---- kafka -------------------------------------------------------------------

    def _start_kafka(self, java: str, nodes: list[Node]) -> float:
        data = self.dir / "data"
        if any((n.data / "meta.properties").exists() for n in nodes) and not self.secrets.get(
            ADMIN
        ):
            # Formatted before the stack was secured: the broker could not log in to itself.
            raise StackError(
                f"{data} holds no admin credential (made before the stack used "
                f"SASL_SSL): remove {data} and run `sharebus up` again"
            )
        self._check_size()
        admin = self.secrets.get_or_create(ADMIN).get_secret_value()
        classpath = str(self.kafka_home / "libs" / "*")
        cluster_id = self._cluster_id()
        commands = {}
        for node in nodes:
            props = server_properties(node, self.nodes, self.s, self.certs, admin)
            # It holds the broker's own SCRAM password: owner-only, like the secrets file.
            write_private(node.properties, "".join(f"{k}={v}\n" for k, v in props.items()))
            if not (node.data / "meta.properties").exists():
                self._format(java, classpath, node, cluster_id, admin)
            heap = self.s.broker_heap
            cmd = [java, f"-Xms{heap}", f"-Xmx{heap}", self._gc_log(node.name), self.marker]
            cmd += [f"-Dlog4j2.configurationFile={LOG4J}", "-cp", classpath]
            commands[node.name] = [*cmd, "kafka.Kafka", str(node.properties)]
        if len(self.nodes) > 1:
            self.s.brokers_record.write_text(f"{len(self.nodes)}\n")
        ready = {node.name: node for node in nodes}
        return self._launch_all(commands, lambda name: self._node_ready(ready[name]))

    def _format(self, java: str, classpath: str, node: Node, cluster_id: str, admin: str) -> None:
        node.data.mkdir(parents=True, exist_ok=True)
        fmt = [java, "-Xmx256m", "-cp", classpath, "kafka.tools.StorageTool", "format"]
        fmt += [f"--cluster-id={cluster_id}", "-c", str(node.properties)]
        # The admin's SCRAM credential exists before the broker first starts, so the
        # broker can authenticate to itself and the operator can create the others.
        fmt += ["--add-scram", f"SCRAM-SHA-512=[name={ADMIN},password={admin}]"]
        result = subprocess.run(fmt, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise StackError(f"formatting Kafka storage failed: {' '.join(last)}")

    def _cluster_id(self) -> str:
        """The id every node's storage was formatted with; a new one for a new stack."""
        for node in self.nodes:
            meta = node.data / "meta.properties"
            if meta.exists():
                match = re.search(r"^cluster\.id=(\S+)", meta.read_text(), re.MULTILINE)
                if match:
                    return match.group(1)
        return _cluster_id()

    def _check_size(self) -> None:
        """A stack's storage holds one cluster of one size: starting it with another
        count would make a second cluster beside the first, not a bigger one."""
        recorded = self.s.brokers_record
        if recorded.exists():
            made = int(recorded.read_text().strip())
        else:
            made = int((self.dir / "data" / "kafka" / "meta.properties").exists())
        wanted = len(self.nodes)
        if made and made != wanted:
            raise StackError(
                f"the stack in {self.dir} was made with {made} broker(s), not {wanted}: "
                f"use SHAREBUS_STACK_BROKERS={made}, or remove {self.dir / 'data'} to start anew"
            )
        ports = [p for n in self.nodes for p in (n.port, n.controller_port)]
        if len(set(ports)) != len(ports):
            raise StackError(
                f"the brokers' ports overlap ({ports}): set SHAREBUS_STACK_CONTROLLER_PORT "
                "to SHAREBUS_STACK_KAFKA_PORT + 1"
            )

    def admin_settings(self, bootstrap: str | None = None) -> KafkaSettings:
        """This stack's super user, for provisioning (through `bootstrap`: all brokers)."""
        return KafkaSettings(
            bootstrap=bootstrap or self.bootstrap,
            registry_url=self.registry_url,
            security_protocol="SASL_SSL",
            sasl_username=ADMIN,
            sasl_password=self.secrets.get(ADMIN),
            ssl_ca_location=self.certs.ca,
        )

    def _node_ready(self, node: Node) -> bool:
        """The node answers metadata itself, and every broker of the stack has registered
        (a cluster's controllers need a quorum before any broker is ready)."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({**self.admin_settings(node.address).librdkafka(), "log_level": 0})
        try:
            meta = admin.list_topics(timeout=1.0)
        except Exception:
            return False
        return meta.orig_broker_id == node.id and len(meta.brokers) >= len(self.nodes)

    def _ensure_registry_topics(self) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({**self.admin_settings().librdkafka(), "log_level": 3})
        existing = admin.list_topics(timeout=10).topics
        config = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
        replicas = self.s.replication
        wanted = [
            NewTopic(t, 1, replicas, config=config) for t in REGISTRY_TOPICS if t not in existing
        ]
        if not wanted:
            return
        for topic, future in admin.create_topics(wanted).items():
            try:
                future.result(timeout=30)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise StackError(f"creating registry topic {topic} failed: {exc}") from exc

    def _ensure_registry_access(self) -> None:
        """The registry's own SCRAM user and ACLs, before it first connects."""
        from sharebus.access import Access

        access = Access(self.admin_settings())
        access.set_passwords({REGISTRY: self.secrets.get_or_create(REGISTRY)})
        plan = access.plan(registry_acls())
        access.apply(replace(plan, remove=()), report=lambda line: None)

    # ---- registry ----------------------------------------------------------------

    def _registry_java(self) -> str:
        major, minor = (int(x) for x in self.s.apicurio_version.split(".")[:2])
        needs = 21 if (major, minor) >= (3, 2) else 17
        if self.s.registry_java:
            return self._require_tool(self.s.registry_java, f"Java {needs}+", "")
        candidates = [shutil.which(self.s.java) or ""]
        candidates += [
            str(p) for p in sorted(Path("/usr/lib/jvm").glob("*/bin/java"), reverse=True)
        ]
        best: tuple[int, str] | None = None
        for candidate in candidates:
            version = _java_major(candidate)
            if version >= needs and (best is None or version > best[0]):
                best = (version, candidate)
        if best is None:
            raise StackError(
                f"Apicurio {self.s.apicurio_version} needs Java {needs}+ and none was found: "
                "set SHAREBUS_STACK_REGISTRY_JAVA, "
                "or SHAREBUS_STACK_APICURIO_VERSION=3.0.9 for Java 17"
            )
        return best[1]

    def _registry_jar(self) -> Path | None:
        # 3.1+ archives hold a Quarkus fast-jar (quarkus-run.jar); 3.0.x a legacy runner jar.
        jar = self.registry_home / "quarkus-run.jar"
        if jar.exists():
            return jar
        runners = sorted(self.registry_home.glob("*-runner.jar"))
        return runners[0] if runners else None

    def _start_registry(self, java: str) -> float:
        s = self.s
        journal, snapshots = REGISTRY_TOPICS
        opts = {
            "quarkus.http.host": "127.0.0.1",
            "quarkus.http.port": s.registry_port,
            "quarkus.management.host": "127.0.0.1",
            "quarkus.management.port": s.registry_management_port,
            # kafkasql: schemas live in Kafka and survive a registry restart.
            "apicurio.storage.kind": "kafkasql",
            "apicurio.kafkasql.bootstrap.servers": self.bootstrap,
            "apicurio.kafkasql.topic": journal,
            "apicurio.kafkasql.snapshots.topic": snapshots,
            # Under the registry's own prefix, which is all its ACLs allow.
            "apicurio.events.kafka.topic": "sharebus.registry.events",
            # Its consumer group is new on every start; the prefix is what its ACL names.
            "apicurio.kafkasql.consumer.group-prefix": REGISTRY_GROUP_PREFIX,
            # The Kafka credential is in a file only its owner reads, not on the command line.
            "quarkus.config.locations": str(self._registry_properties()),
        }
        jar = self._registry_jar()
        if jar is None:
            raise StackError(f"no Apicurio jar under {self.registry_home}: remove it and retry")
        heap = s.registry_heap
        cmd = [java, f"-Xms{heap}", f"-Xmx{heap}", self._gc_log("registry"), self.marker]
        cmd += [f"-D{k}={v}" for k, v in opts.items()]
        cmd += ["-jar", str(jar)]
        return self._launch("registry", cmd, self._registry_ready, cwd=self.registry_home)

    def _gc_log(self, name: str) -> str:
        """Each JVM's pauses in `.stack/run/<name>-gc.log` (two files of 5 MB at most): when
        the broker or the registry stops answering for a while, this says whether it was
        collecting garbage."""
        path = self.run_dir / f"{name}-gc.log"
        return f"-Xlog:gc:file={path}:time,uptime:filecount=2,filesize=5m"

    def _registry_properties(self) -> Path:
        """The registry's Kafka client security: its own SCRAM principal over TLS."""
        password = self.secrets.get_or_create(REGISTRY).get_secret_value()
        props = {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config": scram_jaas(REGISTRY, password),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.certs.ca),
        }
        path = self.run_dir / "registry.properties"
        text = "".join(f"apicurio.kafka.common.{k}={v}\n" for k, v in props.items())
        write_private(path, text)
        return path

    def _registry_ready(self) -> bool:
        """Ready once its health check says so, not when the API first answers: with
        kafkasql storage the API answers while the journal is still being replayed, with
        a partial list of subjects, and a write then (a compatibility level, a schema)
        conflicts with what the replay brings next ("A rule named 'COMPATIBILITY' already
        exists" failed a publish right after `make up`)."""
        health = f"http://127.0.0.1:{self.s.registry_management_port}/health/ready"
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if json.load(resp).get("status") != "UP":
                    return False
            with urllib.request.urlopen(f"{self.registry_url}/subjects", timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False  # 503 while DOWN

    # ---- processes ---------------------------------------------------------------

    def _launch(
        self, name: str, cmd: list[str], ready: Callable[[], bool], cwd: Path | None = None
    ) -> float:
        return self._launch_all({name: cmd}, lambda _: ready(), cwd)

    def _launch_all(
        self, cmds: dict[str, list[str]], ready: Callable[[str], bool], cwd: Path | None = None
    ) -> float:
        return launch_all(self.run_dir, cmds, ready, self.s.start_timeout, self.report, cwd)

    def _pid(self, name: str) -> int | None:
        try:
            return int((self.run_dir / f"{name}.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _alive(self, name: str) -> bool:
        pid = self._pid(name)
        return pid is not None and self._is_ours(pid)

    def _is_ours(self, pid: int) -> bool:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return self.marker.encode() in cmdline

    def _require_tool(self, tool: str, what: str, envvar: str) -> str:
        found = shutil.which(tool)
        if not found:
            hint = f" (or set {envvar})" if envvar else ""
            raise StackError(f"{what} not found: '{tool}' is not on PATH{hint}")
        return found

    def _check_ports(self, name: str, ports: list[int]) -> None:
        for port in ports:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError as exc:
                    raise StackError(
                        f"port {port} for {name} is already taken by another process "
                        "(choose another with SHAREBUS_STACK_*_PORT)"
                    ) from exc


def _cluster_id() -> str:
    """16 random bytes in URL-safe base64 without padding, as Kafka's own tool makes them.

    Like Kafka, never one that starts with '-': command-line parsers take it for an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _java_major(java: str) -> int:
    if not java or not Path(java).exists():
        return 0
    release = Path(java).resolve().parent.parent / "release"
    if release.exists():
        match = re.search(r'JAVA_VERSION="(\d+)', release.read_text())
        if match:
            return int(match.group(1))
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', result.stderr)
    return int(match.group(1)) if match else 0
