"""Output paths that never destroy a user's files, and atomic writes to them.

Every command that writes checks its output paths with :func:`check_output` before doing any
work, and writes through :func:`atomic_dir` (a result folder) or :func:`atomic_path` (one file).
The rule for an output path:

* a path that does not exist is created, parents included;
* an existing folder is replaced without asking only when smsim wrote it: its ``_SUCCESS``
  marker lists every file smsim put there (with its size) and nothing else is in it; an empty
  folder is replaced too;
* any other folder is replaced only with ``force``; an existing file is replaced by a new file
  only with ``force``;
* refused even with ``force``: a regular file where a folder is written (or a folder where a
  file is written), a symbolic link, the current folder or one that holds it, a folder that
  holds one of the command's input files, a path whose parent is a file, and a place that
  cannot be written.

A refusal is an :class:`~smsim.errors.InputError` (exit code 2) naming the path and what is
there. A write builds the result in a hidden temporary sibling and swaps it in by renaming: a
folder with one atomic exchange where the OS has one (``renameat2`` on Linux), otherwise by
moving the old one aside first and back if the second rename fails. An interrupt at any step
leaves the old complete result or the new complete one at the path, never neither. A
temporary's name says which process on which host writes it, so what a killed process left can
be found and removed without touching a write in progress (:func:`sweep_abandoned`); an old
result that a process killed between the two renames left aside is renamed back, never removed,
while nothing is at its path (:func:`put_back_moved_aside`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from smsim.errors import InputError

#: The marker written last into every result folder; it lists the files smsim wrote.
MARKER = "_SUCCESS"
#: Stop looking through a foreign folder after this many entries (the answer is known by then).
_SCAN_LIMIT = 10_000
#: A hidden temporary whose writer cannot be checked (another host, or no writer in its name) is
#: abandoned once nothing in it has changed for this long.
ABANDONED_AFTER_S = 24 * 3600.0
#: ``.<target>.w<pid>-<host>.<random>.tmp`` (a write), ``....removing`` (a removal) or ``....old``
#: (the old result a swap without atomic exchange moved aside); ``pid`` and ``host`` are missing
#: from the names of temporaries written before writers were named.
_TEMP_NAME = re.compile(r"^\.(?P<target>.+?)\.(?:w(?P<pid>\d+)-(?P<host>[0-9a-f]{8})\.)?[a-z0-9_]+\.(?:tmp|removing|old)$")


def _reached(step: str) -> None:
    """Called at each step of a folder or file swap; tests replace it to interrupt a write."""


def _umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_tree(path: Path) -> None:
    """Remove a folder smsim owns (a temporary sibling, or the old result after a swap)."""
    if os.path.islink(path) or not os.path.isdir(path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    else:
        shutil.rmtree(path, ignore_errors=True)


# -- what is at a path -------------------------------------------------------------------------


def _name(target: Path, option: str | None) -> str:
    return f"{option} {target}" if option else str(target)


def _describe(path: Path) -> str:
    """What is at ``path``, in a few words ("a file of 12 bytes", "a symbolic link to x")."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "nothing"
    if stat.S_ISLNK(st.st_mode):
        return f"a symbolic link to {os.readlink(path)}"
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISREG(st.st_mode):
        return f"a file of {st.st_size:,} bytes"
    return "a special file (a pipe, socket or device)"


def written_files(folder: Path) -> dict[str, int] | None:
    """The files smsim wrote into ``folder`` (relative path -> size), from its marker; ``None``
    when the folder has no readable marker."""
    try:
        doc = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("written_by") != "smsim" or not isinstance(doc.get("files"), dict):
        return None
    files = doc["files"]
    return {str(k): int(v) for k, v in files.items() if isinstance(v, int)}


def foreign_entries(folder: str | os.PathLike) -> list[str]:
    """Entries of ``folder`` smsim did not write (relative paths; a few, not necessarily all).

    Empty for an empty folder and for a result folder exactly as smsim left it (files may have
    been removed since, none added or changed).
    """
    folder = Path(folder)
    listed = written_files(folder)
    foreign: list[str] = []
    seen = 0
    for root, dirs, files in os.walk(folder):
        rel_root = Path(root).relative_to(folder)
        for name in sorted(dirs):
            if os.path.islink(os.path.join(root, name)):
                foreign.append((rel_root / name).as_posix())
        for name in sorted(files):
            seen += 1
            rel = (rel_root / name).as_posix()
            if rel == MARKER and listed is not None:
                continue
            full = os.path.join(root, name)
            if (listed is None or rel not in listed or os.path.islink(full)
                    or os.lstat(full).st_size != listed[rel]):
                foreign.append(rel)
        if len(foreign) >= 5 or seen > _SCAN_LIMIT:
            break
    return foreign


