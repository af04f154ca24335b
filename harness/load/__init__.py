"""crrsim load: L&P testing with locust. This package never imports locust (the pytest process
must not be gevent-patched): it builds the run, starts locust as a subprocess on the
locustfile in ``load/``, then judges what that run recorded (exact HDR histograms, SLOs,
the sandbox's integrity)."""
