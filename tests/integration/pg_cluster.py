# pg_cluster.py - tests/support/pg_cluster.sh for the Python tests (imported,
# not a test itself): a throwaway PostgreSQL cluster on a Unix socket in a
# directory of the test's own, stopped and removed by stop() - or by the
# shell harness's watchdog once this Python process is gone, however it
# ended.
#
#   c = pg_cluster.start(os.path.join(work, "pg"))   # SystemExit(77) without PostgreSQL
#   c.uri                                            # postgresql:///ozma?host=...&user=postgres
#   c.restart()                                      # pg_ctl restart -m immediate
#   c.stop_server(); c.start_server()                # down and up again, same data
#   c.stop()                                         # the server ended, the directory removed
import os
import subprocess

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support",
                       "pg_cluster.sh")


class Cluster:
    def __init__(self, directory, uri, restart, stop, start):
        self.dir, self.uri = directory, uri
        self._restart, self._stop, self._start = restart, stop, start

    def _run(self, cmd, what):
        r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=90)
        if r.returncode != 0:
            raise RuntimeError("%s: %s: %s" % (what, cmd, r.stderr.strip()))

    def restart(self):
        self._run(self._restart, "pg_ctl restart -m immediate")

    def stop_server(self):
        self._run(self._stop, "pg_ctl stop")

    def start_server(self):
        self._run(self._start, "pg_ctl start")

    def stop(self):
        subprocess.run(["bash", "-c", 'source "$1"; pg_cluster_stop "$2"', "_", HARNESS, self.dir],
                       timeout=90)


def start(directory):
    """A cluster in directory (which must not exist; its parent is the
    test's scratch directory)."""
    env = dict(os.environ, PG_CLUSTER_WATCH_PID=str(os.getpid()))
    script = ('source "$1"; pg_cluster_start "$2" >/dev/null || exit; '
              'printf "%s\\n" "$PG_URI" "$PG_RESTART" "$PG_STOP" "$PG_START"')
    r = subprocess.run(["bash", "-c", script, "_", HARNESS, directory], env=env,
                       capture_output=True, text=True, timeout=120)
    if r.returncode == 77:
        print(r.stdout.strip())
        raise SystemExit(77)
    if r.returncode != 0:
        raise RuntimeError("pg_cluster_start: " + (r.stderr.strip() or r.stdout.strip()))
    uri, restart, stop, start_cmd = r.stdout.splitlines()[-4:]
    return Cluster(directory, uri, restart, stop, start_cmd)