def _nearest_existing(path: Path) -> Path:
    parent = path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    return parent


def _probe_writable(target: Path, folder: Path, option: str | None) -> None:
    """Create and remove a hidden file in ``folder``: the only check that holds for every user
    and file system (root, read-only mounts, network shares)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".smsim-probe-", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write to {target}{f' ({option})' if option else ''}: {folder}: "
                         f"{(exc.strerror or str(exc)).lower()}") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_output(
    target: str | os.PathLike,
    kind: str = "dir",
    *,
    force: bool = False,
    option: str | None = None,
    inputs: Iterable[str | os.PathLike | None] = (),
) -> Path:
    """Refuse (``InputError``, exit 2) an output path that writing would destroy or cannot write.

    ``kind`` is ``"dir"`` for a result folder, ``"file"`` for one file; ``option`` names the
    command-line option in messages; ``inputs`` are the command's input files, which an output
    may not replace. Nothing is changed on disk. Returns ``target`` as a :class:`Path`.
    """
    if kind not in ("dir", "file"):
        raise ValueError(f"kind must be 'dir' or 'file', not {kind!r}")
    target = Path(target)
    name = _name(target, option)
    if not str(target).strip():
        raise InputError(f"{option or 'the output path'} is empty; give a {'folder' if kind == 'dir' else 'file'} name")
    absolute = Path(os.path.abspath(target))
    real = Path(os.path.realpath(target))
    cwd = Path(os.path.realpath(os.getcwd()))
    if kind == "dir" and _within(cwd, real):
        raise InputError(f"{name} is the current folder (or holds it); smsim would replace it whole: "
                         "give a new folder name such as results")
    if absolute == Path(absolute.anchor) or target.name in ("", ".", ".."):
        raise InputError(f"{name} is not a name smsim can write to; give a new "
                         f"{'folder' if kind == 'dir' else 'file'} name such as results")
    for item in inputs:
        if item is None:
            continue
        source = Path(os.path.realpath(item))
        if _within(source, real):
            raise InputError(f"{name} {'holds' if source != real else 'is'} the input {item}; "
                             "writing there would destroy it: choose another path")
    what = _describe(absolute)
    if what.startswith("a symbolic link"):
        raise InputError(f"{name} is {what}; smsim does not write through links: give the real path "
                         "or a new name")
    if os.path.lexists(absolute):
        if kind == "dir":
            if what != "a folder":
                raise InputError(f"{name} is {what}, and smsim writes a folder there; a file is never "
                                 "replaced by a folder (not even with --force): choose another name")
            foreign = foreign_entries(absolute)
            if foreign and not force:
                shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
                raise InputError(f"{name} is a folder smsim did not write (it holds {shown}); nothing "
                                 "was changed. Choose a new folder, or pass --force to replace it and "
                                 "everything in it")
        else:
            if what == "a folder":
                raise InputError(f"{name} is a folder; smsim writes a file there: give a file name")
            if not what.startswith("a file"):
                raise InputError(f"{name} is {what}; smsim writes a regular file there: choose another name")
            if not force:
                raise InputError(f"{name} already exists ({what}); nothing was changed. Choose a new "
                                 "name, or pass --force to replace it")
    parent = _nearest_existing(absolute)
    if not os.path.isdir(parent):
        raise InputError(f"cannot write to {target}{f' ({option})' if option else ''}: {parent} is "
                         f"{_describe(parent)}, not a folder")
    _probe_writable(target, parent, option)
    return target


def check_folder_writable(folder: str | os.PathLike, *, option: str | None = None) -> Path:
    """A folder smsim adds to (a results store) is, or can be created as, a writable folder."""
    folder = Path(folder)
    absolute = Path(os.path.abspath(folder))
    if os.path.lexists(absolute) and not os.path.isdir(absolute):
        raise InputError(f"cannot write to {folder}{f' ({option})' if option else ''}: it is "
                         f"{_describe(absolute)}, not a folder")
    existing = absolute if os.path.isdir(absolute) else _nearest_existing(absolute)
    if not os.path.isdir(existing):
        raise InputError(f"cannot write to {folder}{f' ({option})' if option else ''}: {existing} is "
                         f"{_describe(existing)}, not a folder")
    _probe_writable(folder, existing, option)
    return folder


# -- writing -----------------------------------------------------------------------------------


def _make_parents(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write to {target}: {exc.strerror or exc}") from None


def _host() -> str:
    """This machine, as 8 hex digits (a host name may hold dots and dashes; a name must parse)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _writer_prefix(name: str) -> str:
    """``.<name>.w<pid>-<host>.``: a temporary's name says which process writes it, so a
    process killed midway can be told from one still writing (:func:`sweep_abandoned`)."""
    return f".{name}.w{os.getpid()}-{_host()}."


