"""The shared catalog: MARC import, text folding, ISBNs and search (seed rule N2)."""
