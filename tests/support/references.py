"""The authors' packages, built the way the chapters' parity tests compare against them."""

from __future__ import annotations

import contextlib
import io

import adabelief_pytorch


def adabelief(*, decoupled_weight_decay: bool = False, **kw):
    """adabelief_pytorch.AdaBelief with our flag name, rectification off, and quiet: a
    factory taking the parameters."""

    def build(params):
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its settings
            return adabelief_pytorch.AdaBelief(params, weight_decouple=decoupled_weight_decay,
                                               rectify=False, print_change_log=False, **kw)

    return build