def _temp(target: Path, folder: bool) -> Path:
    """A hidden temporary sibling of ``target`` (same file system, so the final rename is atomic)."""
    prefix = _writer_prefix(target.name)
    try:
        if folder:
            tmp = tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=target.parent)
            os.chmod(tmp, 0o777 & ~_umask())
        else:
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
            os.close(fd)
            os.chmod(tmp, 0o666 & ~_umask())
    except OSError as exc:
        raise InputError(f"cannot write to {target}: {exc.strerror or exc}") from None
    return Path(tmp)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``);
    ``False`` where the OS or file system cannot."""
    libc = _libc()
    if libc is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


_LIBC: list = []


def _libc():
    if not _LIBC:
        lib = None
        with contextlib.suppress(OSError, AttributeError):
            candidate = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            if hasattr(candidate, "renameat2"):
                lib = candidate
        _LIBC.append(lib)
    return _LIBC[0]


def _write_marker(folder: Path) -> None:
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            full = Path(root) / name
            files[full.relative_to(folder).as_posix()] = full.lstat().st_size
    files.pop(MARKER, None)
    doc = {"written_by": "smsim", "files": dict(sorted(files.items()))}
    with open(folder / MARKER, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, indent=1) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _swap_in(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` at ``target``; the old one (if any) ends up removed."""
    if not os.path.lexists(target):
        _reached("rename")
        os.replace(tmp, target)
        return
    _reached("exchange")
    if _exchange(tmp, target):  # tmp now holds the old result
        _reached("remove-old")
        _remove_tree(tmp)
        return
    old = Path(tempfile.mkdtemp(prefix=_writer_prefix(target.name), suffix=".old", dir=target.parent))
    os.rmdir(old)
    _reached("move-old-aside")
    os.replace(target, old)
    try:
        _reached("rename")
        os.replace(tmp, target)
    except BaseException:
        if not os.path.lexists(target):
            os.replace(old, target)
        raise
    try:
        _reached("remove-old")
    finally:
        _remove_tree(old)


def _recover(target: Path) -> None:
    """Put back an old result that a swap without atomic exchange moved aside, when the process
    was killed before the new one arrived (an interrupt inside Python puts it back at once)."""
    if os.path.lexists(target) or not target.parent.is_dir():
        return
    olds = [p for p in target.parent.glob(f".{glob.escape(target.name)}.*.old") if p.is_dir()]
    for old in sorted(olds, key=lambda p: p.stat().st_mtime, reverse=True):
        with contextlib.suppress(OSError):
            os.replace(old, target)
            return


@contextlib.contextmanager
def atomic_dir(
    target: str | os.PathLike, *, force: bool = False, check: bool = True, option: str | None = None,
) -> Iterator[Path]:
    """Build a whole result folder in a temporary sibling and swap it in at the end.

    ``target`` is checked with :func:`check_output` first (``check=False`` only for paths smsim
    owns, such as a results store's run folders). The folder gets a ``_SUCCESS`` marker, written
    last, listing every file in it. On an exception or interrupt the temporary folder is removed
    and ``target`` keeps its old content.
    """
    target = Path(target)
    _recover(target)
    if check:
        check_output(target, "dir", force=force, option=option)
    _make_parents(target)
    tmp = _temp(target, folder=True)
    try:
        yield tmp
        _reached("marker")
        _write_marker(tmp)
        if check:
            _recheck(target, "dir", force, option, tmp)
        _swap_in(tmp, target)
        _reached("sync")
        _fsync_dir(target.parent)
    except BaseException:
        if os.path.lexists(tmp):
            _remove_tree(tmp)
        raise


