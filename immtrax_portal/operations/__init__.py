"""What operators need from a running portal: health probes, readable logs, metrics.

Plain Python and Starlette, no Reflex pages: ``health`` and ``metrics`` are HTTP routes on the
port the portal serves; ``logs`` configures Python logging for every process of the server;
``log_context`` carries the request, event and actor ids a log line names; ``observation`` sets
them where requests and events start, and counts both for the metrics.
"""
