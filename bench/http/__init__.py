"""The shared HTTP load harness of the benchmarks: gunicorn launcher, load generator, spread report.

Why it exists: with two gunicorn workers on one listening socket, the kernel decides which worker accepts each
keep-alive connection, and a gthread worker accepts as many as it can — sometimes all 16 land on one worker's
four threads and the run measures half the server. So `servers.start` runs each worker as its own single-worker
gunicorn on its own port, and `loadgen.run` opens connection *i* to port *i mod workers*: the same even,
deterministic placement for the product and its baseline, every run. See docs/performance.md.
"""
