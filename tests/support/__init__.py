"""Code the tests share: the chapter catalogue and the two-optimizer parity harness."""
