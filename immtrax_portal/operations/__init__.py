"""What operators need from a running portal: health probes, readable logs, metrics.

Plain Python and Starlette, no Reflex pages: ``health`` and ``metrics`` are HTTP routes on the
port the portal serves; ``logs`` configures Python logging for every process of the server.
"""
