"""Renderers: turn a trace into rich renderables, JSON, Markdown or LaTeX, and return them."""

from __future__ import annotations

from backprop_cli.render.numbers import Numbers, number, written

__all__ = ["Numbers", "number", "written"]
