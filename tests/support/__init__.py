"""Code the tests share, imported as `support.<module>` (`tests/` is on pytest's path):
the chapter catalogue, the parity harness, the local site, distributed workers."""