class _Kept(InputError):
    """The output path changed while smsim worked; the new result was left in ``kept``."""


def _recheck(target: Path, kind: str, force: bool, option: str | None, tmp: Path) -> None:
    """Check ``target`` again just before the swap (someone may have put files there meanwhile);
    if it is refused now, keep the new result under a visible name instead of losing it."""
    try:
        check_output(target, kind, force=force, option=option)
    except InputError as exc:
        kept = target.with_name(f"{target.name}.new-{os.getpid()}")
        os.replace(tmp, kept)
        raise _Kept(f"{exc.message}; the new result was kept as {kept}") from None


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike, *, force: bool = False, check: bool = True, option: str | None = None,
) -> Iterator[Path]:
    """Yield a temporary file next to ``target``; on success it is renamed onto ``target``.

    ``target`` is checked with :func:`check_output` first (``check=False`` only for files smsim
    owns). On an exception (or KeyboardInterrupt) the temporary file is removed and ``target`` is
    left as it was.
    """
    target = Path(target)
    if check:
        check_output(target, "file", force=force, option=option)
    _make_parents(target)
    tmp_path = _temp(target, folder=False)
    try:
        yield tmp_path
        if check:
            _recheck(target, "file", force, option, tmp_path)
        _reached("rename")
        os.replace(tmp_path, target)
        _reached("sync")
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text(target: str | os.PathLike, text: str, **how) -> Path:
    """Write ``text`` to ``target`` atomically (``how``: the options of :func:`atomic_path`)."""
    with atomic_path(target, **how) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(target)


def write_bytes(target: str | os.PathLike, data: bytes, **how) -> Path:
    with atomic_path(target, **how) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(target)


def write_frame(target: str | os.PathLike, frame, fmt: str | None = None, **how) -> Path:
    """Write a pandas DataFrame as Parquet (default, by suffix) or CSV, atomically."""
    target = Path(target)
    fmt = fmt or ("csv" if target.suffix == ".csv" else "parquet")
    with atomic_path(target, **how) as tmp:
        if fmt == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    return target


def link_or_copy(source: str | os.PathLike, target: str | os.PathLike) -> bool:
    """Give the (new) ``target`` the contents of ``source``: a hard link (no bytes copied, no
    space used) where the filesystem allows it, else a copy. True when linked.

    Only for files smsim wrote whole and never changes in place (it replaces them), so the two
    names keep the same contents whichever is later replaced or removed."""
    try:
        os.link(source, target)
        return True
    except OSError:
        shutil.copyfile(source, target)
        return False


def discard_dir(folder: str | os.PathLike) -> None:
    """Remove a folder smsim owns (a results store's run): renamed away first, so it vanishes at
    once and a crash never leaves half of it under its name."""
    folder = Path(folder)
    trash = Path(tempfile.mkdtemp(prefix=_writer_prefix(folder.name), suffix=".removing", dir=folder.parent))
    os.rmdir(trash)
    os.replace(folder, trash)
    _remove_tree(trash)


# -- temporaries left by killed writers --------------------------------------------------------


