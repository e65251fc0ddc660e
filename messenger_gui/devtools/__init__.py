"""Developer tools that are not part of the product: ``make demo`` (:mod:`.local_demo`), the
demo history (:mod:`.demo`), the README's screenshots (:mod:`.screenshots`) and the
measurements of ``docs/benchmarks.md`` (:mod:`.perf`).

They run from a source checkout (``python -m messenger_gui.devtools.<tool>``). The wheel and
the PyInstaller bundle leave this package out, and no product module imports it
(``tests/test_layers.py`` and ``tests/test_packaging.py`` check both). Unlike the product,
a tool may import the server's modules (they start servers) and Qt (they drive the real
window).
"""
