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
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
max_requests = 100_000
max_requests_jitter = 10_000
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