def _started_at(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds, to about a second), where ``/proc`` says."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as fh:
            boot = next(float(line.split()[1]) for line in fh if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _writer_alive(pid: int, created_by: float) -> bool:
    """Whether process ``pid`` of this host may still be writing a temporary that existed at
    ``created_by``: it exists, and did not start after that (a later process only reuses the id)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    started = _started_at(pid)
    return started is None or started <= created_by + 2.0  # /proc's boot time is whole seconds


def _last_change(path: Path) -> float:
    """The newest modification time in ``path`` (a writer still at work keeps it recent)."""
    newest = os.lstat(path).st_mtime
    if os.path.isdir(path) and not os.path.islink(path):
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def temp_target(name: str) -> str | None:
    """The name a hidden temporary named ``name`` was to be renamed to (None: not a temporary)."""
    match = _TEMP_NAME.match(name)
    return match["target"] if match else None


def abandoned(folder: str | os.PathLike, *, older_than_s: float = ABANDONED_AFTER_S) -> list[Path]:
    """The hidden temporaries in ``folder`` whose writer is gone: killed midway, they would stay
    forever, since nothing reads them and nothing else removes them.

    A temporary written on this host is abandoned when the process named in it no longer runs
    (or runs but started after the temporary appeared: its id was reused). One from another host
    sharing the folder, or without a writer in its name, is abandoned only when nothing in it has
    changed for ``older_than_s`` seconds. A temporary of a process still running is never listed.
    An old result moved aside (``.old``) keeps the times of its files; it appeared at its rename,
    which set its inode's change time. One without a writer in its name is never listed: a
    hidden ``.notes.backup.old`` may be a user's, and the next write to its path puts such an
    old result back anyway.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now, host, found = time.time(), _host(), []
    for entry in sorted(folder.iterdir()):
        match = _TEMP_NAME.match(entry.name)
        if not match or (entry.name.endswith(".old") and match["pid"] is None):
            continue
        try:
            st = os.lstat(entry)
            appeared = max(st.st_mtime, st.st_ctime) if entry.name.endswith(".old") else st.st_mtime
            if match["pid"] is not None and match["host"] == host:
                gone = not _writer_alive(int(match["pid"]), appeared)
            else:
                gone = now - max(_last_change(entry), appeared) > older_than_s
        except FileNotFoundError:  # its writer finished meanwhile
            continue
        if gone:
            found.append(entry)
    return found


def _put_back(old: Path, target: Path) -> bool:
    """Rename ``old`` to ``target`` only if nothing is there (``renameat2(RENAME_NOREPLACE)``
    where the OS has it: a plain rename would replace an empty folder made meanwhile)."""
    libc = _libc()
    if libc is not None:
        at_fdcwd, rename_noreplace = -100, 1
        if libc.renameat2(at_fdcwd, os.fsencode(old), at_fdcwd, os.fsencode(target), rename_noreplace) == 0:
            return True
        if ctypes.get_errno() not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            return False
    if os.path.lexists(target):
        return False
    try:
        os.rename(old, target)
    except OSError:
        return False
    return True


def put_back_moved_aside(folder: str | os.PathLike, *, older_than_s: float = ABANDONED_AFTER_S) -> list[str]:
    """Rename back the old results that a swap without atomic exchange moved aside (``.old``)
    when its writer was killed before the new result arrived and nothing is at the name: the
    last complete result there, so it is restored, never removed. Returns the names restored."""
    olds = {}
    for old in abandoned(folder, older_than_s=older_than_s):
        with contextlib.suppress(FileNotFoundError):  # another sweep took it
            if old.name.endswith(".old"):
                olds[old] = os.lstat(old).st_ctime
    restored = []
    for old in sorted(olds, key=olds.get, reverse=True):  # the one moved aside last first
        target = old.with_name(temp_target(old.name))
        if not os.path.lexists(target) and _put_back(old, target):
            restored.append(target.name)
    return restored


def sweep_abandoned(folder: str | os.PathLike, *, older_than_s: float = ABANDONED_AFTER_S) -> list[str]:
    """Remove :func:`abandoned` temporaries; returns their names. Each is first renamed to a
    removal name of this process, so two sweeps never remove the same one and a sweep killed
    midway leaves a name the next sweep recognises. An old result moved aside (``.old``) is
    removed only when a complete result (one with smsim's marker) is at its name; without one
    it is left for :func:`put_back_moved_aside`."""
    removed = []
    for entry in abandoned(folder, older_than_s=older_than_s):
        if entry.name.endswith(".old") and written_files(entry.with_name(temp_target(entry.name))) is None:
            continue  # no complete result at its name: this may be the last one
        try:
            trash = Path(tempfile.mkdtemp(prefix=_writer_prefix("abandoned"), suffix=".removing", dir=entry.parent))
            os.rmdir(trash)
            os.replace(entry, trash)
        except OSError:  # another sweep took it, or it is not ours to remove: never fatal
            continue
        _remove_tree(trash)
        removed.append(entry.name)
    return removed
