# powercut.py - the second half of a simulated power cut (imported by
# sched_crash.py, not a test itself): after a server that ran with
# tests/fault/vfs_powercut.c preloaded is killed with SIGKILL, undo() reads
# the shim's undo log and takes back, newest first, every write and
# truncate that no sync covered, so the database files are as a disk that
# lost its page cache would leave them.  vfs_powercut.c describes the log.
import os
import struct

HDR = struct.Struct("<IIQqqQ")  # type, file id, seq, a, b, n


def undo(log_path):
    """Undoes the unsynced writes logged in LOG_PATH; returns (writes and
    truncates undone, writes and truncates kept, bytes restored, {file
    name: writes undone})."""
    paths, live, marks, ops = {}, set(), {}, {}
    with open(log_path, "rb") as f:
        data = f.read()
    pos = 0
    while pos + HDR.size <= len(data):
        typ, fid, seq, a, b, n = HDR.unpack_from(data, pos)
        body = data[pos + HDR.size:pos + HDR.size + n]
        if len(body) < n:
            break  # a record the kill cut short: its write never happened
        pos += HDR.size + n
        typ = chr(typ)
        if typ == "O":
            paths[fid] = body.decode()
            live.add(fid)
        elif typ == "D":
            live.discard(fid)
        elif typ == "S":
            marks[fid] = max(marks.get(fid, 0), seq)
        else:
            ops.setdefault(fid, []).append((seq, typ, a, b, body))
    # Every open of a file has its own id; a file's writes and syncs are
    # those of all its live ids together.
    by_path = {}
    for fid in live:
        by_path.setdefault(paths[fid], []).append(fid)
    undone = kept = nbytes = 0
    per_file = {}
    for path, fids in by_path.items():
        durable = max(marks.get(fid, 0) for fid in fids)
        todo = sorted((op for fid in fids for op in ops.get(fid, [])), reverse=True)
        if not todo:
            continue
        fd = os.open(path, os.O_RDWR)
        try:
            for seq, typ, a, b, body in todo:
                if seq <= durable:
                    kept += 1
                    continue
                undone += 1
                nbytes += len(body)
                name = os.path.basename(path)
                per_file[name] = per_file.get(name, 0) + 1
                # 'W': the old bytes go back at offset a and the size back
                # to b; 'T': the bytes cut off go back at a (the size b).
                os.pwrite(fd, body, a)
                os.ftruncate(fd, b)
            os.fsync(fd)
        finally:
            os.close(fd)
    return undone, kept, nbytes, per_file
