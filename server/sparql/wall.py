"""The second wall behind the SPARQL checks: a worker loses the network right after the fork.

For the day the checks have a gap and the engine tries to fetch something (SERVICE in pyoxigraph, a graph IRI
in rdflib). `_cut_network` tries, in this order:

- `unshare(CLONE_NEWNET)`: a network namespace of its own, with only a loopback interface that is down.
  Every address family that could leave the process (TCP, UDP, raw, netlink to the host, abstract Unix
  sockets) is cut by the kernel, without having to name the calls. Needs CAP_SYS_ADMIN: root, as in CI and
  the container. Costs under a millisecond per worker (measured 0.8 ms).
- `unshare(CLONE_NEWUSER | CLONE_NEWNET)`: the same for an unprivileged server, where the kernel allows
  user namespaces. The uid inside reads as `nobody`, but file access still uses the server's own uid.
- seccomp: a filter that makes socket() fail (EPERM) for every family but AF_UNIX, and refuses
  io_uring_setup (io_uring can open sockets without the socket() call). Chosen over Landlock as the
  fallback because Landlock's network rules (ABI 4+, Linux 6.7) cover TCP bind/connect only, not UDP or
  raw sockets, while this filter works on any Linux since 3.5 with nothing to install (x86-64 and arm64).
- none of them: the worker goes on with the network, and the server logs a warning once.

A worker keeps only what it already holds: its pipe to the server (a socketpair made before the wall) and
pipes; filesystem Unix sockets stay reachable, which the query engines never use. The wall each worker got
is reported to the server over its pipe before the first answer; `network_wall()` (server/sparql/workers.py)
says which one the workers of this process have, and the server logs it when it first learns it or when it
changes.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import platform
import socket

from server.ops.metrics import report_network_wall

logger = logging.getLogger(__name__)

_last_wall: str | None = None


def network_wall() -> str | None:
    """The wall the SPARQL workers of this process last reported ("netns", "userns+netns", "seccomp" or "none");
    None before any worker has started."""
    return _last_wall


def _report_wall(wall: str) -> None:
    """A pool's workers got a wall other than before: remember it for the process, and log it."""
    global _last_wall  # noqa: PLW0603 - one answer per process, for /healthz and /metrics
    _last_wall = wall
    report_network_wall(wall)
    if wall == NO_WALL:
        logger.warning(
            "SPARQL workers can reach the network: no network namespace, user namespace or seccomp is "
            "available here; only the query checks stop SERVICE / "
            "SPARQL ワーカーがネットワークに接続できます（ネットワーク名前空間・ユーザー名前空間・seccomp の"
            "いずれも使えません）。SERVICE を止めるのはクエリの検査だけです"
        )
    else:
        logger.info(
            "SPARQL workers run without network access (%s) / SPARQL ワーカーはネットワークに接続できません（%s）",
            wall,
            wall,
        )


# The walls, strongest first (see the module docstring); NO_WALL: the worker can reach the network.
NETNS = "netns"
USERNS_NETNS = "userns+netns"
SECCOMP = "seccomp"
NO_WALL = "none"

_libc: ctypes.CDLL | None = None

PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


def _c() -> ctypes.CDLL:
    global _libc  # noqa: PLW0603 - loaded once per process
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def _cut_network() -> str:
    """Put this process behind the strongest wall available (see the module docstring); name it."""
    for name, wall in ((NETNS, _own_netns), (USERNS_NETNS, _user_and_netns), (SECCOMP, _seccomp_unix_only)):
        try:
            wall()
        except (OSError, AttributeError, NotImplementedError) as error:
            logger.debug("SPARQL worker: no %s wall: %s", name, error)
            continue
        return name
    return NO_WALL


def _own_netns() -> None:
    _unshare(CLONE_NEWNET)


def _user_and_netns() -> None:
    _unshare(CLONE_NEWUSER | CLONE_NEWNET)


def _unshare(flags: int) -> None:
    before = _netns_id()
    _check(_c().unshare(flags))
    if before is not None and _netns_id() == before:
        raise OSError(errno.EPERM, "unshare succeeded but the network namespace is the same")


def _netns_id() -> str | None:
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return None


# Classic BPF, as seccomp reads it: struct seccomp_data is {int nr; u32 arch; u64 ip; u64 args[6]}.
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_SECCOMP_MODE_FILTER = 2
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_X32_SYSCALL_BIT = 0x40000000
# machine -> (AUDIT_ARCH_*, __NR_socket, __NR_io_uring_setup)
_SYSCALLS = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}


class _SockFilter(ctypes.Structure):
    _fields_ = (("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32))


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


def _seccomp_program(machine: str) -> list[tuple[int, int, int, int]]:
    """socket() only for AF_UNIX, no io_uring, and no syscall of a foreign ABI (x32, i386) at all."""
    arch, nr_socket, nr_io_uring = _SYSCALLS[machine]
    # Instructions are (code, jump if true, jump if false, k), the jumps by label; a string is a label.
    program: list[str | tuple[int, str | int, str | int, int]] = [
        (_BPF_LD_W_ABS, 0, 0, 4),  # arch
        (_BPF_JEQ_K, 0, "deny", arch),
        (_BPF_LD_W_ABS, 0, 0, 0),  # syscall number
    ]
    if machine == "x86_64":
        program.append((_BPF_JGE_K, "deny", 0, _X32_SYSCALL_BIT))
    program += [
        (_BPF_JEQ_K, 0, "not-socket", nr_socket),
        (_BPF_LD_W_ABS, 0, 0, 16),  # args[0], low 32 bits (little-endian): the address family
        (_BPF_JEQ_K, "allow", "deny", socket.AF_UNIX),
        "not-socket",
        (_BPF_JEQ_K, "deny", "allow", nr_io_uring),
        "allow",
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
        "deny",
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.EPERM),
    ]
    labels: dict[str, int] = {}
    code: list[tuple[int, str | int, str | int, int]] = []
    for item in program:
        if isinstance(item, str):
            labels[item] = len(code)
        else:
            code.append(item)

    def offset(target: str | int, at: int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return [(op, offset(jt, at), offset(jf, at), k) for at, (op, jt, jf, k) in enumerate(code)]


def _seccomp_unix_only() -> None:
    machine = platform.machine()
    if machine not in _SYSCALLS:
        raise NotImplementedError(f"no seccomp filter for {machine}")
    program = _seccomp_program(machine)
    filters = (_SockFilter * len(program))(*(_SockFilter(*instruction) for instruction in program))
    fprog = _SockFprog(len(program), ctypes.cast(filters, ctypes.POINTER(_SockFilter)))
    libc = _c()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))  # required to install a filter without CAP_SYS_ADMIN
    _check(libc.prctl(PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0))
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
    except PermissionError:
        return
    raise OSError(errno.EPERM, "the seccomp filter is installed but an AF_INET socket still opens")
