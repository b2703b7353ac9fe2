"""gunicorn for the web tier: gthread workers (one process per core, 4 threads each), recycled
only after 100,000 ± 10,000 requests. Chosen by measurement (issue 10, part 6):

`wrk -t2 -c16 -d10s --latency`, 2 workers, production settings, the 1,000,000-request data set on
PostgreSQL; a bare Django view (same middleware) against the desk home and the request queue;
median of 3 runs (4 for the last pair), variants interleaved, on a shared 2-core machine with
other load (runs differ by ±30 %, so only large differences count):

    workers, recycling               bare view         desk home          queue
    sync, max_requests 2000 ± 200    315 req/s  176 ms   22 req/s  0.93 s   8.6 req/s  1.9 s*
    sync, no max_requests            514        89       18        1.44     8.3        2.0*
    gthread ×4, no max_requests      1060       117      43        0.85    13.9        1.8*
    sync, 100,000 ± 10,000           776        78       26        1.52     9.0        3.4
    gthread ×4, 100,000 ± 10,000     1183       150      55        0.71    18.1        1.7
    (req/s and p99; * capped by wrk's 2 s timeout in that run)

- Recycling every 2,000 requests was the worst setting: at ~1,000 req/s a worker restarts every
  few seconds and each restart re-imports Django (about a second of a core) while its share of
  the connections waits. The bare view lost a third to two thirds of its throughput (the demo
  database: 406 → 1,000–1,300 req/s without it), p99 up to 1.3 s.
- No recycling and 100,000 ± 10,000 measure the same (no restart happens within a run). The large
  limit stays as a safety net against slow memory growth of a long-lived process; the jitter keeps
  the workers from restarting together. At a library's real load that is one worker restarting
  every few hours.
- gthread against sync: at scale the desk pages wait on PostgreSQL, and threads keep the cores
  busy meanwhile: about twice the throughput and half the p99 of sync workers on the desk home and
  the queue. The bare view's p99 is somewhat higher with threads (they share the GIL) but stays well
  below the pages'. Each thread holds its own database connection: workers × threads in all.

nginx in front (README) buffers slow clients, which is what sync workers would otherwise need.

Long links (issue 12): the request line is limited to 8,190 bytes, gunicorn's largest finite
limit (`limit_request_line`; 0 would mean no limit at all, and a client could then make a worker
thread buffer a request line of any size: a memory DoS when nothing in front caps it). OpenURL links
are usually well under 2 KB; one that carries a long author list or abstract can pass 8 KB. Such a
link does not get gunicorn's bare "414 URI Too Long" but `templates/414.html`, which says what to
do and, for an OpenURL link, posts the citation again as a form (`static/js/openurl-repost.js`):
`/openurl` accepts POST, the standard HTTP transport of OpenURL 1.0 KEV by value, which has no
length limit short of `DATA_UPLOAD_MAX_MEMORY_SIZE`.
"""

import multiprocessing
import os
from pathlib import Path

from gunicorn import util
from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
limit_request_line = int(os.environ.get("GUNICORN_LIMIT_REQUEST_LINE", 8190))
PAGE_414 = (Path(__file__).resolve().parent / "templates" / "414.html").read_bytes()


class Worker(ThreadWorker):
    """gthread, answering a request line over `limit_request_line` with templates/414.html."""

    def handle_error(self, req, client, addr, exc):
        if not isinstance(exc, LimitRequestLine):
            return super().handle_error(req, client, addr, exc)
        self.log.warning("Request line too long from ip=%s: %s", (addr or ("",))[0], exc)
        head = (
            "HTTP/1.1 414 URI Too Long\r\n"
            "Connection: close\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(PAGE_414)}\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + PAGE_414)
        except Exception:  # the client went away: nothing to tell it
            self.log.debug("Failed to send the 414 page.")
        return None


worker_class = Worker
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
