"""Chronicle's domain: plain Python, no Django.

The development aggregate (`development`), its events (`events`), the content it carries
(`content`), the EDTF date subset (`edtf`) and the errors its invariants raise (`errors`).
"""
