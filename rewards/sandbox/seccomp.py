"""The last layer: a seccomp filter installed in the candidate process just before candidate code loads.

Python-level guards (static rules, the audit hook) can be bypassed by code that reaches native calls some
way nobody thought of; a seccomp filter holds whatever the Python code does. It returns EPERM for the
system calls a kernel never needs: sockets, namespaces and mounts (no nested user namespaces), ptrace and
cross-process memory access, SysV/POSIX IPC, BPF, perf, io_uring, keyrings, module loading, and (on the
CPU interpreter, where nothing is compiled) execve. x86_64 only; elsewhere it reports itself as absent.
Needs PR_SET_NO_NEW_PRIVS (set by `rewards.sandbox.isolation.apply_limits`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import struct

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW = 0x7FFF0000
RET_EPERM = 0x00050000 | 1
RET_ENOSYS = 0x00050000 | 38
NS_FLAGS = 0x10000000 | 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000 | 0x02000000
# x86_64 numbers of the calls refused with EPERM.
DENY_X86_64 = {
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53, "accept4": 288,
    "shmget": 29, "semget": 64, "msgget": 68, "mq_open": 240, "ptrace": 101, "syslog": 103,
    "personality": 135, "pivot_root": 155, "chroot": 161, "acct": 163, "mount": 165, "umount2": 166,
    "swapon": 167, "swapoff": 168, "reboot": 169, "sethostname": 170, "setdomainname": 171,
    "init_module": 175, "delete_module": 176, "quotactl": 179, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311,
    "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "mount_setattr": 442,
}
EXEC_X86_64 = {"execve": 59, "execveat": 322}
CLONE_X86_64, CLONE3_X86_64 = 56, 435


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> tuple[int, int, int, int]:
    return (code, jt, jf, k)


LD_W_ABS, JEQ_K, JSET_K, JGE_K, RET_K = 0x20, 0x15, 0x45, 0x35, 0x06


def build_program(allow_exec: bool) -> list[tuple[int, int, int, int]]:
    deny = dict(DENY_X86_64)
    if not allow_exec:
        deny.update(EXEC_X86_64)
    prog = [
        _ins(LD_W_ABS, 4),                              # arch
        _ins(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        _ins(RET_K, RET_EPERM),
        _ins(LD_W_ABS, 0),                              # syscall number
        _ins(JGE_K, 0x40000000, 0, 1),                  # x32 ABI: refuse
        _ins(RET_K, RET_EPERM),
        _ins(JEQ_K, CLONE3_X86_64, 0, 1),               # clone3 flags live in memory: make libc use clone
        _ins(RET_K, RET_ENOSYS),
    ]
    for nr in sorted(deny.values()):
        prog += [_ins(JEQ_K, nr, 0, 1), _ins(RET_K, RET_EPERM)]
    prog += [
        _ins(JEQ_K, CLONE_X86_64, 0, 3),
        _ins(LD_W_ABS, 16),                             # clone flags (args[0], low word)
        _ins(JSET_K, NS_FLAGS, 0, 1),
        _ins(RET_K, RET_EPERM),
        _ins(RET_K, RET_ALLOW),
    ]
    return prog


def install(allow_exec: bool) -> bool:
    """Install the filter in this process (inherited by its children). False where unsupported."""
    if platform.machine() != "x86_64":
        return False
    prog = build_program(allow_exec)
    arr = (_SockFilter * len(prog))(*[_SockFilter(c, jt, jf, k) for c, jt, jf, k in prog])
    fprog = _SockFprog(len(prog), arr)
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    rc = libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)
    return rc == 0


assert struct.calcsize("HBBI") == 8
