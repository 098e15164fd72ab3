"""Debian Bookworm chroots standing in for a hall's Pis, and the playbook run on them.

A base system (debootstrap minbase with python3, as Ansible needs) is made once per
architecture and kept as a tarball under var/provision/; each test run unpacks fresh
copies, gives them a Raspberry Pi-like boot partition (/boot/firmware/config.txt and
cmdline.txt as Raspberry Pi OS ships them), mounts /proc and /dev, and stops package
scripts from starting daemons (policy-rc.d, as in any image build). Each chroot keeps
its downloaded .debs in its own folder under var/provision/apt-cache/, so a second run
of the test fetches nothing it already has.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VAR = REPO / "var" / "provision"
MIRROR = "http://deb.debian.org/debian"
ANSIBLE_DIR = REPO / "ansible"

PI_CONFIG_TXT = """\
# For more options and information see
# http://rptl.io/configtxt
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
auto_initramfs=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
disable_fw_kms_setup=1
arm_64bit=1
disable_overscan=1
arm_boost=1

[cm4]
otg_mode=1

[all]
"""
PI_CMDLINE_TXT = ("console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 "
                  "rootfstype=ext4 fsck.repair=yes rootwait\n")


def arm64_works() -> str | None:
    """None when this machine runs arm64 binaries (qemu-user-static, binfmt); else why not."""
    if shutil.which("qemu-aarch64-static") is None:
        return "qemu-user-static is not installed"
    entry = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
    if not entry.exists():
        return "no binfmt_misc entry for qemu-aarch64 (update-binfmts --enable qemu-aarch64)"
    text = entry.read_text()
    if "enabled" not in text.splitlines()[0] or "F" not in _flags(text):
        return "the qemu-aarch64 binfmt entry is disabled or lacks the F (fix binary) flag"
    return None


def _flags(binfmt: str) -> str:
    m = re.search(r"^flags:\s*(\S*)", binfmt, re.M)
    return m.group(1) if m else ""


def base_tarball(arch: str) -> tuple[Path, float | None]:
    """The cached base system for `arch` (amd64, arm64); the seconds debootstrap took, or
    None when the cache already had it."""
    VAR.mkdir(parents=True, exist_ok=True)
    tarball = VAR / f"bookworm-{arch}-base.tar"
    if tarball.exists():
        return tarball, None
    work = VAR / f"debootstrap-{arch}"
    _unmount_under(work)
    shutil.rmtree(work, ignore_errors=True)
    started = time.monotonic()
    subprocess.run(["debootstrap", "--variant=minbase", f"--arch={arch}",
                    "--include=python3,python3-apt", "bookworm", str(work), MIRROR],
                   check=True, stdout=subprocess.DEVNULL)
    took = time.monotonic() - started
    _unmount_under(work)  # a foreign debootstrap may leave its /proc mounted
    subprocess.run(["tar", "--one-file-system", "-C", str(work), "-cf", f"{tarball}.part", "."],
                   check=True)
    os.replace(f"{tarball}.part", tarball)
    shutil.rmtree(work)
    return tarball, took


@dataclass
class Chroot:
    """One device's root file system, unpacked from a base tarball."""

    name: str
    arch: str
    root: Path
    mounts: list[Path] = field(default_factory=list)

    def path(self, inside: str) -> Path:
        """A path inside the chroot, as seen from the host."""
        return self.root / inside.lstrip("/")

    def run(self, *argv: str, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a command inside the chroot (a clean environment unless `env` is given)."""
        base = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG": "C.UTF-8"}
        return subprocess.run(["chroot", str(self.root), *argv], env={**base, **(env or {})},
                              check=check, capture_output=True, text=True, timeout=timeout)

    def popen(self, *argv: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        """Start a long-running command inside the chroot."""
        base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        return subprocess.Popen(["chroot", str(self.root), *argv], env={**base, **env},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def unmount(self) -> None:
        """Undo `make_chroot`'s mounts (innermost first)."""
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(m)], check=False)
        self.mounts.clear()


def make_chroot(name: str, arch: str, tarball: Path, under: Path) -> Chroot:
    """A fresh chroot `under/name` for one device."""
    root = under / name
    _unmount_under(root)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(root), "-xf", str(tarball)], check=True)
    c = Chroot(name, arch, root)
    boot = c.path("/boot/firmware")
    boot.mkdir(parents=True, exist_ok=True)
    (boot / "config.txt").write_text(PI_CONFIG_TXT)
    (boot / "cmdline.txt").write_text(PI_CMDLINE_TXT)
    shutil.copy("/etc/resolv.conf", c.path("/etc/resolv.conf"))
    policy = c.path("/usr/sbin/policy-rc.d")
    policy.write_text("#!/bin/sh\n# an image being built: no daemon starts here\nexit 101\n")
    policy.chmod(0o755)
    apt_cache = VAR / "apt-cache" / f"{arch}-{name}"
    apt_cache.mkdir(parents=True, exist_ok=True)
    for source, target, kind in ((None, "/proc", "proc"), ("/dev", "/dev", "bind"),
                                 ("/dev/pts", "/dev/pts", "bind"),
                                 (str(apt_cache), "/var/cache/apt/archives", "bind")):
        where = c.path(target)
        where.mkdir(parents=True, exist_ok=True)
        if kind == "proc":
            subprocess.run(["mount", "-t", "proc", "proc", str(where)], check=True)
        else:
            subprocess.run(["mount", "--bind", str(source), str(where)], check=True)
        c.mounts.append(where)
    return c


def _unmount_under(root: Path) -> None:
    """Unmount whatever an earlier, interrupted run left mounted below `root`."""
    if not root.exists():
        return
    prefix = str(root.resolve()) + "/"
    mounted = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for m in sorted((m for m in mounted if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], check=False)


@dataclass
class PlaybookRun:
    """One ansible-playbook run: how long it took and its recap per host."""

    seconds: float
    recap: dict[str, dict[str, int]]
    output: str

    @property
    def changed(self) -> dict[str, int]:
        return {host: r["changed"] for host, r in self.recap.items()}


RECAP = re.compile(r"^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$", re.M)


def run_playbook(inventory: Path, extra_vars: dict[str, str], log: Path) -> PlaybookRun:
    """`ansible-playbook site.yml` with this inventory, as the README's command runs it."""
    argv = [str(Path(os.environ.get("HALLQ_ANSIBLE_BIN", _venv_bin())) / "ansible-playbook"),
            "site.yml", "-i", str(inventory)]
    for k, v in extra_vars.items():
        argv += ["-e", f"{k}={v}"]
    env = {**os.environ, "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True,
                          timeout=3600)
    took = time.monotonic() - started
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise AssertionError(f"ansible-playbook failed ({proc.returncode}); log: {log}\n"
                             + proc.stdout[-6000:] + proc.stderr[-3000:])
    recap = {m.group(1): {k: int(v) for k, v in (kv.split("=") for kv in m.group(2).split())}
             for m in RECAP.finditer(proc.stdout)}
    return PlaybookRun(took, recap, proc.stdout)


def _venv_bin() -> str:
    return str(Path(sys.executable).parent)
